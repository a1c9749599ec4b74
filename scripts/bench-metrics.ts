/**
 * What /metrics costs, printed (a benchmark, not a test):
 *  1. the observer's bookkeeping per prediction request (the only work on the request path: a path
 *     match, a few map updates and the flush-interval check), timed in Node's V8 as workerd runs it
 *     (workerd's own clocks stand still during CPU work, so it cannot time this from inside);
 *  2. D1 cost of one flush, of a scrape and of compaction, from D1's own meta (rows read/written)
 *     in Miniflare's local D1 with the real migrations.
 *
 *   npx tsx scripts/bench-metrics.ts [--iterations 200000] [--minutes 60] [--isolates 10] [--json]
 */
import { resolve } from "node:path";
import { defineCommand, runMain } from "citty";
import { Miniflare } from "miniflare";
import type { Manifest } from "../worker/contract/manifest";
import { MetricBuffer } from "../worker/metrics/metric-buffer";
import { addToMinute, compactMetricBuckets, minuteOf, readTotals } from "../worker/metrics/metric-store";
import { recordServed } from "../worker/metrics/prediction-metrics";
import { predictionRoute } from "../worker/metrics/prediction-routes";
import { renderMetrics } from "../worker/metrics/render-metrics";
import { COMPATIBILITY_DATE } from "./bench/process";
import { migrationStatements } from "./bench/registry-state";

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

const main = defineCommand({
  meta: { name: "bench-metrics", description: "Cost of the /metrics observer per request and of its D1 flushes, scrapes and compaction" },
  args: {
    iterations: { type: "string", default: "200000", description: "simulated requests per observer timing" },
    minutes: { type: "string", default: "60", description: "minutes of flushed traffic before the scrape" },
    isolates: { type: "string", default: "10", description: "isolates flushing into each minute (6 flushes a minute each)" },
    json: { type: "boolean", default: false, description: "print JSON" },
  },
  async run({ args }) {
    const iterations = Number(args.iterations);
    const minutes = Number(args.minutes);
    const isolates = Number(args.isolates);
    log(`observer bookkeeping, ${iterations} simulated requests each...`);
    const observer = { oneRowNs: observerCost(1, iterations), hundredRowsNs: observerCost(100, iterations) };
    log(`D1 through Miniflare: one flush, then ${minutes} minutes x ${isolates} isolates x 6 flushes, scrape, compaction...`);
    const d1 = await d1Costs(minutes, isolates);
    const report = { observer, d1, iterations, minutes, isolates };
    if (args.json) {
      console.log(JSON.stringify(report, null, 2));
      return;
    }
    console.log(`observer per request (Node ${process.version}): 1 row ${(observer.oneRowNs / 1000).toFixed(2)} µs, 100 rows ${(observer.hundredRowsNs / 1000).toFixed(2)} µs`);
    console.log(`flush of a typical buffer (${d1.flushSeries} series): new minute ${d1.firstFlush.rowsWritten} rows written, ${d1.firstFlush.rowsRead} read, ${d1.firstFlush.ms.toFixed(1)} ms; same minute again ${d1.repeatFlush.rowsWritten} written, ${d1.repeatFlush.rowsRead} read, ${d1.repeatFlush.ms.toFixed(1)} ms`);
    console.log(`scrape over ${d1.scrape.rows} stored rows (${minutes} minutes): ${d1.scrape.rowsRead} rows read, ${d1.scrape.ms.toFixed(1)} ms, ${d1.scrape.bytes} bytes of text`);
    console.log(`compaction folding ${d1.compaction.folded} minute rows: ${d1.compaction.ms.toFixed(1)} ms; scrape afterwards ${d1.scrapeAfterCompaction.rows} rows, ${d1.scrapeAfterCompaction.rowsRead} rows read, ${d1.scrapeAfterCompaction.ms.toFixed(1)} ms`);
  },
});

void runMain(main);
