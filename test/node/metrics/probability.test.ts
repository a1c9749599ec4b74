import { describe, expect, it } from "vitest";
import { brierScore } from "../../../trainer/metrics/brier-score";
import { calibrationTable, uniformBinEdges } from "../../../trainer/metrics/calibration-table";
import { LOG_LOSS_EPS, logLoss } from "../../../trainer/metrics/log-loss";
import { expectClose } from "../../helpers/expect-close";

const y = (...v: number[]) => Uint8Array.from(v);
const p = (...v: number[]) => Float64Array.from(v);

describe("logLoss", () => {
  it("is the mean negative log probability of the true class", () => {
    expectClose(logLoss(y(1, 0), p(0.8, 0.3)), -(Math.log(0.8) + Math.log(0.7)) / 2, 1e-15);
  });

  it("clips at float64 machine epsilon, so a confident miss costs 52 ln 2", () => {
    expect(LOG_LOSS_EPS).toBe(2 ** -52);
    expectClose(logLoss(y(1), p(0)), 52 * Math.LN2, 1e-12);
    expectClose(logLoss(y(0), p(1)), 52 * Math.LN2, 1e-12);
    // A confident hit is clipped to 1 - eps: a loss of about eps, not exactly 0.
    expectClose(logLoss(y(1, 0), p(1, 0)), 2 ** -52, 1e-20);
  });

  it("rejects probabilities outside [0, 1]", () => {
    expect(() => logLoss(y(1), p(1.2))).toThrow(/outside \[0, 1\]/);
  });
});

describe("brierScore", () => {
  it("is the mean squared error against the 0/1 outcome", () => {
    expectClose(brierScore(y(1, 0, 1), p(0.9, 0.2, 0.4)), (0.01 + 0.04 + 0.36) / 3, 1e-15);
    expect(brierScore(y(1, 0), p(1, 0))).toBe(0);
  });
});

describe("calibrationTable", () => {
  it("bins like calibration_curve(strategy='uniform'): (lower, upper], first bin holds 0", () => {
    const table = calibrationTable(y(0, 0, 1, 1, 1, 0), p(0.1, 0.3, 0.35, 0.95, 1, 0), 10);
    // 0.1 and 0 -> bin 0 (0.1 is not above the 0.1 edge); 0.3 -> bin 2 because the third edge is
    // 0.30000000000000004; 0.35 -> bin 3; 0.95 and 1 -> bin 9.
    expect(table.bins.map((b) => [b.bin, b.count])).toEqual([[0, 2], [2, 1], [3, 1], [9, 2]]);
    expect(table.bins.map((b) => b.observed_rate)).toEqual([0, 0, 1, 1]);
    expectClose(table.bins[0]!.mean_predicted, 0.05, 1e-15);
    expectClose(table.bins[3]!.mean_predicted, 0.975, 1e-15);
    expect(table.bins[1]).toMatchObject({ lower: 0.2, upper: 0.30000000000000004 });
    // ECE = 2/6 * .05 + 1/6 * .3 + 1/6 * .65 + 2/6 * .025; MCE = .65.
    expectClose(table.ece, (2 * 0.05 + 0.3 + 0.65 + 2 * 0.025) / 6, 1e-15);
    expectClose(table.mce, 0.65, 1e-15);
  });

  it("builds edges as numpy.linspace does and is perfectly calibrated on matching rates", () => {
    expect(uniformBinEdges(10)[3]).toBe(3 * 0.1);
    expect(uniformBinEdges(10)[10]).toBe(1);
    const table = calibrationTable(y(0, 1, 0, 1), p(0.5, 0.5, 0.5, 0.5), 4);
    expect(table.bins).toHaveLength(1);
    expect(table.ece).toBe(0);
  });

  it("rejects a bad bin count", () => {
    expect(() => calibrationTable(y(0, 1), p(0.1, 0.9), 0)).toThrow(/positive integer/);
  });
});
