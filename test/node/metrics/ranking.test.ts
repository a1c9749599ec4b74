import { describe, expect, it } from "vitest";
import { averagePrecision } from "../../../trainer/metrics/average-precision";
import { precisionRecallCurve } from "../../../trainer/metrics/precision-recall-curve";
import { rocAuc } from "../../../trainer/metrics/roc-auc";
import { rocCurve } from "../../../trainer/metrics/roc-curve";
import { expectAllClose, expectClose } from "../../helpers/expect-close";

const y = (...v: number[]) => Uint8Array.from(v);
const p = (...v: number[]) => Float64Array.from(v);

describe("rocAuc", () => {
  it("counts correctly ordered pairs", () => {
    // Pairs (positive, negative): (0.35, 0.1) ok, (0.35, 0.4) wrong, (0.8, *) ok -> 3 / 4.
    expect(rocAuc(y(0, 0, 1, 1), p(0.1, 0.4, 0.35, 0.8))).toBe(0.75);
  });

  it("counts a tied pair as one half", () => {
    // (0.5 vs 0.5) = 0.5, (0.5 vs 0.2) = 1, (0.9 vs both) = 2 -> 3.5 / 4.
    expect(rocAuc(y(0, 1, 0, 1), p(0.5, 0.5, 0.2, 0.9))).toBe(0.875);
    expect(rocAuc(y(0, 1, 0, 1, 1), p(0.3, 0.3, 0.3, 0.3, 0.3))).toBe(0.5);
  });

  it("is 1 for perfect and 0 for reversed ranking, and ignores the score scale", () => {
    expect(rocAuc(y(0, 0, 1), p(0.1, 0.2, 0.3))).toBe(1);
    expect(rocAuc(y(1, 0, 0), p(0.1, 0.2, 0.3))).toBe(0);
    expect(rocAuc(y(0, 1, 0, 1), p(-5, 3, 1e-9, 40))).toBe(1);
  });

  it("rejects one-class labels, mismatched lengths, non-binary labels and NaN", () => {
    expect(() => rocAuc(y(1, 1), p(0.1, 0.2))).toThrow(/both classes/);
    expect(() => rocAuc(y(0, 1), p(0.1))).toThrow(/2 labels but p has 1/);
    expect(() => rocAuc(y(0, 2), p(0.1, 0.2))).toThrow(/not 0 or 1/);
    expect(() => rocAuc(y(0, 1), p(0.1, Number.NaN))).toThrow(/not finite/);
    expect(() => rocAuc(y(), p())).toThrow(/no rows/);
  });
});

describe("rocCurve", () => {
  it("matches scikit-learn's documented example", () => {
    const curve = rocCurve(y(0, 0, 1, 1), p(0.1, 0.4, 0.35, 0.8), { dropIntermediate: false });
    expect(curve.fpr).toEqual([0, 0, 0.5, 0.5, 1]);
    expect(curve.tpr).toEqual([0, 0.5, 0.5, 1, 1]);
    expect(curve.thresholds).toEqual([Infinity, 0.8, 0.4, 0.35, 0.1]);
  });

  it("collapses ties into one point and drops collinear points only when asked", () => {
    // Scores 0.9 (pos), 0.8 (pos), 0.7 (pos), 0.5 (pos, neg tie), 0.1 (neg): the 0.8 point lies on the
    // vertical run from (0, 1/4) to (0, 3/4) and is dropped; the tie is one diagonal step.
    const labels = y(1, 1, 1, 1, 0, 0);
    const scores = p(0.9, 0.8, 0.7, 0.5, 0.5, 0.1);
    const all = rocCurve(labels, scores, { dropIntermediate: false });
    expect(all.thresholds).toEqual([Infinity, 0.9, 0.8, 0.7, 0.5, 0.1]);
    expect(all.fpr).toEqual([0, 0, 0, 0, 0.5, 1]);
    expect(all.tpr).toEqual([0, 0.25, 0.5, 0.75, 1, 1]);
    const dropped = rocCurve(labels, scores);
    expect(dropped.thresholds).toEqual([Infinity, 0.9, 0.7, 0.5, 0.1]);
    expect(dropped.fpr).toEqual([0, 0, 0, 0.5, 1]);
    expect(dropped.tpr).toEqual([0, 0.25, 0.75, 1, 1]);
  });
});

describe("averagePrecision", () => {
  it("matches scikit-learn's documented example (0.8333)", () => {
    // 0.8: P 1, R .5; 0.4: no recall gain; 0.35: P 2/3, R 1 -> .5 * 1 + .5 * 2/3.
    expectClose(averagePrecision(y(0, 0, 1, 1), p(0.1, 0.4, 0.35, 0.8)), 5 / 6, 1e-15);
  });

  it("treats tied scores as one operating point, not in row order", () => {
    // 0.9 holds one positive and one negative: P 1/2 at R 1/2; then 0.5: P 2/3 at R 1 -> 7/12.
    expectClose(averagePrecision(y(1, 0, 1, 0), p(0.9, 0.9, 0.5, 0.1)), 7 / 12, 1e-15);
    expectClose(averagePrecision(y(0, 1, 1, 0), p(0.9, 0.9, 0.5, 0.1)), 7 / 12, 1e-15);
  });

  it("is the prevalence when every score ties and 1 for a perfect ranking", () => {
    expectClose(averagePrecision(y(1, 0, 0, 0), p(0.2, 0.2, 0.2, 0.2)), 0.25, 1e-15);
    expect(averagePrecision(y(0, 1, 1), p(0.1, 0.8, 0.9))).toBe(1);
  });

  it("needs a positive row", () => {
    expect(() => averagePrecision(y(0, 0), p(0.1, 0.2))).toThrow(/positive/);
  });
});

describe("precisionRecallCurve", () => {
  it("matches scikit-learn's documented example", () => {
    const curve = precisionRecallCurve(y(0, 0, 1, 1), p(0.1, 0.4, 0.35, 0.8));
    expectAllClose(curve.precision, [0.5, 2 / 3, 0.5, 1, 1], 1e-15);
    expect(curve.recall).toEqual([1, 1, 0.5, 0.5, 0]);
    expect(curve.thresholds).toEqual([0.1, 0.35, 0.4, 0.8]);
  });
});
