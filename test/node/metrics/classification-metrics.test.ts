/**
 * The shared ROC AUC and threshold metrics (worker/contract/classification-metrics.ts) on cases
 * worked by hand. Expected values are compared exactly (toBe): each is a ratio of small integers
 * made with one division, so the double is the correctly rounded quotient, as is the literal
 * fraction it is compared with. The scikit-learn comparisons are in sklearn-reference.test.ts
 * (through the trainer) and feedback-realized.test.ts (as the worker calls it).
 */
import { describe, expect, it } from "vitest";
import { confusionCounts, rocAuc, thresholdMetrics } from "../../../worker/contract/classification-metrics";
import { continuousDataset, tiedDataset } from "./fixtures/lcg-datasets";

/** Every (positive, negative) pair, 2 for a positive above, 1 for a tie: the definition, in O(n²). */
function pairwiseAuc(labels: Uint8Array, scores: Float64Array): number {
  let twiceU = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] === 1) continue;
      pairs++;
      twiceU += scores[i]! > scores[j]! ? 2 : scores[i] === scores[j] ? 1 : 0;
    }
  }
  return twiceU / (2 * pairs);
}

describe("rocAuc", () => {
  it("scikit-learn's documented example: 0.75", () => {
    // (0.35 vs 0.1) right, (0.35 vs 0.4) wrong, 0.8 beats both: 3 of 4 pairs.
    expect(rocAuc({ labels: [0, 0, 1, 1], scores: [0.1, 0.4, 0.35, 0.8] })).toBe(0.75);
  });

  it("counts a positive tied with a negative one half", () => {
    // positive 0.5: beats 0.2 (1), ties 0.5 (½); positive 0.9 beats both (2): 3.5 of 4 pairs.
    expect(rocAuc({ labels: [0, 0, 1, 1], scores: [0.2, 0.5, 0.5, 0.9] })).toBe(0.875);
    // Ties within one class change nothing; ties across classes at two levels:
    // positive 0.8: ½ + 1 + 1; positive 0.5: 0 + ½ + 1; positive 0.1: 0. 4 of 9 pairs.
    expect(rocAuc({ labels: [1, 0, 1, 0, 0, 1], scores: [0.8, 0.8, 0.5, 0.5, 0.2, 0.1] })).toBe(4 / 9);
  });

  it("is one half when every score ties, whatever the class balance", () => {
    expect(rocAuc({ labels: [0, 1, 0, 1, 1], scores: [0.3, 0.3, 0.3, 0.3, 0.3] })).toBe(0.5);
    expect(rocAuc({ labels: [1, 0, 0, 0], scores: [0, 0, 0, 0] })).toBe(0.5);
  });

  it("is 1 for a perfect ranking, 0 for a reversed one, and ignores the score scale and row order", () => {
    expect(rocAuc({ labels: [0, 0, 1, 1], scores: [0.1, 0.2, 0.8, 0.9] })).toBe(1);
    expect(rocAuc({ labels: [1, 1, 0, 0], scores: [0.1, 0.2, 0.8, 0.9] })).toBe(0);
    expect(rocAuc({ labels: [0, 1, 0, 1], scores: [-5, 3, 1e-9, 40] })).toBe(1);
    expect(rocAuc({ labels: [1, 0, 0, 1], scores: [0.9, 0.4, 0.1, 0.35] })).toBe(0.75);
  });

  it("is null, for the caller to interpret, with one class or no rows", () => {
    expect(rocAuc({ labels: [1, 1], scores: [0.1, 0.9] })).toBeNull();
    expect(rocAuc({ labels: [0, 0, 0], scores: [0.1, 0.5, 0.9] })).toBeNull();
    expect(rocAuc({ labels: [1], scores: [0.5] })).toBeNull();
    expect(rocAuc({ labels: [], scores: [] })).toBeNull();
  });

  it("equals the pairwise definition exactly on 600 tied and 1000 continuous scores", () => {
    for (const { y, p } of [tiedDataset(), continuousDataset()]) {
      expect(rocAuc({ labels: y, scores: p })).toBe(pairwiseAuc(y, p));
    }
  });

  it("rejects labels and scores of different lengths", () => {
    expect(() => rocAuc({ labels: [0, 1], scores: [0.1] })).toThrow(/2 labels but 1 scores/);
  });

  it("does not compile with scores where the labels belong", () => {
    const y = Uint8Array.from([0, 1]);
    const p = Float64Array.from([0.2, 0.7]);
    // @ts-expect-error a Float64Array is not 0/1 labels (checked by `tsc -p tsconfig.node.json`)
    expect(() => rocAuc({ labels: p, scores: y })).not.toThrow();
    // @ts-expect-error number[] is not 0/1 labels either
    expect(() => rocAuc({ labels: [0.2, 0.7], scores: [0, 1] })).not.toThrow();
  });
});

describe("confusionCounts / thresholdMetrics", () => {
  it("counts a row at the threshold as positive, comparing in float32 as the edge does", () => {
    // Math.fround(0.45) < 0.45 as doubles; decision.ts compares fround(p) >= fround(threshold).
    expect(Math.fround(0.45) < 0.45).toBe(true);
    expect(confusionCounts({ labels: [1, 0], scores: [Math.fround(0.45), Math.fround(0.45) - 2 ** -25] }, 0.45)).toEqual({
      tp: 1,
      fp: 0,
      tn: 1,
      fn: 0,
    });
  });

  it("gives precision, recall, F1, accuracy and the predicted positive rate from the counts", () => {
    // Predicted positive: 0.9 (y 1), 0.6 (y 0), 0.7 (y 1); negative: 0.4 (y 1), 0.1 (y 0).
    const m = thresholdMetrics({ labels: [1, 0, 1, 1, 0], scores: [0.9, 0.6, 0.4, 0.7, 0.1] }, 0.5);
    expect(m).toEqual({
      threshold: 0.5,
      confusion: { tp: 2, fp: 1, tn: 1, fn: 1 },
      precision: 2 / 3,
      recall: 2 / 3,
      f1: 4 / 6,
      accuracy: 3 / 5,
      predicted_positive_rate: 3 / 5,
    });
  });

  it("gives null, not 0 or NaN, for each ratio whose denominator is zero", () => {
    // No predicted positives: precision undefined; recall 0 of 1.
    expect(thresholdMetrics({ labels: [1, 0], scores: [0.1, 0.2] }, 0.5)).toMatchObject({ precision: null, recall: 0, f1: 0, accuracy: 1 / 2 });
    // All one class, all true negatives: precision, recall and F1 undefined.
    expect(thresholdMetrics({ labels: [0, 0], scores: [0.1, 0.2] }, 0.5)).toMatchObject({
      precision: null,
      recall: null,
      f1: null,
      accuracy: 1,
      predicted_positive_rate: 0,
    });
    // All one class, all false positives: recall undefined, the rest defined.
    expect(thresholdMetrics({ labels: [0, 0], scores: [0.6, 0.9] }, 0.5)).toMatchObject({ precision: 0, recall: null, f1: 0, accuracy: 0 });
    expect(thresholdMetrics({ labels: [], scores: [] }, 0.5)).toEqual({
      threshold: 0.5,
      confusion: { tp: 0, fp: 0, tn: 0, fn: 0 },
      precision: null,
      recall: null,
      f1: null,
      accuracy: null,
      predicted_positive_rate: null,
    });
  });
});
