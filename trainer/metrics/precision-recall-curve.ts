/**
 * Precision-recall curve with scikit-learn's precision_recall_curve semantics: points ordered by
 * increasing threshold (recall non-increasing), ending with the (recall 0, precision 1) point that has
 * no threshold, so precision and recall have one more entry than thresholds.
 */
import { binaryClfCurve } from "./binary-clf-curve";
import { checkScores, countPositives } from "./inputs";

export interface PrecisionRecallCurve {
  precision: number[];
  recall: number[];
  /** Ascending distinct scores. */
  thresholds: number[];
}

export function precisionRecallCurve(y: Uint8Array, p: Float64Array): PrecisionRecallCurve {
  checkScores(y, p);
  const positives = countPositives(y);
  if (positives === 0) throw new RangeError("the precision-recall curve needs at least one positive row");
  const { fps, tps, thresholds } = binaryClfCurve(y, p);
  const precision: number[] = [];
  const recall: number[] = [];
  for (let k = tps.length - 1; k >= 0; k--) {
    precision.push(tps[k]! / (tps[k]! + fps[k]!));
    recall.push(tps[k]! / positives);
  }
  precision.push(1);
  recall.push(0);
  return { precision, recall, thresholds: [...thresholds].reverse() };
}
