/** The benchmark's printed table and target checks. */
import type { ComparisonResult } from "./compare";
import type { InferenceFigure, ProbeResult } from "./probe-timing";
import type { LoadFigures } from "./load";
import { reportHeader, type RunEnvironment } from "./report-header";
import { textTable } from "./text-table";

export interface PathRun {
  path: "direct" | "wrangler-dev";
  description: string;
  url: string;
  modelVersion: string;
  runs: ({ payload: string; rows: number } & LoadFigures)[];
}

export interface TargetCheck {
  name: string;
  target: string;
  value: string;
  pass: boolean;
}

export interface BenchReport {
  meta: RunEnvironment & Record<string, unknown>;
  paths: PathRun[];
  inference: ProbeResult | null;
  /** explainRows inside workerd on the bench forest (exact SHAP against its background), when run. */
  explain?: ProbeResult | null;
  /** A/B rows (sampling, canary, shadow), when run. */
  comparisons?: ComparisonResult[];
  targets: TargetCheck[];
}

const TARGETS = { perRowMs: 0.2, per1000RowsMs: 5, directRps: 2000, directP99Ms: 25 };

export function checkTargets(paths: PathRun[], inference: ProbeResult | null, comparisons: ComparisonResult[] = [], explain: ProbeResult | null = null): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const [rows, limit] of [[1, 2], [100, 100]] as const) {
    const f = explain?.figures.find((x) => x.rows === rows);
    if (f) {
      checks.push({
        name: `explain ${rows} row${rows > 1 ? "s" : ""} (explainRows in workerd, 200-tree depth-8 bench forest, background 100, ${f.phase})`,
        target: `<= ${limit} ms CPU`,
        value: `${f.cpuPerCallMs.toFixed(2)} ms workerd CPU per call (${f.perCallMs.toFixed(2)} ms wall)`,
        pass: f.cpuPerCallMs <= limit,
      });
    }
  }
  for (const c of comparisons) {
    checks.push({
      name: `${c.name}: ${c.b.label} vs ${c.a.label}`,
      target: c.target,
      value:
        c.mode === "throughput"
          ? `${(100 * c.throughputRatio).toFixed(1)}% of throughput kept (median of ${c.rounds} paired rounds); by server CPU per request ${(100 * c.cpuRatio).toFixed(1)}%`
          : `p50 ${c.p50DeltaMs >= 0 ? "+" : ""}${c.p50DeltaMs.toFixed(2)} ms, p99 ${c.p99DeltaMs >= 0 ? "+" : ""}${c.p99DeltaMs.toFixed(2)} ms (median of ${c.rounds} paired rounds at ${c.rate} req/s)`,
      pass: c.pass,
    });
  }
  const one = inference?.figures.find((f) => f.rows === 1);
  const coldNote = (rows: number, pick: (f: InferenceFigure) => number, digits: number) => {
    const cold = inference && inference.warmupS > 0 ? inference.cold.find((f) => f.rows === rows) : undefined;
    return cold ? `; cold ${pick(cold).toFixed(digits)} ms` : "";
  };
  const thousand = inference?.figures.find((f) => f.rows === 1000);
  if (one) {
    checks.push({
      name: `inference per row (1-row session.run, in workerd, ${one.phase})`,
      target: `<= ${TARGETS.perRowMs} ms`,
      value: `${one.perRowMs.toFixed(4)} ms wall (workerd CPU ${one.cpuPerRowMs.toFixed(4)} ms)${coldNote(1, (f) => f.perRowMs, 4)}`,
      pass: one.perRowMs <= TARGETS.perRowMs,
    });
  }
  if (thousand) {
    checks.push({
      name: `inference per 1,000 rows (1000-row session.run, in workerd, ${thousand.phase})`,
      target: `<= ${TARGETS.per1000RowsMs} ms`,
      value: `${thousand.perCallMs.toFixed(3)} ms wall (workerd CPU ${thousand.cpuPerCallMs.toFixed(3)} ms)${coldNote(1000, (f) => f.perCallMs, 3)}`,
      pass: thousand.perCallMs <= TARGETS.per1000RowsMs,
    });
  }
  const direct = paths.find((p) => p.path === "direct")?.runs.find((r) => r.rows === 1);
  if (direct) {
    checks.push({
      name: `direct path, 1 row, ${direct.connections} connections: throughput`,
      target: `>= ${TARGETS.directRps} req/s`,
      value:
        `${direct.reqPerSec.toFixed(0)} req/s (server CPU ${direct.serverCpuMsPerRequest.toFixed(3)} ms/req, ` +
        `~${(1000 / direct.serverCpuMsPerRequest).toFixed(0)} req/s per core of server CPU)`,
      pass: direct.reqPerSec >= TARGETS.directRps && direct.non2xx === 0 && direct.errors === 0,
    });
    checks.push({
      name: `direct path, 1 row, ${direct.connections} connections: p99 latency`,
      target: `<= ${TARGETS.directP99Ms} ms`,
      value: `${direct.latencyMs.p99.toFixed(2)} ms`,
      pass: direct.latencyMs.p99 <= TARGETS.directP99Ms,
    });
  }
  return checks;
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const int = (n: number) => Math.round(n).toLocaleString("en-US");

export function formatReport(report: BenchReport): string {
  const out: string[] = [];
  const m = report.meta;
  out.push(reportHeader("bench-predict", m, { miniflare: m.miniflare }));
  out.push(`model ${m.model} v${m.modelVersion}: ${m.modelDescription} (${int(Number(m.modelBytes))} bytes)`);
  out.push("");
  if (report.paths.length) {
    const first = report.paths[0]!.runs[0];
    out.push(
      `POST /predict over loopback, autocannon in-process, ${first?.connections ?? "?"} connections, ${m.durationS} s per run after ${m.warmupS} s warm-up.`,
    );
    out.push("req/s = 2xx responses / run time; latencies are exact percentiles of every 2xx response (ms); load = 1-min load average after the run.");
    out.push("srv CPU ms/req = CPU time of the server's processes (/proc) per response; srv cores = that CPU over the run's wall time.");
    const rows: string[][] = [];
    for (const p of report.paths) {
      for (const r of p.runs) {
        rows.push([
          p.description,
          r.payload,
          fmt(r.reqPerSec, 0),
          fmt(r.latencyMs.p50),
          fmt(r.latencyMs.p90),
          fmt(r.latencyMs.p99),
          fmt(r.latencyMs.max, 1),
          fmt(r.serverCpuMsPerRequest, 3),
          fmt(r.serverCores, 2),
          int(r.requests),
          String(r.non2xx),
          String(r.errors),
          fmt(r.loadAvg1m, 1),
        ]);
      }
    }
    out.push(
      textTable(
        ["path", "payload", "req/s", "p50", "p90", "p99", "max", "srv CPU ms/req", "srv cores", "requests", "non-2xx", "errors", "load"],
        rows,
        (i) => i >= 2,
      ),
    );
    out.push("");
  }
  if (report.inference) {
    const inf = report.inference;
    out.push("Inference inside workerd (probe worker; session.run only, timed from Node as reps=R minus reps=0, median of paired samples):");
    const node = inf.node ?? [];
    const phases = inf.warmupS > 0 ? [...inf.cold, ...inf.figures] : inf.cold;
    const rows = phases.map((f: InferenceFigure) => {
      const ref = node.find((n) => n.rows === f.rows && n.phase === f.phase);
      return [
        f.phase,
        String(f.rows),
        String(f.reps),
        fmt(f.perCallMs, 3),
        fmt(f.perRowMs * 1000, 1),
        `${fmt(f.perRowIqrMs[0] * 1000, 1)}-${fmt(f.perRowIqrMs[1] * 1000, 1)}`,
        fmt(f.per1000RowsMs, 2),
        fmt(f.cpuPerCallMs, 3),
        fmt(f.cpuPerRowMs * 1000, 1),
        fmt(f.emptyRequestMs, 2),
        fmt(ref?.perCallMs ?? Number.NaN, 3),
        fmt(ref?.cpuPerCallMs ?? Number.NaN, 3),
      ];
    });
    out.push(
      textTable(
        [
          "phase",
          "rows/call",
          "reps R",
          "ms per call",
          "µs per row",
          "IQR µs/row",
          "ms per 1,000 rows",
          "CPU ms/call",
          "CPU µs/row",
          "empty req ms",
          "Node ms/call",
          "Node CPU ms/call",
        ],
        rows,
        (i) => i >= 1,
      ),
    );
    out.push(
      `${inf.cold[0]?.samples ?? "?"} pairs per row count; warm = after ${inf.warmupS} s of back-to-back inference (time for V8 to tier hot wasm up from Liftoff to TurboFan). ` +
        `Goldens reproduced in the probe: max |error| ${inf.goldenMaxAbsError.toExponential(2)}.`,
    );
    out.push("ms/µs columns: wall time (median of paired differences).");
    out.push("CPU columns: workerd CPU time (/proc) of a block of reps=R requests minus a block of reps=0 requests.");
    if (node.length) {
      out.push("Node columns: the same wasm, 1 thread, same session options and rows, timed in Node (wall and process CPU; reference only).");
    }
    out.push("");
  }
  if (report.comparisons?.length) {
    out.push("A/B rows on the direct path: A and B are two servers over copies of one registry, load alternating A/B round by round;");
    out.push("figures are medians over rounds; B/A and the deltas are medians of the per-round pairs. Throughput rows run closed-loop, latency rows open-loop at a fixed, evenly spaced rate (scripts/bench/paced-load.ts).");
    out.push("A/B CPU = A's server CPU per request over B's: the throughput B keeps when CPU-bound (steadier than req/s on a shared machine).");
    const rows: string[][] = [];
    for (const c of report.comparisons) {
      for (const [side, v] of [["A", c.a], ["B", c.b]] as const) {
        rows.push([
          side === "A" ? c.name : "",
          `${side} ${v.label}`,
          side === "A" ? (c.rate === undefined ? "closed" : `${c.rate}/s`) : "",
          fmt(v.reqPerSec, 0),
          fmt(v.p50),
          fmt(v.p99),
          fmt(v.cpuMsPerRequest, 3),
          side === "B" ? `${(100 * c.throughputRatio).toFixed(1)}%` : "",
          side === "B" ? `${(100 * c.cpuRatio).toFixed(1)}%` : "",
          side === "B" ? `${c.p50DeltaMs >= 0 ? "+" : ""}${fmt(c.p50DeltaMs)}` : "",
          side === "B" ? `${c.p99DeltaMs >= 0 ? "+" : ""}${fmt(c.p99DeltaMs)}` : "",
        ]);
      }
    }
    out.push(
      textTable(
        ["row", "variant", "load", "req/s", "p50", "p99", "srv CPU ms/req", "B/A req/s", "A/B CPU", "Δp50", "Δp99"],
        rows,
        (i) => i >= 3,
      ),
    );
    for (const c of report.comparisons) {
      for (const v of [c.a, c.b]) for (const line of v.checks) out.push(`  ${c.name}, ${v.label}: ${line}`);
    }
    out.push("");
  }
  if (report.targets.length) {
    out.push("Targets:");
    for (const t of report.targets) out.push(`  [${t.pass ? "PASS" : "MISS"}] ${t.name}: ${t.value} (target ${t.target})`);
  }
  return out.join("\n");
}
