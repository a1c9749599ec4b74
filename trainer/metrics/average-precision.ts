/**
 * Average precision with scikit-learn's average_precision_score semantics: the step-function sum
 * of precision at each distinct score weighted by the recall gained there (no interpolation). Tied
 * scores are one operating point.
 */
import { binaryClfCurve } from "./binary-clf-curve";
import { checkScores, countPositives } from "./inputs";

export function averagePrecision(y: Uint8Array, p: Float64Array): number {
  checkScores(y, p);
  const positives = countPositives(y);
  if (positives === 0) throw new RangeError("average precision needs at least one positive row");
  const { fps, tps } = binaryClfCurve(y, p);
  let ap = 0;
  let previousRecall = 0;
  for (let k = 0; k < tps.length; k++) {
    const recall = tps[k]! / positives;
    ap += (recall - previousRecall) * (tps[k]! / (tps[k]! + fps[k]!));
    previousRecall = recall;
  }
  return ap;
}
