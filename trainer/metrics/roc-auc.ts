/**
 * ROC AUC for the model card, the gate and the benchmarks (worker/contract/classification-metrics.ts
 * computes it). Inputs are checked and a one-class set throws, as scikit-learn raises, because a
 * gate or card must never carry an AUC of null.
 */
import { rocAuc as rocAucOrNull } from "../../worker/contract/classification-metrics";
import { checkScores, requireBothClasses } from "./inputs";

export function rocAuc(y: Uint8Array, p: Float64Array): number {
  checkScores(y, p);
  requireBothClasses(y, "ROC AUC");
  return rocAucOrNull({ labels: y, scores: p })!;
}
