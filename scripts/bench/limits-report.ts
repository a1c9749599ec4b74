/** Cloudflare's Worker limits, the deploy-limits figures summarised against them, and the printed report. */
import type { BundleSize } from "./bundle-size";
import type { ColdRun, RequestCpu } from "./cold-start";
import { median, percentile } from "./order-statistics";
import { reportHeader, type RunEnvironment } from "./report-header";
import { textTable } from "./text-table";

/**
 * As documented at developers.cloudflare.com/workers/platform/limits (read 2026-11-30): Worker size
 * 64 MiB uncompressed on every plan; startup (parse + global scope) 1 s; CPU per invocation 10 ms
 * on Free, on Paid 30 s by default and up to 300,000 ms with `limits.cpu_ms`; Cron Triggers 30 s
 * CPU when the schedule interval is under 1 hour, 15 min when it is 1 hour or more.
 */
export const CLOUDFLARE_LIMITS = {
  workerSizeBytes: 64 * 2 ** 20,
  startupMs: 1000,
  freeCpuMs: 10,
  paidDefaultCpuMs: 30_000,
  paidMaxCpuMs: 300_000,
  cronUnderHourCpuMs: 30_000,
  cronHourlyCpuMs: 15 * 60_000,
} as const;

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export interface InvocationCpu {
  /** workerd main thread (the isolate's JavaScript and wasm). */
  main: Spread;
  /** Whole workerd process (V8 background compile and GC threads too). */
  total: Spread;
  p90Main: number;
  wallMs: number;
}

export interface ModelLimits {
  name: string;
  description: string;
  onnxBytes: number;
  runs: number;
  /** workerd startup CPU with this bundle minus with a one-line Worker (whole process, tick resolution). */
  bundleStartupCpuMs: Spread;
  first: InvocationCpu;
  firstBatch: InvocationCpu;
  batch: InvocationCpu;
  warmOneRow: InvocationCpu;
  coarseReadings: number;
}

export interface LimitsReport {
  meta: RunEnvironment & Record<string, unknown>;
  bundle: BundleSize;
  models: ModelLimits[];
}

function spread(xs: number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  return { median: median(s), min: s[0] ?? Number.NaN, max: s[s.length - 1] ?? Number.NaN, n: s.length };
}

function invocation(rs: RequestCpu[]): InvocationCpu {
  const main = rs.map((r) => r.mainCpuMs).sort((a, b) => a - b);
  return { main: spread(main), total: spread(rs.map((r) => r.cpuMs)), p90Main: percentile(main, 90), wallMs: median(rs.map((r) => r.wallMs)) };
}

export function summarizeCold(name: string, description: string, onnxBytes: number, runs: ColdRun[], baselineStartup: number[]): ModelLimits {
  const base = median(baselineStartup);
  const all = runs.flatMap((r) => [r.first, r.firstBatch, ...r.batches, ...r.warmOneRow]);
  return {
    name,
    description,
    onnxBytes,
    runs: runs.length,
    bundleStartupCpuMs: spread(runs.map((r) => r.startupCpuMs - base)),
    first: invocation(runs.map((r) => r.first)),
    firstBatch: invocation(runs.map((r) => r.firstBatch)),
    batch: invocation(runs.flatMap((r) => r.batches)),
    warmOneRow: invocation(runs.flatMap((r) => r.warmOneRow)),
    coarseReadings: all.filter((r) => r.coarse).length,
  };
}

/** The smallest 1-2-5 step at or above x. */
function niceCeil(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  return ([1, 2, 5, 10].map((m) => m * p).find((v) => v >= x) ?? 10 * p);
}

/**
 * A cap for `limits.cpu_ms`: ten times the worst invocation measured (a slower server, a colder
 * isolate, a bigger model), on a 1-2-5 step, at least 1 s, at most the Paid maximum. The cap exists
 * to stop a runaway invocation from billing 30 s; it must never cut off a legitimate cold start.
 */
export function recommendCpuMs(worstMs: number): number {
  return Math.min(CLOUDFLARE_LIMITS.paidMaxCpuMs, Math.max(1000, niceCeil(worstMs * 10)));
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
const ms = (x: number) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) : "n/a");
const verdict = (x: number, limit: number) => (x <= limit ? "within" : `OVER (${x / limit >= 10 ? (x / limit).toFixed(0) : (x / limit).toFixed(1)}x)`);

export function formatLimitsReport(report: LimitsReport): string {
  const out: string[] = [];
  const m = report.meta;
  const L = CLOUDFLARE_LIMITS;
  out.push(reportHeader("bench:limits", m, { "onnxruntime-web": m.onnxruntimeWeb }));
  out.push("");
  const b = report.bundle;
  out.push(`Bundle (wrangler deploy --dry-run --outdir, offline, ${(b.buildMs / 1000).toFixed(1)} s):`);
  out.push(textTable(["file", "raw", "gzip"], b.files.map((f) => [f.file, mib(f.bytes), mib(f.gzipBytes)]), (i) => i >= 1));
  out.push(
    `total ${mib(b.bytes)} raw (${b.bytes.toLocaleString("en-US")} bytes), ${mib(b.gzipBytes)} gzip` +
      (b.wrangler ? `; wrangler: Total Upload ${b.wrangler.totalKiB} KiB / gzip ${b.wrangler.gzipKiB} KiB` : ""),
  );
  out.push(
    `limit: 64 MiB uncompressed on every plan -> ${verdict(b.bytes, L.workerSizeBytes)}, ${((100 * b.bytes) / L.workerSizeBytes).toFixed(0)}% used ` +
      `(the older compressed limits, 3 MB Free / 10 MB Paid: gzip ${mib(b.gzipBytes)} -> Free ${verdict(b.gzipBytes, 3e6)}, Paid ${verdict(b.gzipBytes, 10e6)})`,
  );
  out.push("");
  if (!report.models.length) return out.join("\n");

  out.push(
    `workerd CPU time per invocation: ${m.runs} cold starts per model (a fresh workerd each), then ${m.batches} more ${m.batchRows}-row batches ` +
      `and 1-row requests per start; SAMPLE_RATE=${m.sampleRate}. Median [min-max] in ms, idle rate subtracted.`,
  );
  out.push(
    "isolate = workerd's main thread (JavaScript + wasm: closest to billed CPU); process = all threads (V8 background compile/GC too).",
  );
  out.push("Both include the local D1/R2 simulators, which share workerd here and run elsewhere on Cloudflare: upper bounds.");
  const rows: string[][] = [];
  const f = (s: Spread) => `${ms(s.median)} [${ms(s.min)}-${ms(s.max)}]`;
  for (const model of report.models) {
    const name = `${model.name} (${(model.onnxBytes / 1e6).toFixed(2)} MB onnx)`;
    const row = (label: string, x: InvocationCpu, first: boolean) => [
      first ? name : "",
      label,
      f(x.main),
      f(x.total),
      ms(x.wallMs),
      verdict(x.main.median, L.freeCpuMs),
      verdict(x.total.max, L.paidDefaultCpuMs),
    ];
    rows.push(row("first request, cold (D1 + R2 + wasm + session + 1 row)", model.first, true));
    rows.push(row(`first ${m.batchRows}-row batch (session warm, JIT cold)`, model.firstBatch, false));
    rows.push(row(`${m.batchRows}-row batch (n=${model.batch.main.n}; isolate p90 ${ms(model.batch.p90Main)})`, model.batch, false));
    rows.push(row(`1-row request, warm (n=${model.warmOneRow.main.n})`, model.warmOneRow, false));
  }
  out.push(textTable(["model", "invocation", "isolate CPU", "process CPU", "wall", "Free 10 ms", "Paid 30 s (max)"], rows, (i) => i >= 2));
  const coarse = report.models.reduce((n, x) => n + x.coarseReadings, 0);
  if (coarse) out.push(`${coarse} process readings fell back to 10 ms tick resolution (a workerd thread exited mid-request).`);
  const startup = report.models[0]!.bundleStartupCpuMs;
  out.push(
    `Startup, this bundle's share (workerd with it minus with a one-line Worker; global scope + wasm compile, whole process): ` +
      `${f(startup)} ms against the 1 s startup limit -> ${verdict(startup.median, L.startupMs)}.`,
  );
  out.push("");

  const worst = Math.max(...report.models.flatMap((x) => [x.first.total.max, x.firstBatch.total.max, x.batch.total.max]));
  const medians = (pick: (x: ModelLimits) => number) => {
    const xs = report.models.map(pick);
    return `${ms(Math.min(...xs))}-${ms(Math.max(...xs))}`;
  };
  const freeOk = report.models.every((x) => x.first.main.max <= L.freeCpuMs && x.batch.main.max <= L.freeCpuMs);
  const cap = recommendCpuMs(worst);
  out.push("Recommendation:");
  out.push(
    freeOk
      ? "  every measured invocation fits the Free plan's 10 ms."
      : `  Workers Free (10 ms CPU per invocation) cannot serve this Worker: a cold first request takes ${medians((x) => x.first.main.median)} ms ` +
          `of isolate CPU and a ${m.batchRows}-row batch ${medians((x) => x.batch.main.median)} ms. Use Workers Paid (Standard).`,
  );
  out.push(
    `  worst invocation measured (process CPU, max over runs): ${ms(worst)} ms; Paid's default 30 s leaves ${(L.paidDefaultCpuMs / worst).toFixed(0)}x headroom. ` +
      `For fetch alone, a cap of 10x the worst (1-2-5 step): [limits] cpu_ms = ${cap}.`,
  );
  out.push(
    "  cpu_ms is one value for the whole Worker: check the monitoring cron too (npx tsx scripts/bench-cron.ts) before setting it below 30000; " +
      "any [limits] cpu_ms also makes a deploy on the Free plan fail up front (error 100328) instead of at runtime.",
  );
  return out.join("\n");
}
