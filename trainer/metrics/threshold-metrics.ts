/**
 * Precision, recall, F1 and accuracy at a decision threshold (worker/contract/classification-metrics.ts
 * counts them; a row is positive when p reaches the threshold by the worker's rule). A ratio whose
 * denominator is zero is reported as 0, as scikit-learn does with zero_division=0, so the model card
 * always holds a finite JSON number.
 */
import { type ConfusionCounts, thresholdMetrics as thresholdMetricsOrNull } from "../../worker/contract/classification-metrics";
import { checkScores } from "./inputs";

export interface ThresholdMetrics {
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
  accuracy: number;
  confusion: ConfusionCounts;
}

export function thresholdMetrics(y: Uint8Array, p: Float64Array, threshold: number): ThresholdMetrics {
  checkScores(y, p);
  const m = thresholdMetricsOrNull({ labels: y, scores: p }, threshold);
  return {
    threshold,
    precision: m.precision ?? 0,
    recall: m.recall ?? 0,
    f1: m.f1 ?? 0,
    accuracy: m.accuracy ?? 0,
    confusion: m.confusion,
  };
}
