/**
 * Against scikit-learn 1.2.1 / numpy 1.24.2 on two seeded data sets: 600 rows of scores on a 0.01
 * grid (heavy ties, some exact 0 and 1) and 1000 rows of continuous scores. Numbers produced by
 * scripts/reference/metrics_reference.py. Tolerances: 1e-12 absolute for AUC, AP, Brier, calibration
 * and curve points; 1e-12 relative for log loss; counts and thresholds exact.
 */
import { describe, expect, it } from "vitest";
import { averagePrecision } from "../../../trainer/metrics/average-precision";
import { brierScore } from "../../../trainer/metrics/brier-score";
import { calibrationTable, uniformBinEdges } from "../../../trainer/metrics/calibration-table";
import { logLoss } from "../../../trainer/metrics/log-loss";
import { precisionRecallCurve } from "../../../trainer/metrics/precision-recall-curve";
import { rocAuc } from "../../../trainer/metrics/roc-auc";
import { rocCurve } from "../../../trainer/metrics/roc-curve";
import { thresholdMetrics } from "../../../trainer/metrics/threshold-metrics";
import { expectAllClose, expectClose } from "../../helpers/expect-close";
import { continuousDataset, tiedDataset, type Dataset } from "./fixtures/lcg-datasets";
import { sklearnReference } from "./fixtures/sklearn-reference";

const TOL = 1e-12;

const cases = [
  ["tied scores", tiedDataset(), sklearnReference.tied],
  ["continuous scores", continuousDataset(), sklearnReference.continuous],
] as const;

function sum(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s;
}

describe.each(cases)("scikit-learn reference: %s", (_name, data: Dataset, ref) => {
  const { y, p } = data;

  it("regenerates the same inputs as the Python script", () => {
    expect(y.length).toBe(ref.checksum.n);
    expect(sum(y)).toBe(ref.checksum.positives);
    expect(Array.from(p.subarray(0, 5))).toEqual(ref.checksum.first_p);
    expectClose(sum(p), ref.checksum.sum_p, 1e-9, "sum p");
  });

  it("matches roc_auc_score, average_precision_score, log_loss and brier_score_loss", () => {
    expectClose(rocAuc(y, p), ref.roc_auc, TOL, "roc_auc");
    expectClose(averagePrecision(y, p), ref.average_precision, TOL, "average_precision");
    expectClose(logLoss(y, p), ref.log_loss, TOL * ref.log_loss, "log_loss");
    expectClose(brierScore(y, p), ref.brier, TOL, "brier");
  });

  it("matches confusion_matrix and precision/recall/f1/accuracy at 0.5 and 0.3", () => {
    for (const expected of ref.at_threshold) {
      const m = thresholdMetrics(y, p, expected.threshold);
      expect(m.confusion).toEqual(expected.confusion);
      for (const key of ["precision", "recall", "f1", "accuracy"] as const)
        expectClose(m[key], expected[key], 1e-15, `${key}@${expected.threshold}`);
    }
  });

  it("matches calibration_curve(strategy='uniform') with 10 and 7 bins", () => {
    for (const expected of ref.calibration) {
      expect(uniformBinEdges(expected.n_bins)).toEqual(expected.edges);
      const table = calibrationTable(y, p, expected.n_bins);
      expect(table.bins.map((b) => b.count)).toEqual(expected.counts);
      expectAllClose(table.bins.map((b) => b.observed_rate), expected.observed_rate, TOL, "prob_true");
      expectAllClose(table.bins.map((b) => b.mean_predicted), expected.mean_predicted, TOL, "prob_pred");
    }
  });

  it("matches roc_curve and precision_recall_curve point counts", () => {
    expect(rocCurve(y, p).fpr).toHaveLength(ref.roc_points.dropped);
    expect(rocCurve(y, p, { dropIntermediate: false }).fpr).toHaveLength(ref.roc_points.all);
    expect(precisionRecallCurve(y, p).precision).toHaveLength(ref.pr_points);
  });
});

describe("scikit-learn reference curves (tied scores)", () => {
  const { y, p } = tiedDataset();
  const ref = sklearnReference.tied;

  it("matches roc_curve with and without drop_intermediate", () => {
    for (const [dropIntermediate, expected] of [
      [true, ref.roc],
      [false, ref.roc_all],
    ] as const) {
      const curve = rocCurve(y, p, { dropIntermediate });
      expectAllClose(curve.fpr, expected.fpr, TOL, "fpr");
      expectAllClose(curve.tpr, expected.tpr, TOL, "tpr");
      // scikit-learn < 1.3 starts with max + 1, >= 1.3 (and we) with +Infinity.
      expect(curve.thresholds[0]).toBe(Infinity);
      expect(curve.thresholds.slice(1)).toEqual(expected.thresholds_tail);
    }
  });

  it("matches precision_recall_curve", () => {
    const curve = precisionRecallCurve(y, p);
    expectAllClose(curve.precision, ref.pr.precision, TOL, "precision");
    expectAllClose(curve.recall, ref.pr.recall, TOL, "recall");
    expect(curve.thresholds).toEqual(ref.pr.thresholds);
  });
});

describe("scikit-learn reference curves (continuous scores)", () => {
  it("matches the sums of roc_curve's fpr and tpr", () => {
    const { y, p } = continuousDataset();
    const curve = rocCurve(y, p);
    expectClose(sum(curve.fpr), sklearnReference.continuous.roc_sums.fpr, 1e-9, "sum fpr");
    expectClose(sum(curve.tpr), sklearnReference.continuous.roc_sums.tpr, 1e-9, "sum tpr");
  });
});
