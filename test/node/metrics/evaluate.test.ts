import { describe, expect, it } from "vitest";
import { averagePrecision } from "../../../trainer/metrics/average-precision";
import { evaluate, FOLD_METRICS, manifestMetrics, summariseFolds } from "../../../trainer/metrics/evaluate";
import { logLoss } from "../../../trainer/metrics/log-loss";
import { rocAuc } from "../../../trainer/metrics/roc-auc";
import { expectClose } from "./fixtures/close";
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

  it("bundles the individual metrics", () => {
    expect(evaluation.n).toBe(600);
    expect(evaluation.positives).toBe(198);
    expect(evaluation.prevalence).toBe(198 / 600);
    expect(evaluation.roc_auc).toBe(rocAuc(y, p));
    expect(evaluation.average_precision).toBe(averagePrecision(y, p));
    expect(evaluation.log_loss).toBe(logLoss(y, p));
    expect(evaluation.at_threshold.confusion).toEqual(sklearnReference.tied.at_threshold[0]!.confusion);
    expect(evaluation.risk_tiers.map((t) => t.name)).toEqual(["HIGH", "MEDIUM", "LOW"]);
    expect(evaluation.risk_tiers.reduce((a, t) => a + t.count, 0)).toBe(600);
    expect(evaluation.calibration.n_bins).toBe(10);
    expect(evaluation.curves.roc.fpr.length).toBe(sklearnReference.tied.roc_points.dropped);
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
