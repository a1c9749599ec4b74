import { describe, expect, it } from "vitest";
import { riskTierTable } from "../../../trainer/metrics/risk-tier-table";
import { thresholdMetrics } from "../../../trainer/metrics/threshold-metrics";

const y = (...v: number[]) => Uint8Array.from(v);
const p = (...v: number[]) => Float64Array.from(v);
const TIERS = [
  { name: "LOW", min: 0 },
  { name: "HIGH", min: 0.75 },
  { name: "MEDIUM", min: 0.45 },
];

describe("thresholdMetrics", () => {
  it("counts p == threshold as positive", () => {
    expect(thresholdMetrics(y(1, 0, 1, 0), p(0.5, 0.5, 0.49, 0.1), 0.5).confusion).toEqual({ tp: 1, fp: 1, tn: 1, fn: 1 });
  });

  it("computes precision, recall, F1 and accuracy from the counts", () => {
    // tp 2, fp 1, fn 1, tn 2.
    const m = thresholdMetrics(y(1, 1, 0, 1, 0, 0), p(0.9, 0.6, 0.7, 0.2, 0.1, 0.3), 0.5);
    expect(m.confusion).toEqual({ tp: 2, fp: 1, tn: 2, fn: 1 });
    expect(m.precision).toBe(2 / 3);
    expect(m.recall).toBe(2 / 3);
    expect(m.f1).toBe(4 / 6);
    expect(m.accuracy).toBe(4 / 6);
  });

  it("reports 0 where a denominator is zero, as scikit-learn's zero_division=0", () => {
    const none = thresholdMetrics(y(1, 0), p(0.2, 0.1), 1);
    expect(none).toMatchObject({ precision: 0, recall: 0, f1: 0, accuracy: 0.5 });
    const noPositives = thresholdMetrics(y(0, 0), p(0.2, 0.9), 0.5);
    expect(noPositives).toMatchObject({ precision: 0, recall: 0, f1: 0, accuracy: 0.5 });
  });
});

describe("riskTierTable", () => {
  it("assigns tiers with the manifest rule and reports observed rates, highest tier first", () => {
    const table = riskTierTable(y(1, 0, 1, 1, 0, 0), p(0.9, 0.75, 0.5, 0.45, 0.44, 0.1), TIERS);
    expect(table.map((t) => [t.name, t.min, t.max, t.count, t.positives, t.observed_rate])).toEqual([
      ["HIGH", 0.75, null, 2, 1, 0.5],
      ["MEDIUM", 0.45, 0.75, 2, 2, 1],
      ["LOW", 0, 0.45, 2, 0, 0],
    ]);
    expect(table[0]!.mean_predicted).toBeCloseTo(0.825, 15);
    expect(table[0]!.share).toBe(2 / 6);
  });

  it("reports null rates for an empty tier", () => {
    const table = riskTierTable(y(0, 1), p(0.1, 0.2), TIERS);
    expect(table[0]).toMatchObject({ name: "HIGH", count: 0, observed_rate: null, mean_predicted: null });
    expect(table[2]).toMatchObject({ name: "LOW", count: 2, observed_rate: 0.5 });
  });
});
