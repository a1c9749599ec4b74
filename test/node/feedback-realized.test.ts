/**
 * Realized metrics (worker/contract/classification-metrics.ts) and expected metrics
 * (worker/feedback/expected-metrics.ts) against scikit-learn 1.2.1 (fixtures from
 * scripts/reference/realized-metrics-reference.py) within 1e-9; expected metrics also against small
 * cases worked by hand, ties included. The realized metrics' hand-worked cases are in
 * test/node/metrics/classification-metrics.test.ts.
 */
import { describe, expect, it } from "vitest";
import { rocAuc, thresholdMetrics } from "../../worker/contract/classification-metrics";
import { expectedMetrics, expectedRocAuc } from "../../worker/feedback/expected-metrics";
import { buildGroundTruthSection } from "../../worker/feedback/realized";
import reference from "./feedback-fixtures/realized-reference.json";
import { expectClose } from "../helpers/expect-close";

const SKLEARN_TOLERANCE = 1e-9;

describe("against scikit-learn (1e-9)", () => {
  for (const c of reference.cases) {
    it(c.name, () => {
      const scores = Float64Array.from(c.scores, Math.fround);
      const labels = Uint8Array.from(c.labels);
      expectClose(rocAuc({ labels, scores }), c.roc_auc, SKLEARN_TOLERANCE);
      const atThreshold = thresholdMetrics({ labels, scores }, c.threshold);
      if (c.precision === null) expect(atThreshold.precision).toBeNull();
      else expectClose(atThreshold.precision, c.precision, SKLEARN_TOLERANCE);
      expectClose(atThreshold.recall, c.recall, SKLEARN_TOLERANCE);
      expectClose(atThreshold.predicted_positive_rate, c.predicted_positive_rate, SKLEARN_TOLERANCE);
      if ("expected_roc_auc" in c && c.expected_roc_auc !== undefined) {
        // numpy sums 4-9 million products in another order: agreement to 1e-9 is rounding, not luck.
        expectClose(expectedRocAuc(scores), c.expected_roc_auc, SKLEARN_TOLERANCE);
        expectClose(expectedMetrics(scores, c.threshold).positive_rate, c.expected_positive_rate!, SKLEARN_TOLERANCE);
      }
    });
  }
});

describe("expected metrics from calibrated scores, by hand", () => {
  it("two rows: 0.8·0.8 / (0.8·0.8 + 0.2·0.2) = 16/17", () => {
    expect(expectedRocAuc([0.2, 0.8])).toBeCloseTo(16 / 17, 15);
    expect(expectedRocAuc([0.8, 0.2])).toBeCloseTo(16 / 17, 15);
  });

  it("ties count one half: [0.2, 0.5, 0.5] gives 1.05 / 1.5 = 0.7", () => {
    // pairs (i,j), weight p_i(1-p_j), kernel: (.5,.2) .4·1 twice; (.5,.5) .25·½ twice; (.2,.5) .1·0 twice
    expect(expectedRocAuc([0.5, 0.2, 0.5])).toBeCloseTo(0.7, 15);
    expect(expectedRocAuc([0.5, 0.5])).toBeCloseTo(0.5, 15);
  });

  it("undefined for fewer than two rows or certain labels", () => {
    expect(expectedRocAuc([0.3])).toBeNull();
    expect(expectedRocAuc([1, 1, 1])).toBeNull();
    expect(expectedRocAuc([0, 0])).toBeNull();
  });

  it("positive rate, precision and recall at the threshold", () => {
    const m = expectedMetrics([0.2, 0.6, 0.9], 0.5);
    expect(m.positive_rate).toBeCloseTo(1.7 / 3, 15);
    expect(m.predicted_positive_rate).toBeCloseTo(2 / 3, 15);
    expect(m.precision).toBeCloseTo(1.5 / 2, 15);
    expect(m.recall).toBeCloseTo(1.5 / 1.7, 15);
  });

  it("nothing to estimate from: nulls, not NaN", () => {
    expect(expectedMetrics([], 0.5)).toEqual({ positive_rate: null, roc_auc: null, predicted_positive_rate: null, precision: null, recall: null });
  });
});

describe("the report section", () => {
  const base = {
    model: "m",
    version: 1,
    windowStart: "2026-11-30T00:00:00.000Z",
    windowEnd: "2026-11-30T01:00:00.000Z",
    manifest: { output: { threshold: 0.5 } } as never,
    unlabelled: [0.3, 0.7],
  };

  it("below min_labels the realized part reads insufficient labels", () => {
    const section = buildGroundTruthSection({ ...base, minLabels: 5, scores: [0.9, 0.1], labels: [1, 0] });
    expect(section.realized).toEqual({ status: "insufficient_labels", reason: "2 labels in the window, 5 needed" });
    expect(section.labels).toMatchObject({ count: 2, positives: 1, negatives: 1 });
    expect(section.expected.count).toBe(2);
    expect(section.expected.positive_rate).toBeCloseTo(0.5, 15);
  });

  it("enough labels but one class: insufficient, with the reason", () => {
    const section = buildGroundTruthSection({ ...base, minLabels: 2, scores: [0.9, 0.1, 0.4], labels: [0, 0, 0] });
    expect(section.realized.status).toBe("insufficient_labels");
    expect(section.realized).toMatchObject({ reason: "all 3 labels are negative: AUC needs both classes" });
  });

  it("with enough labels: AUC, precision, recall, rates and the confusion matrix", () => {
    const section = buildGroundTruthSection({ ...base, minLabels: 4, scores: [0.9, 0.6, 0.4, 0.7, 0.1], labels: [1, 0, 1, 1, 0], joinedBy: { token: 3, sample: 1, shadow: 1 } });
    expect(section.realized).toEqual({
      status: "ok",
      // positives 0.9, 0.7 beat both negatives (0.6, 0.1), 0.4 beats 0.1 only: 5 of 6 pairs
      roc_auc: 5 / 6,
      precision: 2 / 3,
      recall: 2 / 3,
      predicted_positive_rate: 3 / 5,
      observed_positive_rate: 3 / 5,
      expected_positive_rate: (0.9 + 0.6 + 0.4 + 0.7 + 0.1) / 5,
      confusion: { tp: 2, fp: 1, tn: 1, fn: 1 },
    });
    expect(section.labels.joined_by).toEqual({ token: 3, sample: 1, shadow: 1 });
  });
});
