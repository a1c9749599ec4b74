/**
 * What /metrics costs, printed (a benchmark, not a test):
 *  1. the observer's bookkeeping per prediction request (the only work on the request path: a path
 *     match, a few map updates and the flush-interval check), timed in Node's V8 as workerd runs it
 *     (workerd's own clocks stand still during CPU work, so it cannot time this from inside);
 *  2. D1 cost of one flush, of a scrape and of compaction, from D1's own meta (rows read/written)
 *     in Miniflare's local D1 with the real migrations;
 *  3. two isolates for real: the built bundle loaded as two workers in one workerd (each its own
 *     isolate and module state) over one D1 and R2, predictions sent to each, then /metrics scraped
 *     from each: the totals must be the sum of both (it exits 1 if not).
 *
 *   npx tsx scripts/bench-metrics.ts [--iterations 200000] [--minutes 60] [--isolates 10]
 *        [--model artifacts/bench-forest] [--skip-workers] [--json]
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { defineCommand, runMain } from "citty";
import { Miniflare } from "miniflare";
import type { Manifest } from "../worker/contract/manifest";
import { MetricBuffer } from "../worker/metrics/metric-buffer";
import { addToMinute, compactMetricBuckets, minuteOf, readTotals } from "../worker/metrics/metric-store";
import { recordServed } from "../worker/metrics/prediction-metrics";
import { predictionRoute } from "../worker/metrics/prediction-routes";
import { renderMetrics } from "../worker/metrics/render-metrics";
import { BENCH_MODEL_DEFAULTS, buildBenchModel } from "./bench/bench-model";
import { installCleanupHandlers, makeTempDir, onCleanup, runCleanups } from "./bench/cleanup";
import { positiveArg } from "./bench/positive-arg";
import { reportHeader, type RunEnvironment, runEnvironment } from "./bench/report-header";
import { bundleModules, buildBundle, COMPATIBILITY_DATE } from "./bench/process";
import { migrationStatements, persistPaths, prepareRegistry, readBenchModel } from "./bench/registry-state";
import { readRegistryConfig } from "./bench/wrangler-config";

const ROOT = resolve(import.meta.dirname, "..");
const log = (line: string) => process.stderr.write(`${line}\n`);

const MANIFEST = {
  output: { threshold: 0.5, risk_tiers: [{ name: "HIGH", min: 0.75 }, { name: "MEDIUM", min: 0.45 }, { name: "LOW", min: 0 }] },
} as unknown as Manifest;

function rows(n: number) {
  const tiers = ["LOW", "MEDIUM", "HIGH"];
  return Array.from({ length: n }, (_, i) => ({ probability: (i % 100) / 100, prediction: i % 2 === 0, risk_tier: tiers[i % 3]! }));
}

/** ns per simulated request: what observeMetrics does for a served prediction of `n` rows. */
function observerCost(n: number, iterations: number): number {
  const buffer = new MetricBuffer({ flushIntervalMs: Number.POSITIVE_INFINITY });
  const predictions = rows(n);
  const run = (count: number) => {
    for (let i = 0; i < count; i++) {
      const route = predictionRoute("/models/churn-classifier/predict");
      if (!route) throw new Error("route not matched");
      recordServed(buffer, { name: "churn-classifier", version: 3, arm: "production", manifest: MANIFEST, predictions, latencySeconds: (i % 50) / 1000 });
      buffer.due();
    }
  };
  run(Math.min(iterations, 20_000));
  const start = process.hrtime.bigint();
  run(iterations);
  return Number(process.hrtime.bigint() - start) / iterations;
}

interface D1Figures {
  flushSeries: number;
  firstFlush: { rowsWritten: number; rowsRead: number; ms: number };
  repeatFlush: { rowsWritten: number; rowsRead: number; ms: number };
  scrape: { rows: number; rowsRead: number; ms: number; bytes: number };
  compaction: { folded: number; ms: number };
  scrapeAfterCompaction: { rows: number; rowsRead: number; ms: number };
}

/** A typical isolate's flush: two models, successes and a few client errors, latency spread over buckets, sampling counters. */
function fillTypical(buffer: MetricBuffer): void {
  for (const name of ["churn-classifier", "fraud"]) {
    for (let i = 0; i < 50; i++) {
      recordServed(buffer, { name, version: 2, arm: i % 5 === 0 ? "canary" : "production", manifest: MANIFEST, predictions: rows(1 + (i % 7)), latencySeconds: (i % 20) / 1000 });
    }
    buffer.add("predictions_total", { model: name, version: "2", arm: "production", outcome: "client_error" }, 3);
  }
  buffer.add("prediction_errors_total", { code: "VALIDATION_FAILED" }, 6);
  buffer.add("samples_written_total", "", 40);
}

async function d1Costs(minutes: number, isolates: number): Promise<D1Figures> {
  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response(null, { status: 204 }); } };",
    compatibilityDate: COMPATIBILITY_DATE,
    d1Databases: { DB: "bench-metrics" },
  });
  try {
    const db = (await mf.getD1Database("DB")) as unknown as D1Database;
    for (const sql of migrationStatements(resolve(ROOT, "migrations"))) await db.prepare(sql).run();
    const meta = async (work: () => Promise<D1Result[]>) => {
      const start = performance.now();
      const results = await work();
      const ms = performance.now() - start;
      return {
        rowsWritten: results.reduce((n, r) => n + (r.meta.rows_written ?? 0), 0),
        rowsRead: results.reduce((n, r) => n + (r.meta.rows_read ?? 0), 0),
        ms,
      };
    };
    const probe = new MetricBuffer();
    fillTypical(probe);
    const flushSeries = probe.size;
    const base = Date.parse("2026-11-30T00:00:00Z");
    const firstFlush = await meta(() => addToMinute(db, minuteOf(base), probe.snapshot()));
    const repeatFlush = await meta(() => addToMinute(db, minuteOf(base), probe.snapshot()));
    // `minutes` of traffic from `isolates` isolates, each flushing 6 times a minute into the same rows.
    for (let m = 1; m < minutes; m++) {
      for (let k = 0; k < isolates * 6; k++) await addToMinute(db, minuteOf(base + m * 60_000), probe.snapshot());
    }
    const scrapeQuery = async () => {
      const start = performance.now();
      const result = await db.prepare("SELECT name, labels, SUM(value) AS value FROM metric_buckets GROUP BY name, labels").all();
      const text = renderMetrics(await readTotals(db), []);
      return { rows: (await db.prepare("SELECT count(*) AS n FROM metric_buckets").first<{ n: number }>())!.n, rowsRead: result.meta.rows_read, ms: performance.now() - start, bytes: text.length };
    };
    const scrape = await scrapeQuery();
    const start = performance.now();
    const compacted = await compactMetricBuckets(db, { now: base + minutes * 60_000, keepMinutes: 0 });
    const compaction = { folded: compacted.folded, ms: performance.now() - start };
    const after = await scrapeQuery();
    return { flushSeries, firstFlush, repeatFlush, scrape, compaction, scrapeAfterCompaction: { rows: after.rows, rowsRead: after.rowsRead, ms: after.ms } };
  } finally {
    await mf.dispose();
  }
}

interface IsolateFigures {
  sent: { a: { requests: number; rows: number }; b: { requests: number; rows: number }; invalid: number };
  scrapedFromB: { success: number; clientError: number };
  scrapedFromA: { success: number; clientError: number };
  scrapeMs: number;
}

interface ParsedFamily {
  name: string;
  metrics: { labels?: Record<string, string>; value?: string }[];
}
/** parse-prometheus-text-format ships no types; loaded with require and typed here for what is read. */
const parsePrometheusTextFormat = createRequire(import.meta.url)("parse-prometheus-text-format") as (text: string) => ParsedFamily[];

function countsIn(text: string, model: string): { success: number; clientError: number } {
  const family = parsePrometheusTextFormat(text).find((f) => f.name === "predictions_total");
  const of = (outcome: string) =>
    (family?.metrics ?? []).filter((m) => m.labels?.model === model && m.labels.outcome === outcome).reduce((n, m) => n + Number(m.value), 0);
  return { success: of("success"), clientError: of("client_error") };
}

/** The built bundle as two workers (two isolates) in one workerd over one persisted D1 and R2. */
async function twoIsolates(modelDir: string): Promise<IsolateFigures> {
  if (!existsSync(join(modelDir, "model.onnx"))) {
    log(`${modelDir} has no model.onnx: building the bench forest...`);
    await buildBenchModel({ outDir: modelDir, ...BENCH_MODEL_DEFAULTS });
  }
  const model = readBenchModel(modelDir);
  const config = readRegistryConfig(ROOT);
  const tmp = makeTempDir("bench-metrics-");
  const bundleDir = join(tmp, "bundle");
  const stateDir = join(tmp, "state");
  log(`building the worker bundle into ${bundleDir} and publishing ${model.manifest.name}...`);
  await buildBundle(ROOT, bundleDir);
  await prepareRegistry(stateDir, config, join(ROOT, "migrations"), model);
  const worker = (name: string) => ({
    name,
    modules: bundleModules(bundleDir),
    modulesRoot: bundleDir,
    compatibilityDate: COMPATIBILITY_DATE,
    d1Databases: { DB: config.d1DatabaseId },
    r2Buckets: { MODELS: config.r2BucketName },
    bindings: { ...config.vars, DEFAULT_MODEL: model.manifest.name, SAMPLE_RATE: "0" },
  });
  const mf = new Miniflare({ workers: [worker("isolate-a"), worker("isolate-b")], ...persistPaths(stateDir) });
  const unregister = onCleanup("dispose the two-isolate Miniflare", () => mf.dispose());
  try {
    const [a, b] = [await mf.getWorker("isolate-a"), await mf.getWorker("isolate-b")];
    const row = Object.fromEntries(model.manifest.features.map((f) => [f.name, f.kind === "numeric" ? 1 : f.categories[0]]));
    const post = async (target: typeof a, body: unknown, status: number) => {
      const res = await target.fetch("http://edge.test/predict", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      const text = await res.text();
      if (res.status !== status) throw new Error(`POST /predict answered ${res.status}, expected ${status}: ${text}`);
    };
    const sent = { a: { requests: 40, rows: 40 }, b: { requests: 25, rows: 75 }, invalid: 2 };
    for (let i = 0; i < sent.a.requests; i++) await post(a, row, 200);
    for (let i = 0; i < sent.b.requests; i++) await post(b, { instances: [row, row, row] }, 200);
    await post(a, { ...row, [model.manifest.features[0]!.name]: "not a number" }, 422);
    await post(b, { ...row, [model.manifest.features[0]!.name]: "not a number" }, 422);
    const scrape = async (target: typeof a) => {
      const res = await target.fetch("http://edge.test/metrics");
      if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
      return res.text();
    };
    const scrapedFromB = countsIn(await scrape(b), model.manifest.name);
    const started = performance.now();
    const fromA = await scrape(a);
    const scrapeMs = performance.now() - started;
    return { sent, scrapedFromB, scrapedFromA: countsIn(fromA, model.manifest.name), scrapeMs };
  } finally {
    unregister();
    await mf.dispose();
  }
}

interface Report extends RunEnvironment {
  observer: { oneRowNs: number; hundredRowsNs: number };
  d1: D1Figures;
  workers: IsolateFigures | null;
  minutes: number;
}

function printReport(report: Report, expected: { success: number; clientError: number } | null): void {
  const { observer, d1, workers, minutes } = report;
  console.log(reportHeader("bench:metrics", report));
  console.log(`observer per request: 1 row ${(observer.oneRowNs / 1000).toFixed(2)} µs, 100 rows ${(observer.hundredRowsNs / 1000).toFixed(2)} µs`);
  console.log(
    `flush of a typical buffer (${d1.flushSeries} series): new minute ${d1.firstFlush.rowsWritten} rows written, ${d1.firstFlush.rowsRead} read, ${d1.firstFlush.ms.toFixed(1)} ms; ` +
      `same minute again ${d1.repeatFlush.rowsWritten} written, ${d1.repeatFlush.rowsRead} read, ${d1.repeatFlush.ms.toFixed(1)} ms`,
  );
  console.log(`scrape over ${d1.scrape.rows} stored rows (${minutes} minutes): ${d1.scrape.rowsRead} rows read, ${d1.scrape.ms.toFixed(1)} ms, ${d1.scrape.bytes} bytes of text`);
  console.log(
    `compaction folding ${d1.compaction.folded} minute rows: ${d1.compaction.ms.toFixed(1)} ms; ` +
      `scrape afterwards ${d1.scrapeAfterCompaction.rows} rows, ${d1.scrapeAfterCompaction.rowsRead} rows read, ${d1.scrapeAfterCompaction.ms.toFixed(1)} ms`,
  );
  if (workers && expected) {
    console.log(
      `two isolates: A scored ${workers.sent.a.rows} rows, B ${workers.sent.b.rows}, one 422 each; /metrics from B (flushing B) showed ` +
        `${workers.scrapedFromB.success} success + ${workers.scrapedFromB.clientError} client_error, then from A (flushing A) ` +
        `${workers.scrapedFromA.success} + ${workers.scrapedFromA.clientError} (expected ${expected.success} + ${expected.clientError}); scrape ${workers.scrapeMs.toFixed(1)} ms`,
    );
  }
}

const main = defineCommand({
  meta: { name: "bench-metrics", description: "Cost of the /metrics observer per request and of its D1 flushes, scrapes and compaction; totals across two isolates" },
  args: {
    iterations: { type: "string", default: "200000", description: "simulated requests per observer timing" },
    minutes: { type: "string", default: "60", description: "minutes of flushed traffic before the scrape" },
    isolates: { type: "string", default: "10", description: "isolates flushing into each minute (6 flushes a minute each)" },
    model: { type: "string", default: "artifacts/bench-forest", description: "artifact dir of the model the two workers serve" },
    "skip-workers": { type: "boolean", default: false, description: "skip the two-isolate check (no bundle build)" },
    json: { type: "boolean", default: false, description: "print JSON" },
  },
  async run({ args }) {
    installCleanupHandlers();
    try {
      const iterations = positiveArg("iterations", args.iterations);
      const minutes = positiveArg("minutes", args.minutes);
      const isolates = positiveArg("isolates", args.isolates);
      log(`observer bookkeeping, ${iterations} simulated requests each...`);
      const observer = { oneRowNs: observerCost(1, iterations), hundredRowsNs: observerCost(100, iterations) };
      log(`D1 through Miniflare: one flush, then ${minutes} minutes x ${isolates} isolates x 6 flushes, scrape, compaction...`);
      const d1 = await d1Costs(minutes, isolates);
      const workers = args["skip-workers"] ? null : await twoIsolates(resolve(ROOT, args.model));
      const report: Report = { ...runEnvironment(ROOT), observer, d1, workers, minutes };
      const expected = workers ? { success: workers.sent.a.rows + workers.sent.b.rows, clientError: workers.sent.invalid } : null;
      if (args.json) console.log(JSON.stringify({ ...report, expected }, null, 2));
      else printReport(report, expected);
      if (workers && expected && (workers.scrapedFromA.success !== expected.success || workers.scrapedFromA.clientError !== expected.clientError)) {
        log(`two isolates: the scrape shows ${JSON.stringify(workers.scrapedFromA)}, expected ${JSON.stringify(expected)}`);
        process.exitCode = 1;
      }
    } finally {
      await runCleanups();
    }
  },
});

void runMain(main);
