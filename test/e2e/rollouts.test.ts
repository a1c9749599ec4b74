/**
 * Rollouts against a real `wrangler dev` (issue 15's three scenarios), plain HTTP as an operator and
 * clients would use it, the minute cron fired through /cdn-cgi/handler/scheduled:
 *  - a good candidate (the production model published again) goes 5 → 25 → 50 → 100 and is
 *    promoted; the alias history reads back every step with its evidence;
 *  - a broken candidate (its model.onnx corrupted in R2 after publishing) aborts at the first step,
 *    and clients see no non-2xx answer: the primary answered every canary failure;
 *  - a shifted candidate (trained on data whose monthly_charges are shifted) aborts on the score check.
 * (A shift of +40 alone moved its scores too little for the KS test at 200 rows a side: p ≈ 0.03.)
 * step_minutes 0 moves a step on as soon as its checks pass, so the test runs in real time.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../worker/contract/manifest";
import { artifactKey } from "../../worker/registry/r2-keys";
import { publishVersion } from "../../worker/registry/publish-version";
import type { RolloutView } from "../../worker/rollouts/rollouts";
import { applyLocalMigrations, localPublishTarget, withLocalBindings } from "../../trainer/local-registry";
import { startWranglerDev, type WranglerDev } from "../../scripts/lib/wrangler-dev-server";
import { cachedFixtureModels } from "../fixtures/fixture-cache";
import { trainFixtureModel } from "../fixtures/trained-model";

const TOKEN = "e2e-rollout-admin-token-0123456789abcdef";
const MODELS = { good: "rollout-good", broken: "rollout-broken", shifted: "rollout-shifted" } as const;

let dir: string;
let server: WranglerDev | undefined;
let base: string;
let rows: Manifest["golden"][number]["input"][];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "e2e-rollouts-"));
  const [trained] = await cachedFixtureModels("churn-trained");
  rows = trained!.manifest.golden.map((g) => g.input);
  // Trained like the production model, on rows whose monthly_charges are shifted up (x 1.5 + 40): on
  // today's customers, whose charges look low to it, its scores differ.
  const shifted = await trainFixtureModel("trained", {
    name: MODELS.shifted,
    mapRow: (row) => ({ ...row, monthly_charges: typeof row.monthly_charges === "number" ? row.monthly_charges * 1.5 + 40 : row.monthly_charges }),
  });
  applyLocalMigrations(dir);
  await withLocalBindings(async (env) => {
    const publish = (manifest: Manifest, onnx: Uint8Array, explainer: string | undefined, aliases: string[]) =>
      publishVersion(localPublishTarget(env), { manifest, onnx, explainer, createdBy: "e2e", aliases });
    for (const name of Object.values(MODELS)) {
      const manifest = { ...structuredClone(trained!.manifest), name };
      await publish(manifest, trained!.onnx, trained!.explainer, ["production"]);
      if (name === MODELS.shifted) await publish(shifted.manifest, shifted.onnx, shifted.explainer, []);
      else await publish(manifest, trained!.onnx, trained!.explainer, []);
    }
    // The broken candidate's artifact no longer matches its checksum: it cannot load.
    const key = artifactKey(MODELS.broken, 2, "model.onnx");
    const bytes = new Uint8Array(await (await env.MODELS.get(key))!.arrayBuffer());
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await env.MODELS.put(key, bytes);
  }, dir);
  server = await startWranglerDev(dir, { DEFAULT_MODEL: MODELS.good, ADMIN_TOKEN: TOKEN, SAMPLE_RATE: "1", METRICS_FLUSH_MS: "0", RESOLVE_CACHE_TTL_MS: "0" });
  base = server.base;
}, 240_000);

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const admin = (path: string, body: unknown) =>
  fetch(`${base}${path}`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body) });

async function startRollout(name: string, steps: number[]): Promise<RolloutView> {
  const res = await admin(`/admin/models/${name}/rollouts`, { version: 2, steps, step_minutes: 0, min_requests: 10, checks: { min_scores: 10 }, reason: "e2e" });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as RolloutView;
}

/** n one-row predictions through the default alias, 20 at a time; every status and arm. */
async function traffic(name: string, n: number) {
  const answers: { status: number; arm: string | null; fallback: string | null }[] = [];
  for (let i = 0; i < n; i += 20) {
    const chunk = await Promise.all(
      Array.from({ length: Math.min(20, n - i) }, (_, k) =>
        fetch(`${base}/models/${name}/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(rows[(i + k) % rows.length]) }),
      ),
    );
    for (const res of chunk) {
      await res.arrayBuffer();
      answers.push({ status: res.status, arm: res.headers.get("x-model-arm"), fallback: res.headers.get("x-canary-fallback") });
    }
  }
  // Sampled rows leave through the queue (a 100 ms window, then up to a 1 s batch): let them land.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  return answers;
}

async function fireCron(): Promise<void> {
  const res = await fetch(`${base}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("* * * * *")}`);
  expect(res.status).toBe(200);
  await res.arrayBuffer();
}

async function latest(name: string): Promise<RolloutView> {
  const res = await fetch(`${base}/models/${name}/rollouts`);
  return ((await res.json()) as { rollouts: RolloutView[] }).rollouts[0]!;
}

describe("rollouts under wrangler dev", () => {
  it("a good candidate goes 5 → 25 → 50 → 100 and is promoted, every step in the alias history with its evidence", async () => {
    await startRollout(MODELS.good, [5, 25, 50, 100]);
    const volume = { 5: 600, 25: 200, 50: 120, 100: 60 } as Record<number, number>;
    for (const percent of [5, 25, 50, 100]) {
      const answers = await traffic(MODELS.good, volume[percent]!);
      expect(answers.every((a) => a.status === 200)).toBe(true);
      await fireCron();
      const rollout = await latest(MODELS.good);
      expect(rollout.status, JSON.stringify(rollout.last_evaluation)).toBe(percent === 100 ? "promoted" : "active");
    }
    const done = await latest(MODELS.good);
    expect(done.timeline.map((e) => [e.decision, e.percent])).toEqual([
      ["started", 5],
      ["advanced", 25],
      ["advanced", 50],
      ["advanced", 100],
      ["promoted", 100],
    ]);
    for (const e of done.timeline.slice(1)) expect(e.evaluation!.decision).toBe("pass");
    const history = (await (await fetch(`${base}/models/${MODELS.good}/aliases`)).json()) as { history: { alias: string; to: number | null; evidence: Record<string, unknown> | null }[] };
    const canary = history.history.filter((h) => h.alias === "canary");
    expect(canary.map((h) => [h.to, h.evidence?.percent])).toEqual([
      [2, 5],
      [2, 25],
      [2, 50],
      [2, 100],
      [null, 100],
    ]);
    expect(canary.slice(1, 4).every((h) => (h.evidence?.evaluation as { decision: string }).decision === "pass")).toBe(true);
    expect(canary[4]!.evidence).toMatchObject({ decision: "promoted", rollout: done.id });
    const production = history.history.filter((h) => h.alias === "production").at(-1)!;
    expect(production.to).toBe(2);
    expect(production.evidence).toMatchObject({ rollout: done.id, steps: [5, 25, 50, 100] });
    const served = await fetch(`${base}/models/${MODELS.good}/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(rows[0]) });
    expect(served.headers.get("x-model-version")).toBe("2");
  }, 180_000);

  it("a broken candidate aborts at its first step, and clients saw zero non-2xx answers", async () => {
    await startRollout(MODELS.broken, [50, 100]);
    const answers = await traffic(MODELS.broken, 120);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(answers.filter((a) => a.fallback === "1").length).toBeGreaterThanOrEqual(10);
    await fireCron();
    const rollout = await latest(MODELS.broken);
    expect(rollout).toMatchObject({ status: "aborted", end_reason: "step 1 failed error_rate" });
    const policy = (await (await fetch(`${base}/models/${MODELS.broken}/traffic`)).json()) as { canary: unknown };
    expect(policy.canary).toBeNull();
    const after = await traffic(MODELS.broken, 20);
    expect(after.every((a) => a.status === 200 && a.arm === "primary" && a.fallback === null)).toBe(true);
  }, 120_000);

  it("a candidate trained on shifted monthly_charges aborts on the score check", async () => {
    await startRollout(MODELS.shifted, [50, 100]);
    await traffic(MODELS.shifted, 400);
    await fireCron();
    const rollout = await latest(MODELS.shifted);
    expect(rollout.status, JSON.stringify(rollout.last_evaluation)).toBe("aborted");
    const psi = rollout.timeline.at(-1)!.evaluation!.checks.find((c) => c.name === "score_psi")!;
    expect(psi.pass).toBe(false);
    expect(psi.canary!).toBeGreaterThan(0.2);
    expect(psi.p_value!).toBeLessThan(0.01);
  }, 120_000);
});
