/**
 * Rollouts end to end in workerd (real D1, R2, ORT, metrics and the observation queue): the minute
 * cron fired with explicit times judges real traffic. A good candidate goes step by step to
 * promotion with the evidence in the alias history; a broken one aborts at its first step while
 * every client answer is 200; a candidate whose scores differ aborts on the score check; refusals
 * write nothing; a cron firing twice in a minute moves a rollout once.
 */
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openDb } from "../../worker/db/open-db";
import { clearResolveCache } from "../../worker/registry/resolve-cache";
import { ROLLOUT_CRON } from "../../worker/rollouts/rollout-cron";
import { type RolloutBody, rolloutBodySchema, type RolloutView, startRollout } from "../../worker/rollouts/rollouts";
import worker from "../../worker/index";
import { adminJson, corruptArtifact, type Envelope, failingFields, get, observationsSettled, registerFixture, requestApp, VALID_ROW } from "./helpers";

const MINUTE = 60_000;

async function fireRolloutCron(scheduledTime: number) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime, cron: ROLLOUT_CRON }), env, ctx);
  await waitOnExecutionContext(ctx);
  // Requests after a step route by the new percent at once.
  clearResolveCache();
}

/** A model whose production is the forest fixture and whose version 2 is `candidate`. */
async function modelWithCandidate(candidate: "forest" | "logistic" = "forest"): Promise<string> {
  const { manifest } = await registerFixture("forest");
  await registerFixture(candidate, { name: manifest.name, aliases: [] });
  return manifest.name;
}

/** Starts a rollout whose first step began `ago` ms before now (the cron's clock is real time here). */
async function started(name: string, body: Partial<RolloutBody>, ago = 2 * MINUTE): Promise<RolloutView> {
  const parsed = rolloutBodySchema.parse({ version: 2, steps: [50, 100], step_minutes: 1, min_requests: 20, reason: "test", checks: { min_scores: 10 }, ...body });
  const rollout = await startRollout(openDb(env.DB), { ...parsed, name, by: "test", now: Date.now() - ago, defaultAlias: "production" });
  clearResolveCache();
  return rollout;
}

/** n sampled one-row requests through the default alias; their statuses and arms. */
async function traffic(name: string, n: number) {
  const answers: { status: number; arm: string | null; fallback: string | null }[] = [];
  for (let i = 0; i < n; i += 20) {
    const chunk = await Promise.all(
      Array.from({ length: Math.min(20, n - i) }, (_, k) =>
        requestApp(`/models/${name}/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...VALID_ROW, tenure: (i + k) % 70 }) }, { SAMPLE_RATE: "1" }),
      ),
    );
    for (const res of chunk) answers.push({ status: res.status, arm: res.headers.get("x-model-arm"), fallback: res.headers.get("x-canary-fallback") });
  }
  await observationsSettled();
  return answers;
}

const current = async (name: string) => (await (await get(`/models/${name}/rollouts/current`)).json()) as RolloutView;
const history = async (name: string) => ((await (await get(`/models/${name}/rollouts`)).json()) as { rollouts: RolloutView[] }).rollouts;

async function aliasHistory(name: string) {
  const { results } = await env.DB.prepare("SELECT alias, from_version, to_version, changed_by, reason, evidence FROM alias_history WHERE model_name = ? ORDER BY id").bind(name).all<Record<string, unknown>>();
  return results.map((r) => ({ ...r, evidence: r.evidence === null ? null : (JSON.parse(r.evidence as string) as Record<string, unknown>) })) as (Record<string, unknown> & { evidence: Record<string, unknown> | null })[];
}

describe("a rollout judged by the minute cron", () => {
  it("a good candidate goes 50 → 100 → promoted; the alias history reads back every step with its evidence", async () => {
    const name = await modelWithCandidate("forest");
    await started(name, { steps: [50, 100] });
    const first = await traffic(name, 100);
    expect(first.every((a) => a.status === 200)).toBe(true);
    expect(new Set(first.map((a) => a.arm))).toEqual(new Set(["primary", "canary"]));

    await fireRolloutCron(Date.now());
    let rollout = await current(name);
    expect(rollout).toMatchObject({ status: "active", step: 2, percent: 100 });
    expect(rollout.timeline.map((e) => e.decision)).toEqual(["started", "advanced"]);
    const evaluation = rollout.timeline[1]!.evaluation!;
    expect(evaluation.decision).toBe("pass");
    expect(evaluation.checks.map((c) => c.name)).toEqual(["requests", "error_rate", "latency_p95", "score_psi", "realized_auc"]);
    const requests = evaluation.checks[0]!;
    expect(requests.primary! + requests.canary!).toBe(100);

    // Step 2 (100%): every request goes to the canary; the primary is judged on the whole rollout.
    const second = await traffic(name, 30);
    expect(second.every((a) => a.status === 200 && a.arm === "canary")).toBe(true);
    // Less than step_minutes into the step: it waits however good it looks.
    await fireRolloutCron(Date.now());
    expect((await current(name)).step).toBe(2);
    await fireRolloutCron(Date.now() + 2 * MINUTE);
    const [done] = await history(name);
    expect(done).toMatchObject({ status: "promoted", end_reason: "all 2 steps passed" });
    expect((await get(`/models/${name}/rollouts/current`)).status).toBe(404);

    const moves = await aliasHistory(name);
    const canary = moves.filter((m) => m.alias === "canary");
    expect(canary.map((m) => [m.from_version, m.to_version])).toEqual([
      [null, 2],
      [2, 2],
      [2, null],
    ]);
    expect(canary[0]!.evidence).toMatchObject({ percent: 50, rollout: done!.id, step: 1 });
    expect(canary[1]!.evidence).toMatchObject({ percent: 100, step: 2, evaluation: { decision: "pass" } });
    expect(canary[2]!.evidence).toMatchObject({ decision: "promoted" });
    const production = moves.filter((m) => m.alias === "production");
    expect(production.at(-1)).toMatchObject({ from_version: 1, to_version: 2, changed_by: "rollout" });
    expect((production.at(-1)!.evidence as { evaluation: { decision: string } }).evaluation.decision).toBe("pass");
    const res = await requestApp(`/models/${name}/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(VALID_ROW) });
    expect([res.headers.get("x-model-version"), res.headers.get("x-model-arm")]).toEqual(["2", "primary"]);
  });

  it("a broken candidate aborts at its first step, and no client saw a non-2xx answer", async () => {
    const name = await modelWithCandidate("forest");
    await corruptArtifact(name, 2);
    await started(name, { steps: [50, 100] });
    const answers = await traffic(name, 80);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(answers.every((a) => a.arm === "primary")).toBe(true);
    expect(answers.filter((a) => a.fallback === "1").length).toBeGreaterThan(20);
    await fireRolloutCron(Date.now());
    const [aborted] = await history(name);
    expect(aborted).toMatchObject({ status: "aborted", end_reason: "step 1 failed error_rate" });
    const error = aborted!.timeline.at(-1)!.evaluation!.checks.find((c) => c.name === "error_rate")!;
    expect(error).toMatchObject({ primary: 0, canary: 1, pass: false });
    const canary = (await aliasHistory(name)).filter((m) => m.alias === "canary");
    expect(canary.at(-1)).toMatchObject({ from_version: 2, to_version: null, changed_by: "rollout" });
    expect(canary.at(-1)!.evidence).toMatchObject({ decision: "aborted", evaluation: { decision: "fail" } });
    const policy = (await (await get(`/models/${name}/traffic`)).json()) as { canary: unknown };
    expect(policy.canary).toBeNull();
  });

  it("a candidate whose scores differ from the primary's aborts on the score check", async () => {
    const name = await modelWithCandidate("logistic");
    await started(name, { steps: [50, 100], checks: { ...rolloutBodySchema.shape.checks.parse(undefined), min_scores: 10, max_score_psi: 0.1 } });
    await traffic(name, 100);
    await fireRolloutCron(Date.now());
    const [aborted] = await history(name);
    expect(aborted!.status).toBe("aborted");
    const psi = aborted!.timeline.at(-1)!.evaluation!.checks.find((c) => c.name === "score_psi")!;
    expect(psi.pass).toBe(false);
    expect(psi.canary!).toBeGreaterThan(0.1);
    expect(aborted!.end_reason).toContain("score_psi");
  });

  it("waits below min_requests, and a cron firing twice in one minute evaluates once", async () => {
    const name = await modelWithCandidate("forest");
    await started(name, { steps: [50, 100], min_requests: 1000 });
    await traffic(name, 40);
    const at = Date.now();
    await fireRolloutCron(at);
    const waiting = await current(name);
    expect(waiting.step, JSON.stringify(waiting)).toBe(1);
    expect(waiting.last_evaluation).toMatchObject({ decision: "wait" });
    expect(waiting.last_evaluation!.checks[0]).toMatchObject({ name: "requests", pass: null, blocking: true });
    // The same minute again: skipped, not evaluated a second time.
    const before = await env.DB.prepare("SELECT last_evaluation FROM rollouts WHERE id = ?").bind(waiting.id).first<{ last_evaluation: string }>();
    await fireRolloutCron(at + 1_000);
    const after = await env.DB.prepare("SELECT last_evaluation FROM rollouts WHERE id = ?").bind(waiting.id).first<{ last_evaluation: string }>();
    expect(after).toEqual(before);
  });
});

describe("starting and aborting through the admin API", () => {
  async function tables(name: string) {
    const read = async (sql: string) => (await env.DB.prepare(sql).bind(name).all()).results;
    return {
      rollouts: await read("SELECT * FROM rollouts WHERE model_name = ?"),
      aliases: await read("SELECT * FROM aliases WHERE model_name = ?"),
      history: await read("SELECT * FROM alias_history WHERE model_name = ?"),
      policy: await read("SELECT * FROM traffic_policies WHERE model_name = ?"),
    };
  }

  it("refusals write nothing: unknown or archived version, the version already serving, steps not increasing, a rollout already active", async () => {
    const name = await modelWithCandidate("forest");
    await registerFixture("forest", { name, aliases: [] });
    expect((await adminJson("POST", `/admin/models/${name}/versions/3/archive`, { reason: "test" })).status).toBe(200);
    const before = await tables(name);
    const start = (body: Record<string, unknown>) => adminJson("POST", `/admin/models/${name}/rollouts`, { version: 2, steps: [10, 100], reason: "r", ...body });
    expect((await start({ version: 9 })).status).toBe(404);
    expect((await start({ version: 3 })).status).toBe(409);
    expect((await start({ version: 1 })).status).toBe(409);
    const bad = await start({ steps: [25, 10] });
    expect(bad.status).toBe(422);
    expect(failingFields((await bad.json()) as Envelope)).toEqual(["steps"]);
    expect((await start({ steps: [0, 100] })).status).toBe(422);
    expect(await tables(name)).toEqual(before);

    const ok = await start({});
    expect(ok.status).toBe(201);
    const rollout = (await ok.json()) as RolloutView;
    expect(rollout).toMatchObject({ version: 2, primary_version: 1, status: "active", step: 1, percent: 10, steps: [10, 100] });
    const during = await tables(name);
    const again = await start({});
    expect(again.status).toBe(409);
    expect(((await again.json()) as Envelope).error.message).toContain("already has an active rollout");
    expect(await tables(name)).toEqual(during);

    const aborted = await adminJson("POST", `/admin/models/${name}/rollouts/${rollout.id}/abort`, { reason: "changed my mind" });
    expect(aborted.status).toBe(200);
    expect((await aborted.json()) as RolloutView).toMatchObject({ status: "aborted", end_reason: "changed my mind" });
    expect((await adminJson("POST", `/admin/models/${name}/rollouts/${rollout.id}/abort`, { reason: "again" })).status).toBe(409);
    const policy = (await (await get(`/models/${name}/traffic`)).json()) as { canary: unknown };
    expect(policy.canary).toBeNull();
    expect((await adminJson("POST", `/admin/models/${name}/rollouts`, { version: 2, steps: [10, 100], reason: "r" }, { token: null })).status).toBe(401);
  });
});
