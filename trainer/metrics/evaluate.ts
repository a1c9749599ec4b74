/**
 * Every validation metric in one JSON-friendly object. `manifestMetrics` drops the curves (hundreds
 * of points) for manifest.metrics; the model card reads them from the full Evaluation.
 */
import { averagePrecision } from "./average-precision";
import { brierScore } from "./brier-score";
import { calibrationTable, type CalibrationTable } from "./calibration-table";
import { checkProbabilities, requireBothClasses } from "./inputs";
import { logLoss } from "./log-loss";
import { precisionRecallCurve, type PrecisionRecallCurve } from "./precision-recall-curve";
import { riskTierTable, type RiskTierBound, type RiskTierRow } from "./risk-tier-table";
import { rocAuc } from "./roc-auc";
import { rocCurve, type RocCurve } from "./roc-curve";
import { thresholdMetrics, type ThresholdMetrics } from "./threshold-metrics";

export interface EvaluateOptions {
  threshold: number;
  riskTiers: readonly RiskTierBound[];
  calibrationBins?: number;
  /** Passed to rocCurve. */
  dropIntermediate?: boolean;
}

export interface EvaluationSummary {
  n: number;
  positives: number;
  prevalence: number;
  roc_auc: number;
  average_precision: number;
  log_loss: number;
  brier: number;
  at_threshold: ThresholdMetrics;
  risk_tiers: RiskTierRow[];
  calibration: CalibrationTable;
}

export interface Evaluation extends EvaluationSummary {
  curves: { roc: RocCurve; pr: PrecisionRecallCurve };
}

export function evaluate(y: Uint8Array, p: Float64Array, options: EvaluateOptions): Evaluation {
  const { threshold, riskTiers, calibrationBins = 10, dropIntermediate = true } = options;
  if (!(threshold >= 0 && threshold <= 1)) throw new RangeError(`threshold must be in [0, 1], got ${threshold}`);
  checkProbabilities(y, p);
  const { positives } = requireBothClasses(y, "evaluation");
  return {
    n: y.length,
    positives,
    prevalence: positives / y.length,
    roc_auc: rocAuc(y, p),
    average_precision: averagePrecision(y, p),
    log_loss: logLoss(y, p),
    brier: brierScore(y, p),
    at_threshold: thresholdMetrics(y, p, threshold),
    risk_tiers: riskTierTable(y, p, riskTiers),
    calibration: calibrationTable(y, p, calibrationBins),
    curves: { roc: rocCurve(y, p, { dropIntermediate }), pr: precisionRecallCurve(y, p) },
  };
}

export function manifestMetrics(evaluation: Evaluation): EvaluationSummary {
  const { curves: _curves, ...summary } = evaluation;
  return summary;
}

export const FOLD_METRICS = [
  "roc_auc",
  "average_precision",
  "log_loss",
  "brier",
  "precision",
  "recall",
  "f1",
  "accuracy",
  "ece",
] as const;
export type FoldMetric = (typeof FOLD_METRICS)[number];

function foldValue(e: EvaluationSummary, metric: FoldMetric): number {
  switch (metric) {
    case "precision":
    case "recall":
    case "f1":
    case "accuracy":
      return e.at_threshold[metric];
    case "ece":
      return e.calibration.ece;
    default:
      return e[metric];
  }
}

/** Mean and population standard deviation (ddof = 0, numpy's default) of each scalar metric across folds. */
export function summariseFolds(evaluations: readonly EvaluationSummary[]): Record<FoldMetric, { mean: number; std: number }> {
  if (evaluations.length === 0) throw new RangeError("no folds to summarise");
  const out = {} as Record<FoldMetric, { mean: number; std: number }>;
  for (const metric of FOLD_METRICS) {
    const values = evaluations.map((e) => foldValue(e, metric));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
    out[metric] = { mean, std: Math.sqrt(variance) };
  }
  return out;
}
