/**
 * The one decision rule (worker/contract/decision.ts), on hand-computed float32 cases, and the
 * trainer's threshold metrics and tier table applying it. Expected values are exact: Math.fround
 * values were worked out by hand from the float32 grid (spacing 2^-25 in [0.25, 0.5), 2^-24 in
 * [0.5, 1)) and are checked below, so no tolerance is needed.
 */
import { describe, expect, it } from "vitest";
import { decisionRule, displayProbability, reaches, tierOf, sortTiers } from "../../../worker/contract/decision";
import { riskTier } from "../../../worker/contract/manifest";
import { thresholdMetrics } from "../../../trainer/metrics/threshold-metrics";
import { riskTierTable } from "../../../trainer/metrics/risk-tier-table";

const f32 = Math.fround;
const TIERS = [
  { name: "LOW", min: 0 },
  { name: "HIGH", min: 0.75 },
  { name: "MEDIUM", min: 0.45 },
];

describe("reaches: bounds compared at float32", () => {
  it("a float32 probability exactly at 0.45 reaches the 0.45 bound (as a double it would not)", () => {
    // 0.45 is not a float32; its nearest float32 lies 1.19e-8 below it.
    expect(f32(0.45)).toBe(0.44999998807907104);
    expect(f32(0.45) >= 0.45).toBe(false);
    expect(reaches(f32(0.45), 0.45)).toBe(true);
  });

  it("the float32 just below the bound does not reach it", () => {
    const below = f32(0.45) - 2 ** -25; // one float32 step down in [0.25, 0.5)
    expect(f32(below)).toBe(below);
    expect(reaches(below, 0.45)).toBe(false);
  });

  it("a float64 probability (the trainer's) is taken at float32, as the graph computes it", () => {
    // Within half a float32 step of 0.45, so the graph would output f32(0.45) for it.
    expect(f32(0.4499999999)).toBe(f32(0.45));
    expect(reaches(0.4499999999, 0.45)).toBe(true);
  });

  it("tiers: the first reached from the top, the lowest otherwise", () => {
    const sorted = sortTiers(TIERS);
    expect(sorted.map((t) => t.name)).toEqual(["HIGH", "MEDIUM", "LOW"]);
    expect(tierOf(sorted, f32(0.75)).name).toBe("HIGH");
    expect(tierOf(sorted, f32(0.45)).name).toBe("MEDIUM");
    expect(tierOf(sorted, f32(0.45) - 2 ** -25).name).toBe("LOW");
    expect(riskTier({ output: { risk_tiers: TIERS } } as never, f32(0.45))).toBe("MEDIUM");
  });
});

describe("displayProbability: 4 decimals, never across a bound", () => {
  it("0.49996 with threshold 0.5 shows 0.4999, not 0.5", () => {
    expect(f32(0.49996)).toBe(0.4999600052833557);
    expect(Math.round(f32(0.49996) * 1e4) / 1e4).toBe(0.5); // what plain rounding would show
    expect(displayProbability(f32(0.49996), [0.5])).toBe(0.4999);
    expect(decisionRule({ threshold: 0.5, risk_tiers: TIERS })(f32(0.49996))).toEqual({ probability: 0.4999, prediction: false, risk_tier: "MEDIUM" });
  });

  it("0.74996 below the 0.75 tier shows 0.7499 and tier MEDIUM", () => {
    expect(decisionRule({ threshold: 0.5, risk_tiers: TIERS })(f32(0.74996))).toEqual({ probability: 0.7499, prediction: true, risk_tier: "MEDIUM" });
  });

  it("p exactly at 0.45 in float32 shows 0.45 with the tier it reaches", () => {
    expect(decisionRule({ threshold: 0.45, risk_tiers: TIERS })(f32(0.45))).toEqual({ probability: 0.45, prediction: true, risk_tier: "MEDIUM" });
  });

  it("rounds up when plain rounding would fall below a bound p reaches", () => {
    // f32(0.123449) = 0.12344899773597717 reaches 0.123449; plain rounding shows 0.1234 < 0.123449.
    expect(f32(0.123449)).toBe(0.12344899773597717);
    expect(displayProbability(f32(0.123449), [0.123449])).toBe(0.1235);
  });

  it("plain rounding when no bound is near", () => {
    expect(displayProbability(f32(0.31234), [0.5, 0.75, 0.45, 0])).toBe(0.3123);
    expect(displayProbability(f32(0.31236), [0.5, 0.75, 0.45, 0])).toBe(0.3124);
    expect(displayProbability(1, [0.5])).toBe(1);
    expect(displayProbability(0, [0.5, 0])).toBe(0);
  });

  it("bounds closer than 1e-4 get a fifth decimal", () => {
    // f32(0.45002) = 0.4500199854373932: 0.45 would fall below 0.45001 (reached), 0.4501 above 0.45004 (not).
    expect(displayProbability(f32(0.45002), [0.45001, 0.45004])).toBe(0.45002);
  });

  it("a bound with more than 9 decimals that p equals at float32 is shown as the bound", () => {
    // f32(0.60010000001) = 0.6000999808311462 reaches the bound but lies below it, and every value
    // with up to 9 decimals at or above p (0.6001, ..., 0.600099981) is still below it.
    expect(f32(0.60010000001)).toBe(0.6000999808311462);
    expect(displayProbability(f32(0.60010000001), [0.60010000001])).toBe(0.60010000001);
  });
});

describe("the trainer applies the same rule", () => {
  const y = (...v: number[]) => Uint8Array.from(v);
  const p = (...v: number[]) => Float64Array.from(v);

  it("confusion matrix: a row at f32(0.45) is positive at threshold 0.45", () => {
    expect(thresholdMetrics(y(1, 0), p(f32(0.45), f32(0.45) - 2 ** -25), 0.45).confusion).toEqual({ tp: 1, fp: 0, tn: 1, fn: 0 });
  });

  it("tier table: a row at f32(0.45) and at f32(0.75) counts in MEDIUM and HIGH", () => {
    const table = riskTierTable(y(1, 0, 0), p(f32(0.75), f32(0.45), f32(0.45) - 2 ** -25), TIERS);
    expect(table.map((t) => [t.name, t.count])).toEqual([
      ["HIGH", 1],
      ["MEDIUM", 1],
      ["LOW", 1],
    ]);
  });
});
