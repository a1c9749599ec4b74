import { describe, expect, it } from "vitest";
import { evaluate, FOLD_METRICS, manifestMetrics, summariseFolds } from "../../../trainer/metrics/evaluate";
import { expectClose } from "../../helpers/expect-close";
import { tiedDataset } from "./fixtures/lcg-datasets";
import { sklearnReference } from "./fixtures/sklearn-reference";

const TIERS = [
  { name: "HIGH", min: 0.75 },
  { name: "MEDIUM", min: 0.45 },
  { name: "LOW", min: 0 },
];

describe("evaluate", () => {
  const { y, p } = tiedDataset();
  const evaluation = evaluate(y, p, { threshold: 0.5, riskTiers: TIERS });

  // Tolerances as in sklearn-reference.test.ts: 1e-12 absolute, 1e-12 relative for log loss.
  it("bundles the individual metrics, each equal to scikit-learn's", () => {
    const ref = sklearnReference.tied;
    expect(evaluation.n).toBe(600);
    expect(evaluation.positives).toBe(198);
    expect(evaluation.prevalence).toBe(198 / 600);
    expectClose(evaluation.roc_auc, ref.roc_auc, 1e-12, "roc_auc");
    expectClose(evaluation.average_precision, ref.average_precision, 1e-12, "average_precision");
    expectClose(evaluation.log_loss, ref.log_loss, 1e-12 * ref.log_loss, "log_loss");
    expectClose(evaluation.brier, ref.brier, 1e-12, "brier");
    expect(evaluation.at_threshold.confusion).toEqual(ref.at_threshold[0]!.confusion);
    expectClose(evaluation.at_threshold.f1, ref.at_threshold[0]!.f1, 1e-15, "f1");
    expect(evaluation.risk_tiers.map((t) => t.name)).toEqual(["HIGH", "MEDIUM", "LOW"]);
    expect(evaluation.risk_tiers.reduce((a, t) => a + t.count, 0)).toBe(600);
    expect(evaluation.calibration.n_bins).toBe(10);
    expect(evaluation.curves.roc.fpr.length).toBe(ref.roc_points.dropped);
  });

  it("gives manifest metrics without curves that survive a JSON round trip unchanged", () => {
    const summary = manifestMetrics(evaluation);
    expect(summary).not.toHaveProperty("curves");
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
    expect(JSON.stringify(summary).length).toBeLessThan(4000);
  });

  it("rejects a one-class validation set and a threshold outside [0, 1]", () => {
    expect(() => evaluate(new Uint8Array(3), new Float64Array(3), { threshold: 0.5, riskTiers: TIERS })).toThrow(
      /both classes/,
    );
    expect(() => evaluate(y, p, { threshold: 1.5, riskTiers: TIERS })).toThrow(/threshold/);
  });
});

describe("summariseFolds", () => {
  it("gives the mean and population standard deviation of each scalar metric", () => {
    const base = evaluate(Uint8Array.from([0, 1]), Float64Array.from([0.2, 0.8]), { threshold: 0.5, riskTiers: TIERS });
    const a = { ...base, roc_auc: 0.8, log_loss: 0.4, at_threshold: { ...base.at_threshold, f1: 0.5 } };
    const b = { ...base, roc_auc: 0.9, log_loss: 0.6, at_threshold: { ...base.at_threshold, f1: 0.7 } };
    const summary = summariseFolds([a, b]);
    expect(Object.keys(summary)).toEqual([...FOLD_METRICS]);
    expectClose(summary.roc_auc.mean, 0.85, 1e-15);
    expectClose(summary.roc_auc.std, 0.05, 1e-15);
    expectClose(summary.log_loss.std, 0.1, 1e-15);
    expectClose(summary.f1.mean, 0.6, 1e-15);
    expect(summary.accuracy).toEqual({ mean: 1, std: 0 });
    expect(() => summariseFolds([])).toThrow(/no folds/);
  });
});
