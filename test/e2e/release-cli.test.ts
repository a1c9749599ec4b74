/**
 * The release commands against a real `wrangler dev` (admin token set with --var): two runs
 * trained by the real trainer, published over HTTP, gated in Node ORT against what production
 * serves, promoted with the gate's evidence, a 20% canary and a shadow of the candidate, promoted,
 * rolled back; then the alias history read back over HTTP. Error paths name their cause and leave the registry as it was. The command functions run
 * in-process; the CLI binary is spawned where exit codes are the point.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { archiveModelVersion } from "../../trainer/commands/archive";
import { gateRun } from "../../trainer/commands/gate";
import { promoteVersion } from "../../trainer/commands/promote";
import { publishRun } from "../../trainer/commands/publish";
import type { RegistryTarget } from "../../trainer/commands/registry-args";
import { rollbackAlias } from "../../trainer/commands/rollback";
import { shadowReport, trafficPolicy } from "../../trainer/commands/traffic";
import { listVersions } from "../../trainer/commands/versions";
import { parseConfig } from "../../trainer/config";
import { generateChurnRows, toCsv } from "../../trainer/data/synthetic";
import type { GateEvidence } from "../../trainer/gate/run-release-gate";
import { runTraining } from "../../trainer/pipeline/train-run";
import { applyLocalMigrations, withLocalBindings } from "../../trainer/local-registry";
import { openDb } from "../../worker/db/open-db";
import { aliasHistoryFor } from "../../worker/registry/aliases";
import { PROJECT_ROOT } from "../../trainer/offline-env";
import { freePort, startWranglerDev, type WranglerDev } from "../../scripts/lib/wrangler-dev-server";
import { runCommand } from "../helpers/run-command";

const TOKEN = "release-cli-test-token-0123456789";
/** The chain test owns NAME from an empty registry; the failure tests use OTHER. */
const NAME = "churn-release";
const OTHER = "churn-release-errors";

let dir: string;
let server: WranglerDev | undefined;
let base: string;
/** Per model name, a weak and a stronger model: same data and split settings, so the same validation rows. */
type Run = { dir: string; config: string };
const runs: Record<"weak" | "strong" | "otherWeak" | "otherStrong", Run> = {} as never;

function configFor(name: string, model: Record<string, unknown>) {
  return {
    mlflow: { model_name: name },
    data: { train_path: "train.csv", target_column: "churned" },
    features: {
      numeric: ["tenure", "monthly_charges", "total_charges", "num_products"],
      categorical: ["contract_type", "payment_method", "internet_service"],
      columns: { total_charges: { nullable: true, missing: "median" } },
    },
    training: { val_size: 0.25, random_state: 11, golden_rows: 20, reference_sample_size: 50 },
    model,
    output: { label: "churn" },
    gate: { min_roc_auc: 0.6, auc_margin: 0.005 },
  };
}

const WEAK = { type: "random_forest", n_estimators: 2, max_depth: 1 };
const STRONG = { type: "random_forest", n_estimators: 30, max_depth: 6 };

async function train(label: string, name: string, model: Record<string, unknown>): Promise<Run> {
  const configPath = join(dir, `${label}.yaml`);
  const text = stringify(configFor(name, model));
  await writeFile(configPath, text);
  const result = await runTraining(parseConfig(configFor(name, model)), { configText: text, baseDir: dir, artifactsDir: join(dir, `artifacts-${label}`) });
  return { dir: result.dir, config: configPath };
}

const target = (extra: Partial<RegistryTarget> = {}): RegistryTarget => ({ registry: base, by: "e2e-ci", env: { ADMIN_TOKEN: TOKEN }, ...extra });

async function registryState(name: string) {
  const model = await (await fetch(`${base}/models/${name}`)).json();
  const history = await fetch(`${base}/models/${name}/aliases/production/history`);
  return { model, history: history.status === 200 ? await history.json() : history.status };
}

/** The CLI as a user runs it; resolves with the exit code instead of throwing on a non-zero one. */
function cli(args: string[], env: Record<string, string> = {}) {
  return runCommand("npx", ["tsx", "trainer/cli.ts", ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ADMIN_TOKEN: "", REGISTRY_URL: "", ...env } });
}

interface Served {
  entity: string;
  version: string | null;
  arm: string | null;
  requestId: string;
  probability: number;
}

/** Runs fn over items with at most `limit` in flight, keeping the order. */
async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** Customers as the edge sees them: the model's features and a customer_id (not a feature). */
const customers = generateChurnRows({ rows: 1000, seed: 23 }).map(({ churned: _label, ...row }, i) => ({ ...row, customer_id: `cust-${i}` }));

/** One /predict (default model, default alias): the entity by body field or by x-entity-id header. */
async function predictAs(i: number, byHeader: boolean): Promise<Served> {
  const { customer_id, ...features } = customers[i]!;
  const res = await fetch(`${base}/predict`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(byHeader ? { "x-entity-id": customer_id } : {}) },
    body: JSON.stringify(byHeader ? features : customers[i]),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  const body = JSON.parse(text) as { churn_probability: number; request_id: string };
  return { entity: customer_id, version: res.headers.get("x-model-version"), arm: res.headers.get("x-model-arm"), requestId: body.request_id, probability: body.churn_probability };
}

/**
 * Step 4 and 5 of the release chain, with v1 in production: a 20% canary of v2 over 1,000 distinct
 * customers (half named in the body's customer_id, half by the x-entity-id header), 200 of them
 * asked again the other way; then v2 as a shadow (through the CLI binary) and its paired outputs
 * read back and checked against each version scored directly.
 */
async function canaryAndShadow() {
  const canary = await trafficPolicy(NAME, { canaryVersion: 2, percent: 20, entityField: "customer_id", reason: "canary v2", target: target() });
  expect(canary).toMatchObject({ primary: { alias: "production", version: 1 }, canary: { version: 2, percent: 20 }, shadow: null, entity_field: "customer_id" });
  const first = await mapConcurrent(customers.map((_, i) => i), 16, (i) => predictAs(i, i % 2 === 1));
  const share = first.filter((s) => s.arm === "canary").length / first.length;
  expect(Math.abs(share - 0.2), `canary share ${share}`).toBeLessThanOrEqual(0.05);
  for (const s of first) expect([s.version, s.arm]).toEqual(s.arm === "canary" ? ["2", "canary"] : ["1", "primary"]);
  const repeated = Array.from({ length: 200 }, (_, k) => (k * 7) % 1000);
  const again = await mapConcurrent(repeated, 16, (i) => predictAs(i, i % 2 === 0));
  again.forEach((s, k) => expect(s.version, `${s.entity} moved`).toBe(first[repeated[k]!]!.version));

  const shadowCli = await cli(["traffic", NAME, "--shadow-version", "2", "--sample-rate", "1", "--reason", "shadow v2", "--registry", base, "--by", "e2e-ci", "--json"], {
    ADMIN_TOKEN: TOKEN,
  });
  expect(shadowCli.code, shadowCli.stderr).toBe(0);
  expect(JSON.parse(shadowCli.stdout)).toMatchObject({ canary: { version: 2, percent: 20 }, shadow: { version: 2, sample_rate: 1 } });
  // Customers the split keeps on v1: each request is scored by v2 after the response.
  const onPrimary = first.filter((s) => s.arm === "primary").slice(0, 40).map((s) => Number(s.entity.slice(5)));
  const shadowed = await mapConcurrent(onPrimary, 8, (i) => predictAs(i, false));
  let report = await shadowReport(NAME, { limit: 100, target: target() });
  for (let tries = 0; report.summary.count < shadowed.length && tries < 50; tries++) {
    await new Promise((r) => setTimeout(r, 200));
    report = await shadowReport(NAME, { limit: 100, target: target() });
  }
  expect(report.summary.count).toBe(shadowed.length);
  const direct = await mapConcurrent(onPrimary, 8, async (i) => {
    const { customer_id: _id, ...features } = customers[i]!;
    const res = await fetch(`${base}/models/${NAME}/versions/2/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(features) });
    return ((await res.json()) as { churn_probability: number }).churn_probability;
  });
  const byRequest = new Map(report.pairs.map((p) => [p.request_id, p]));
  shadowed.forEach((s, k) => {
    const pair = byRequest.get(s.requestId)!;
    expect(pair).toMatchObject({ primary_version: 1, shadow_version: 2, row_index: 0, agree: pair.primary_prediction === pair.shadow_prediction });
    // The answers show 4 decimals; the pairs keep the graphs' float32 outputs.
    expect(Math.abs(pair.primary_probability - s.probability)).toBeLessThanOrEqual(1e-4);
    expect(Math.abs(pair.shadow_probability - direct[k]!)).toBeLessThanOrEqual(1e-4);
  });
  const agreement = report.pairs.filter((p) => p.agree).length / report.pairs.length;
  expect(report.summary.agreement_rate).toBeCloseTo(agreement, 12);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "e2e-release-"));
  await writeFile(join(dir, "train.csv"), toCsv(generateChurnRows({ rows: 1600, seed: 11 })));
  runs.weak = await train("weak", NAME, WEAK);
  runs.strong = await train("strong", NAME, STRONG);
  runs.otherWeak = await train("other-weak", OTHER, WEAK);
  runs.otherStrong = await train("other-strong", OTHER, STRONG);
  applyLocalMigrations(join(dir, "state"));
  server = await startWranglerDev(join(dir, "state"), { ADMIN_TOKEN: TOKEN, DEFAULT_MODEL: NAME });
  base = server.base;
}, 180_000);

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("release commands against wrangler dev", () => {
  it("publish, gate, promote with evidence, gate against production, promote, roll back: the history reads back that sequence", async () => {
    const v1 = await publishRun(runs.weak.dir, { target: target() });
    const v2 = await publishRun(runs.strong.dir, { reason: "nightly", target: target() });
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect(v1.aliases).toEqual([]);

    const gate1 = await gateRun(runs.weak.dir, { configPath: runs.weak.config, target: target({ env: {} }) });
    expect(gate1.production).toBeNull();
    expect(gate1.checks.map((c) => c.rule)).toEqual(["min_roc_auc"]);
    expect(gate1.passed).toBe(gate1.candidate.roc_auc >= 0.6);
    expect(gate1.passed).toBe(true);
    expect(gate1.rows).toBe(400);
    const stored = JSON.parse(await readFile(join(runs.weak.dir, "gate.json"), "utf8")) as GateEvidence;
    expect(stored).toEqual(gate1);
    const m1 = JSON.parse(await readFile(join(runs.weak.dir, "manifest.json"), "utf8"));
    expect(gate1.data).toEqual({ sha256: m1.data.sha256, rows: 1600, train_rows: 1200, validation_rows: 400 });
    expect(gate1.git_commit).toBe(m1.source.git_commit);
    // The same rows the trainer evaluated on, scored by the exported graph: the trainer's AUC.
    expect(gate1.candidate.roc_auc).toBeCloseTo(m1.metrics.roc_auc, 4);

    const promoted1 = await promoteVersion(NAME, 1, { reason: "first release", evidenceFile: join(runs.weak.dir, "gate.json"), target: target() });
    expect(promoted1).toMatchObject({ alias: "production", from: null, to: 1 });

    await canaryAndShadow();

    const gate2 = await gateRun(runs.strong.dir, { configPath: runs.strong.config, target: target() });
    expect(gate2.production?.version).toBe(1);
    // Production scored by its own graph on the candidate's validation rows: v1's own split, so its trainer AUC.
    expect(gate2.production?.roc_auc).toBeCloseTo(gate1.candidate.roc_auc, 6);
    expect(gate2.checks.map((c) => c.rule)).toEqual(["production_minus_margin", "min_roc_auc"]);
    expect(gate2.candidate.roc_auc).toBeGreaterThan(gate2.production!.roc_auc);
    expect(gate2.passed).toBe(true);

    // Evidence judged for another file is refused before anything moves.
    await expect(promoteVersion(NAME, 2, { reason: "wrong evidence", evidenceFile: join(runs.weak.dir, "gate.json"), target: target() })).rejects.toThrow(
      /judged model\.onnx sha256 .* but version 2/,
    );
    await promoteVersion(NAME, 2, { reason: "beats v1", evidenceFile: join(runs.strong.dir, "gate.json"), target: target() });
    const cleared = await trafficPolicy(NAME, { clear: true, reason: "v2 promoted", target: target() });
    expect(cleared).toMatchObject({ primary: { version: 2 }, canary: null, shadow: null });
    const back = await rollbackAlias(NAME, { reason: "rollback drill", target: target() });
    expect(back).toMatchObject({ alias: "production", from: 2, to: 1 });

    const history = (await (await fetch(`${base}/models/${NAME}/aliases/production/history`)).json()) as {
      history: { from: number | null; to: number; by: string; reason: string; evidence: GateEvidence | null }[];
    };
    expect(history.history.map((h) => [h.from, h.to, h.by, h.reason])).toEqual([
      [null, 1, "e2e-ci", "first release"],
      [1, 2, "e2e-ci", "beats v1"],
      [2, 1, "e2e-ci", "rollback drill"],
    ]);
    expect(history.history[0]!.evidence).toEqual(gate1);
    expect(history.history[1]!.evidence).toEqual(gate2);
    expect(history.history[2]!.evidence).toBeNull();
    const everyAlias = (await (await fetch(`${base}/models/${NAME}/aliases`)).json()) as {
      history: { alias: string; from: number | null; to: number | null; reason: string; evidence: Record<string, unknown> | null }[];
    };
    expect(everyAlias.history.map((h) => [h.alias, h.from, h.to, h.reason])).toEqual([
      ["production", null, 1, "first release"],
      ["canary", null, 2, "canary v2"],
      ["shadow", null, 2, "shadow v2"],
      ["production", 1, 2, "beats v1"],
      ["canary", 2, null, "v2 promoted"],
      ["shadow", 2, null, "v2 promoted"],
      ["production", 2, 1, "rollback drill"],
    ]);
    expect(everyAlias.history.map((h) => h.evidence)).toEqual([gate1, { percent: 20 }, { sample_rate: 1 }, gate2, null, null, null]);

    const listed = await listVersions(NAME, { target: target({ env: {} }) });
    expect(listed.aliases).toEqual({ production: 1 });
    expect(listed.versions.map((v) => [v.version, v.status])).toEqual([
      [2, "ready"],
      [1, "ready"],
    ]);
    await expect(archiveModelVersion(NAME, 1, { reason: "retire", target: target() })).rejects.toThrow(/409 CONFLICT: version 1 .* production points at/);
    expect(await archiveModelVersion(NAME, 2, { reason: "retire", target: target() })).toMatchObject({ version: 2, status: "archived" });
  });

  it("the CLI exits 3 on a failed gate and prints the evidence as JSON; 2 on a usage error", async () => {
    const published = await cli(["publish", runs.otherStrong.dir, "--alias", "production", "--reason", "set up the failing gate", "--registry", base, "--by", "ci", "--json"], {
      ADMIN_TOKEN: TOKEN,
    });
    expect(published.code, published.stderr).toBe(0);
    const strong = JSON.parse(published.stdout) as { name: string; version: number; aliases: { alias: string }[] };
    expect(strong).toMatchObject({ name: OTHER, aliases: [{ alias: "production" }] });
    const failed = await cli(["gate", runs.otherWeak.dir, "--config", runs.otherWeak.config, "--registry", base, "--json"]);
    expect(failed.code, failed.stderr).toBe(3);
    const evidence = JSON.parse(failed.stdout) as GateEvidence;
    expect(evidence.passed).toBe(false);
    expect(evidence.production?.version).toBe(strong.version);
    expect(evidence.checks.find((c) => c.rule === "production_minus_margin")?.passed).toBe(false);
    const promote = await cli(["promote", OTHER, "1", "--reason", "override", "--evidence-file", join(runs.otherWeak.dir, "gate.json"), "--registry", base], { ADMIN_TOKEN: TOKEN });
    expect(promote.code).toBe(2);
    expect(promote.stderr).toMatch(/records a failed gate/);

    const wrongConfig = await cli(["gate", runs.otherWeak.dir, "--config", runs.otherStrong.config, "--registry", base]);
    expect(wrongConfig.code).toBe(2);
    expect(wrongConfig.stderr).toMatch(/is not the config run .* was trained with/);
    const noReason = await cli(["rollback", OTHER, "--registry", base], { ADMIN_TOKEN: TOKEN });
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason is required/);
  });

  it("errors name the cause and leave the registry as it was", async () => {
    await publishRun(runs.otherWeak.dir, { target: target() });
    const before = await registryState(OTHER);
    const closed = `http://127.0.0.1:${await freePort()}`;
    await expect(publishRun(runs.otherWeak.dir, { target: target({ registry: closed }) })).rejects.toThrow(`registry ${closed} unreachable: ECONNREFUSED`);
    await expect(publishRun(runs.otherWeak.dir, { target: target({ env: {} }) })).rejects.toThrow(/ADMIN_TOKEN is not set/);
    await expect(promoteVersion(OTHER, 1, { reason: "x", target: target({ env: { ADMIN_TOKEN: "not-the-token-0123456789" } }) })).rejects.toThrow(
      /refused the admin token \(403 FORBIDDEN\)/,
    );
    await expect(promoteVersion(OTHER, 99, { reason: "x", target: target() })).rejects.toThrow(/answered 404 NOT_FOUND: model churn-release-errors has no version 99/);
    await expect(rollbackAlias(OTHER, { alias: "staging", reason: "x", target: target() })).rejects.toThrow(/409 CONFLICT: alias 'staging'/);

    const tampered = join(dir, "tampered");
    await cp(runs.otherWeak.dir, tampered, { recursive: true });
    const manifest = JSON.parse(await readFile(join(tampered, "manifest.json"), "utf8"));
    manifest.golden[0].probability = Math.min(1, manifest.golden[0].probability + 0.25);
    await writeFile(join(tampered, "manifest.json"), JSON.stringify(manifest));
    await expect(publishRun(tampered, { aliases: ["production"], target: target() })).rejects.toThrow(/rejected the artifact at step golden: .*golden/);

    expect(await registryState(OTHER)).toEqual(before);
  });
});

describe("npm run rollout against wrangler dev", () => {
  it("starts a rollout over HTTP, shows its step and timeline, aborts it with the canary cleared; no token exits 2", async () => {
    // Its own model: copies of the two runs under another name, so no other test's state matters.
    const name = "churn-release-rollout";
    for (const [label, run, alias] of [["v1", runs.weak, ["--alias", "production"]], ["v2", runs.strong, []]] as const) {
      const copy = join(dir, `rollout-${label}`);
      await cp(run.dir, copy, { recursive: true });
      const manifest = JSON.parse(await readFile(join(copy, "manifest.json"), "utf8"));
      await writeFile(join(copy, "manifest.json"), JSON.stringify({ ...manifest, name }));
      const published = await cli(["publish", copy, ...alias, "--reason", "rollout test", "--registry", base], { ADMIN_TOKEN: TOKEN });
      expect(published.code, published.stderr).toBe(0);
    }
    const rollout = (args: string[], env: Record<string, string> = { ADMIN_TOKEN: TOKEN }) => cli(["rollout", name, ...args, "--registry", base, "--by", "e2e-ci"], env);

    const noToken = await rollout(["--version", "2", "--steps", "10,100", "--reason", "x"], {});
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/ADMIN_TOKEN is not set/);

    const started = await rollout(["--version", "2", "--steps", "10,100", "--step-minutes", "3", "--max-score-psi", "none", "--reason", "try v2", "--json"]);
    expect(started.code, started.stderr).toBe(0);
    const view = JSON.parse(started.stdout) as { id: number; status: string; step: number; percent: number; step_minutes: number; checks: { max_score_psi: number | null } };
    expect(view).toMatchObject({ status: "active", step: 1, percent: 10, step_minutes: 3, checks: { max_score_psi: null } });
    expect((await (await fetch(`${base}/models/${name}/traffic`)).json()) as unknown).toMatchObject({ canary: { version: 2, percent: 10 } });

    const status = await rollout(["status"], {});
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`${name}: rollout ${view.id} of version 2 against version 1, active\n  step 1 of 2 (10 → 100%): 10% of the default alias's requests since `);
    expect(status.stdout).toMatch(/started .* by e2e-ci: try v2\n {2}not evaluated yet/);

    const aborted = await rollout(["abort", "--id", String(view.id), "--reason", "enough"]);
    expect(aborted.code, aborted.stderr).toBe(0);
    expect(aborted.stdout).toMatch(/aborted at step 1 of 2 \(10 → 100%\), .*: enough/);
    expect((await (await fetch(`${base}/models/${name}/traffic`)).json()) as unknown).toMatchObject({ canary: null });
    const again = await rollout(["abort", "--id", String(view.id), "--reason", "enough"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/answered 409 CONFLICT: rollout \d+ is already aborted/);
  });
});

describe("--local: the same commands on the local state, no server", () => {
  it("publishes, gates against the local production and promotes with evidence", async () => {
    const local = (): RegistryTarget => ({ local: true, persistTo: join(dir, "local-state"), by: "e2e-local", env: {} });
    const v1 = await publishRun(runs.otherWeak.dir, { aliases: ["production"], reason: "first local release", target: local() });
    const v2 = await publishRun(runs.otherStrong.dir, { target: local() });
    expect([v1.version, v2.version]).toEqual([1, 2]);
    const gate = await gateRun(runs.otherStrong.dir, { configPath: runs.otherStrong.config, target: local() });
    expect(gate.production?.version).toBe(1);
    expect(gate.registry).toBe(`local state ${join(dir, "local-state")}`);
    expect(gate.passed).toBe(true);
    await promoteVersion(OTHER, 2, { reason: "local promote", evidenceFile: join(runs.otherStrong.dir, "gate.json"), target: local() });
    const listed = await listVersions(OTHER, { target: local() });
    expect(listed.aliases).toEqual({ production: 2 });
    await expect(promoteVersion(OTHER, 7, { reason: "x", target: local() })).rejects.toThrow(/404 NOT_FOUND: model churn-release-errors has no version 7/);
    const history = await withLocalBindings((env) => aliasHistoryFor(openDb(env.DB), OTHER, "production"), join(dir, "local-state"));
    expect(history.map((h) => [h.fromVersion, h.toVersion, h.changedBy, h.reason])).toEqual([
      [null, 1, "e2e-local", "first local release"],
      [1, 2, "e2e-local", "local promote"],
    ]);
    expect(JSON.parse(history[1]!.evidence!)).toEqual(gate);

    const canary = await trafficPolicy(OTHER, { canaryVersion: 1, percent: 10, entityField: "customer_id", reason: "local canary", target: local() });
    expect(canary).toMatchObject({ primary: { alias: "production", version: 2 }, canary: { version: 1, percent: 10 }, entity_field: "customer_id", updated_by: "e2e-local" });
    // A percent alone keeps the canary's version; the worker's schema refuses what the API refuses.
    expect(await trafficPolicy(OTHER, { percent: 30, reason: "ramp", target: local() })).toMatchObject({ canary: { version: 1, percent: 30 } });
    await expect(trafficPolicy(OTHER, { shadowVersion: 1, sampleRate: 2, reason: "x", target: local() })).rejects.toThrow(/422 VALIDATION_FAILED: shadow\.sample_rate/);
    expect(await trafficPolicy(OTHER, { clear: true, reason: "local done", target: local() })).toMatchObject({ canary: null, shadow: null });
    const canaryHistory = await withLocalBindings((env) => aliasHistoryFor(openDb(env.DB), OTHER, "canary"), join(dir, "local-state"));
    expect(canaryHistory.map((h) => [h.fromVersion, h.toVersion, h.reason, h.evidence])).toEqual([
      [null, 1, "local canary", JSON.stringify({ percent: 10 })],
      [1, 1, "ramp", JSON.stringify({ percent: 30 })],
      [1, null, "local done", null],
    ]);
  });
});
