import { describe, expect, it } from "vitest";
import type { ColdRun, RequestCpu } from "../../scripts/bench/cold-start";
import { recommendCpuMs, summarizeCold } from "../../scripts/bench/limits-report";
import { type CpuSnapshot, cpuSpanMs } from "../../scripts/bench/proc-cpu";

const snapshot = (at: number, ticksMs: number, threads: Record<string, number>): CpuSnapshot => ({
  at,
  ticksMs,
  threadsNs: new Map(Object.entries(threads)),
});

describe("cpuSpanMs", () => {
  it("sums per-thread run time, counts threads born in between from zero, and splits out main threads (tid = pid)", () => {
    const start = snapshot(100, 50, { "10/10": 1e6, "10/11": 2e6, "20/20": 5e6 });
    const end = snapshot(130, 60, { "10/10": 4e6, "10/11": 2.5e6, "10/12": 1e6, "20/20": 5.5e6 });
    expect(cpuSpanMs(start, end)).toEqual({ ms: 3 + 0.5 + 1 + 0.5, mainMs: 3 + 0.5, wallMs: 30, coarse: false });
  });

  it("falls back to the tick total when a thread present at the start has exited", () => {
    const start = snapshot(0, 50, { "10/10": 1e6, "10/11": 2e6 });
    const end = snapshot(10, 70, { "10/10": 2e6 });
    expect(cpuSpanMs(start, end)).toEqual({ ms: 20, mainMs: 1, wallMs: 10, coarse: true });
  });
});

describe("recommendCpuMs", () => {
  it("is ten times the worst invocation on a 1-2-5 step, between 1 s and the Paid maximum", () => {
    expect(recommendCpuMs(560)).toBe(10_000);
    expect(recommendCpuMs(120)).toBe(2_000);
    expect(recommendCpuMs(1_059)).toBe(20_000);
    expect(recommendCpuMs(40)).toBe(1_000);
    expect(recommendCpuMs(45_000)).toBe(300_000);
  });
});

describe("summarizeCold", () => {
  const cpu = (mainCpuMs: number, cpuMs = mainCpuMs + 1): RequestCpu => ({ mainCpuMs, cpuMs, wallMs: 2 * mainCpuMs, coarse: false });
  const run = (startup: number, first: number, batches: number[]): ColdRun => ({
    startupCpuMs: startup,
    idleCpuMsPerS: 0,
    idleMainCpuMsPerS: 0,
    first: cpu(first),
    firstBatch: cpu(first / 10),
    batches: batches.map((b) => cpu(b)),
    warmOneRow: [cpu(1)],
  });

  it("takes medians per invocation kind, pooling batches across runs, and subtracts the baseline startup", () => {
    const s = summarizeCold("m", "d", 100, [run(210, 400, [10, 30]), run(230, 380, [20]), run(200, 450, [40, 50])], [90, 100, 110]);
    expect(s.bundleStartupCpuMs).toEqual({ median: 110, min: 100, max: 130, n: 3 });
    expect(s.first.main).toEqual({ median: 400, min: 380, max: 450, n: 3 });
    expect(s.first.total.median).toBe(401);
    expect(s.first.wallMs).toBe(800);
    expect(s.batch.main).toEqual({ median: 30, min: 10, max: 50, n: 5 });
    expect(s.coarseReadings).toBe(0);
  });
});
