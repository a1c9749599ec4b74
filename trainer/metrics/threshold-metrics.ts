/**
 * Precision, recall, F1 and accuracy at a decision threshold (a row is positive when p reaches it by
 * the worker's rule, worker/contract/decision.ts). A ratio whose denominator is zero is reported as
 * 0, as scikit-learn does with zero_division=0, so the result is always a finite JSON number.
 */
import { confusionMatrix, type ConfusionMatrix } from "./confusion-matrix";

export interface ThresholdMetrics {
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
  accuracy: number;
  confusion: ConfusionMatrix;
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

export function thresholdMetrics(y: Uint8Array, p: Float64Array, threshold: number): ThresholdMetrics {
  const confusion = confusionMatrix(y, p, threshold);
  const { tp, fp, tn, fn } = confusion;
  return {
    threshold,
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    f1: ratio(2 * tp, 2 * tp + fp + fn),
    accuracy: ratio(tp + tn, tp + fp + tn + fn),
    confusion,
  };
}
