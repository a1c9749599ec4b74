/**
 * What ground truth costs: issuing prediction tokens per row, verifying one, and the cron's
 * ground-truth section on a 100,000-label window, inside workerd (Miniflare, real local D1) and,
 * for comparison, in Node.
 *
 *   npx tsx scripts/feedback-bench.ts [--labels 100000] [--unlabelled 100000] [--trials 5]
 *
 * workerd freezes its clocks while JS runs without I/O, so each figure is timed from Node around a
 * request to scripts/feedback-bench-probe.ts: (time with R repetitions − time with 0) / R, median
 * of the trials. Figures from a shared 2-core machine are noisy; compare within one run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { defineCommand, runMain } from "citty";
import { issuePredictionTokens, verifyPredictionToken } from "../worker/feedback/prediction-token";
import { buildGroundTruthSection } from "../worker/feedback/realized";
import { parkMillerScores } from "./bench/park-miller-scores";
import { median } from "./bench/order-statistics";
import { positiveArg } from "./bench/positive-arg";
import { bundleModules, buildBundle } from "./bench/process";
import { migrationStatements } from "./bench/registry-state";
import { type RunningMiniflare, startMiniflare } from "./bench/servers";

const ROOT = resolve(import.meta.dirname, "..");
const SECRET = "bench-prediction-token-secret-0123456789abcdef";

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/** Median over trials of (t(reps) − t(0)) / reps, in ms. */
async function perRep(get: (reps: number) => Promise<unknown>, reps: number, trials: number): Promise<number> {
  await get(1);
  const deltas: number[] = [];
  for (let t = 0; t < trials; t++) deltas.push(((await timed(() => get(reps))) - (await timed(() => get(0)))) / reps);
  return Math.max(0, median(deltas));
}

/** The probe bundled as wrangler bundles the Worker, over a fresh D1 with the migrations applied. */
async function startProbe(dir: string): Promise<RunningMiniflare> {
  const bundleDir = join(dir, "bundle");
  await buildBundle(ROOT, bundleDir, "scripts/feedback-bench-probe.ts");
  const server = await startMiniflare("dispose feedback probe", {
    modules: bundleModules(bundleDir),
    modulesRoot: bundleDir,
    d1Databases: { DB: "bench-feedback" },
    d1Persist: join(dir, "d1"),
    bindings: { PREDICTION_TOKEN_SECRET: SECRET },
  });
  const db = await server.mf.getD1Database("DB");
  for (const statement of migrationStatements(join(ROOT, "migrations"))) await db.prepare(statement).run();
  return server;
}

async function nodeFigures(trials: number) {
  const env = { PREDICTION_TOKEN_SECRET: SECRET };
  const tokenPerRow: Record<number, number> = {};
  for (const rows of [1, 100, 1000]) {
    const probabilities = new Float32Array(rows * 2).fill(0.5);
    const issue = () => issuePredictionTokens(env, { requestId: crypto.randomUUID(), result: { name: "churn-classifier", version: 1, probabilities }, issuedAt: Date.now() });
    await issue();
    const reps = Math.max(3, Math.round(2000 / rows));
    const times: number[] = [];
    for (let t = 0; t < trials; t++) times.push((await timed(async () => { for (let r = 0; r < reps; r++) await issue(); })) / reps / rows);
    tokenPerRow[rows] = median(times);
  }
  const [token] = (await issuePredictionTokens(env, { requestId: crypto.randomUUID(), result: { name: "m", version: 1, probabilities: new Float32Array([0.5, 0.5]) }, issuedAt: 0 }))!;
  const verify = median(await Promise.all(Array.from({ length: trials }, async () => (await timed(async () => { for (let r = 0; r < 500; r++) await verifyPredictionToken(env, token!); })) / 500)));
  const n = 100_000;
  const p = parkMillerScores(n, 12345);
  const labels = Uint8Array.from(parkMillerScores(n, 777), (u, i) => (u < p[i]! ? 1 : 0));
  const unlabelled = parkMillerScores(n, 4242);
  const manifest = { output: { label: "y", target_column: "y", classes: ["0", "1"] as [string, string], threshold: 0.5, risk_tiers: [{ name: "LOW", min: 0 }] } };
  const section = () => buildGroundTruthSection({ model: "m", version: 1, windowStart: "", windowEnd: "", manifest, scores: p, labels, unlabelled });
  section();
  const metrics = median(Array.from({ length: trials }, () => { const start = performance.now(); section(); return performance.now() - start; }));
  return { tokenPerRow, verify, metrics };
}

const main = defineCommand({
  meta: { name: "feedback-bench", description: "prediction token and ground-truth section costs, in workerd and Node" },
  args: {
    labels: { type: "string", default: "100000", description: "labels in the benchmark window" },
    unlabelled: { type: "string", default: "100000", description: "unlabelled samples in the window" },
    trials: { type: "string", default: "5", description: "trials per figure (median)" },
  },
  async run({ args }) {
    const trials = positiveArg("trials", args.trials);
    const labels = positiveArg("labels", args.labels);
    const unlabelled = positiveArg("unlabelled", args.unlabelled);
    const dir = mkdtempSync(join(tmpdir(), "feedback-bench-"));
    const server = await startProbe(dir);
    try {
      const get = async (path: string) => {
        const res = await server.mf.dispatchFetch(new URL(path, server.url));
        if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
        return res.json();
      };
      const rows: [string, string][] = [];
      for (const n of [1, 100, 1000]) {
        const reps = Math.max(3, Math.round(2000 / n));
        const ms = await perRep((r) => get(`/tokens?rows=${n}&reps=${r}`), reps, trials);
        rows.push([`workerd: issue tokens, ${n} row${n === 1 ? "" : "s"} per prediction`, `${((ms / n) * 1000).toFixed(1)} µs/row (${ms.toFixed(3)} ms per prediction)`]);
      }
      const sign = await perRep((r) => get(`/signonly?rows=1000&reps=${r}`), 3, trials);
      rows.push(["workerd: crypto.subtle.sign alone, 1000 calls", `${sign.toFixed(3)} ms`]);
      const { token_length } = (await get("/tokens?rows=1&reps=1")) as { token_length: number };
      rows.push(["token length (UUID request id)", `${token_length} characters`]);
      const verify = await perRep((r) => get(`/verify?reps=${r}`), 500, trials);
      rows.push(["workerd: verify one token", `${(verify * 1000).toFixed(1)} µs`]);
      const metrics = await perRep((r) => get(`/metrics?n=100000&reps=${r}`), 3, trials);
      rows.push(["workerd: section metrics, 100k labels + 100k unlabelled in memory", `${metrics.toFixed(1)} ms`]);
      const seedStart = performance.now();
      await get(`/seed?labels=${labels}&unlabelled=${unlabelled}`);
      rows.push([`seed ${labels} labels + ${labels + unlabelled} samples (local D1)`, `${((performance.now() - seedStart) / 1000).toFixed(1)} s`]);
      const section = (await get("/section?reps=1")) as { labels: { count: number }; expected: { count: number }; realized: { roc_auc?: number } };
      if (section.labels.count !== labels || section.expected.count !== unlabelled) throw new Error(`section read ${section.labels.count} labels, ${section.expected.count} unlabelled`);
      const sectionMs = median(await (async () => { const out: number[] = []; for (let t = 0; t < trials; t++) out.push(await timed(() => get("/section?reps=1"))); return out; })());
      rows.push([`workerd: groundTruthSection (D1 read + metrics), ${labels} labels, ${unlabelled} unlabelled`, `${sectionMs.toFixed(0)} ms wall (realized AUC ${section.realized.roc_auc?.toFixed(4)})`]);
      const cost = (await get("/label-cost")) as { samples: number; by_sample: { rows_read: number; rows_written: number }; by_token: { rows_read: number; rows_written: number } };
      rows.push([`D1: one new label by sampled request id (${cost.samples} samples stored)`, `${cost.by_sample.rows_read} rows read, ${cost.by_sample.rows_written} written`]);
      rows.push(["D1: one new label by token", `${cost.by_token.rows_read} rows read, ${cost.by_token.rows_written} written`]);
      const node = await nodeFigures(trials);
      for (const [n, ms] of Object.entries(node.tokenPerRow)) rows.push([`node: issue tokens, ${n} rows per prediction`, `${(ms * 1000).toFixed(1)} µs/row`]);
      rows.push(["node: verify one token", `${(node.verify * 1000).toFixed(1)} µs`]);
      rows.push(["node: section metrics, 100k + 100k in memory", `${node.metrics.toFixed(1)} ms`]);
      const width = Math.max(...rows.map(([k]) => k.length));
      for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

runMain(main);
