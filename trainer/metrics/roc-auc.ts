/**
 * ROC AUC as the Mann-Whitney U statistic with midranks: the probability that a random positive
 * outscores a random negative, ties counting one half. Equal to scikit-learn's roc_auc_score (the
 * trapezoidal area under the tie-collapsed ROC curve) but computed from exact rank sums.
 */
import { checkScores, requireBothClasses } from "./inputs";

export function rocAuc(y: Uint8Array, p: Float64Array): number {
  checkScores(y, p);
  const { positives, negatives } = requireBothClasses(y, "ROC AUC");
  const order = new Uint32Array(p.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => p[a]! - p[b]!);
  // Ranks are 1-based; a run of ties from rank lo to hi shares the midrank (lo + hi) / 2.
  let positiveRankSum = 0;
  let start = 0;
  while (start < order.length) {
    let end = start;
    while (end + 1 < order.length && p[order[end + 1]!] === p[order[start]!]) end++;
    const midrank = (start + 1 + end + 1) / 2;
    for (let k = start; k <= end; k++) if (y[order[k]!] === 1) positiveRankSum += midrank;
    start = end + 1;
  }
  const u = positiveRankSum - (positives * (positives + 1)) / 2;
  return u / (positives * negatives);
}
