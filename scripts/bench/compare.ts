/**
 * A/B rows for the benchmark: the same payload against two servers that differ in one setting
 * (sampling off/on, no traffic policy/a canary, no shadow/a shadow). Both serve copies of one
 * prepared registry, both are up for the whole comparison, and the load alternates between them
 * round by round (A B, B A, ...) so drift on the shared machine hits both alike; figures are
 * medians over the rounds, and the ratio is the median of the per-round B/A ratios.
 * Throughput rows run closed-loop (as fast as the connections go); latency rows run open-loop at a
 * fixed, evenly spaced request rate below capacity (paced-load.ts), where a cost that delays the
 * response shows in p50/p99.
 */
import { cpSync } from "node:fs";
import { join } from "node:path";
import { type LoadFigures, type Payload, runLoad, verifyPredict } from "./load";
import { median } from "./order-statistics";
import { runPacedLoad } from "./paced-load";
import type { BenchModel, RegistryConfig } from "./registry-state";
import { type RunningServer, startDirect } from "./servers";

export interface Variant {
  label: string;
  vars: Record<string, string>;
  /** Runs once the server answers, before any load (e.g. PUT a traffic policy). */
  setup?: (url: string) => Promise<void>;
  /** Runs after the load, while the server is up; returns a line saying what the variant did. */
  probe?: (url: string) => Promise<string>;
  /** Runs once the server has stopped, on its state (e.g. count what it wrote to D1). */
  inspect?: (stateDir: string) => Promise<string>;
  /**
   * false: the server produces to the observation queue but runs no consumer, so the figures hold
   * only the request's own work (sampling, planning the shadow, the sendBatch), as on Cloudflare,
   * where the consumer is an invocation of its own. Default true: the consumer runs in the measured
   * process too.
   */
  consumer?: boolean;
}

export interface Comparison {
  name: string;
  /** The requirement, in words, and the pass rule applied to the medians. */
  target: string;
  mode: "throughput" | "latency";
  a: Variant;
  b: Variant;
  pass: (r: Omit<ComparisonResult, "pass">) => boolean;
}

export interface VariantFigures {
  label: string;
  runs: LoadFigures[];
  reqPerSec: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
  /** What the variant's probe and inspect found. */
  checks: string[];
}

export interface ComparisonResult {
  name: string;
  target: string;
  mode: Comparison["mode"];
  rounds: number;
  rate?: number;
  a: VariantFigures;
  b: VariantFigures;
  /** Median over rounds of B's req/s over A's. */
  throughputRatio: number;
  /**
   * Median over rounds of A's server CPU per request over B's: the throughput B keeps when the
   * server is CPU-bound, and steadier than req/s when other work shares the machine.
   */
  cpuRatio: number;
  /** Median over rounds of B's p50 (p99) minus A's, ms. */
  p50DeltaMs: number;
  p99DeltaMs: number;
  pass: boolean;
}

export interface CompareOptions {
  bundleDir: string;
  stateTemplate: string;
  workDir: string;
  config: RegistryConfig;
  baseVars: Record<string, string>;
  model: BenchModel;
  payload: Payload;
  rounds: number;
  durationS: number;
  warmupS: number;
  connections: number;
  /** Requests per second for latency rows. */
  rate: number;
  log: (line: string) => void;
}

function figures(label: string, runs: LoadFigures[]): VariantFigures {
  return {
    label,
    runs,
    reqPerSec: median(runs.map((r) => r.reqPerSec)),
    p50: median(runs.map((r) => r.latencyMs.p50)),
    p99: median(runs.map((r) => r.latencyMs.p99)),
    cpuMsPerRequest: median(runs.map((r) => r.serverCpuMsPerRequest)),
    checks: [],
  };
}

export async function runComparison(c: Comparison, o: CompareOptions): Promise<ComparisonResult> {
  const servers: { variant: Variant; server: RunningServer; stateDir: string }[] = [];
  try {
    for (const [key, variant] of [["a", c.a], ["b", c.b]] as const) {
      const stateDir = join(o.workDir, `${c.name.replace(/\W+/g, "-")}-${key}`);
      cpSync(o.stateTemplate, stateDir, { recursive: true });
      const server = await startDirect(o.bundleDir, stateDir, o.config, { ...o.baseVars, ...variant.vars }, { consumer: variant.consumer ?? true });
      servers.push({ variant, server, stateDir });
      if (variant.setup) await variant.setup(server.url);
      await verifyPredict(server.url, o.model.manifest, o.payload);
    }
    const rate = c.mode === "latency" ? o.rate : undefined;
    // Throughput rows: closed loop on o.connections. Latency rows: open loop, evenly spaced at o.rate (paced-load.ts).
    const load = (s: RunningServer, durationS: number) =>
      rate === undefined
        ? runLoad(s.url, o.payload, { connections: o.connections, durationS, serverPids: () => s.pids() })
        : runPacedLoad(s.url, o.payload, { rate, durationS, serverPids: () => s.pids() });
    for (const { server } of servers) await load(server, o.warmupS);
    const runs: LoadFigures[][] = [[], []];
    for (let round = 0; round < o.rounds; round++) {
      const order = round % 2 ? [1, 0] : [0, 1];
      for (const i of order) runs[i]!.push(await load(servers[i]!.server, o.durationS));
      const [a, b] = [runs[0]!.at(-1)!, runs[1]!.at(-1)!];
      o.log(
        `  ${c.name} round ${round + 1}/${o.rounds}: A ${a.reqPerSec.toFixed(0)} req/s p50 ${a.latencyMs.p50.toFixed(2)} p99 ${a.latencyMs.p99.toFixed(2)} | ` +
          `B ${b.reqPerSec.toFixed(0)} req/s p50 ${b.latencyMs.p50.toFixed(2)} p99 ${b.latencyMs.p99.toFixed(2)}`,
      );
      for (const r of [a, b]) if (r.non2xx || r.errors) o.log(`  WARNING: ${r.non2xx} non-2xx, ${r.errors} errors: ${JSON.stringify(r.statusCodes)}`);
    }
    const [fa, fb] = [figures(c.a.label, runs[0]!), figures(c.b.label, runs[1]!)];
    for (const [i, f] of [fa, fb].entries()) {
      const { variant, server } = servers[i]!;
      if (variant.probe) f.checks.push(await variant.probe(server.url));
    }
    for (const { server } of servers) await server.stop();
    for (const [i, f] of [fa, fb].entries()) {
      const { variant, stateDir } = servers[i]!;
      if (variant.inspect) f.checks.push(await variant.inspect(stateDir));
    }
    const paired = (pick: (r: LoadFigures) => number, op: (a: number, b: number) => number) =>
      median(runs[0]!.map((ra, i) => op(pick(ra), pick(runs[1]![i]!))));
    const result = {
      name: c.name,
      target: c.target,
      mode: c.mode,
      rounds: o.rounds,
      ...(rate === undefined ? {} : { rate }),
      a: fa,
      b: fb,
      throughputRatio: paired((r) => r.reqPerSec, (a, b) => b / a),
      cpuRatio: paired((r) => r.serverCpuMsPerRequest, (a, b) => a / b),
      p50DeltaMs: paired((r) => r.latencyMs.p50, (a, b) => b - a),
      p99DeltaMs: paired((r) => r.latencyMs.p99, (a, b) => b - a),
    };
    return { ...result, pass: c.pass(result) };
  } finally {
    for (const { server } of servers) await server.stop();
  }
}
