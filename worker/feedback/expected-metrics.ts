/**
 * What a model version's metrics are expected to be from its calibrated scores alone, for the
 * predictions that have no label yet. Plain functions over arrays: no D1, no Hono. The realized
 * metrics on labelled rows are worker/contract/classification-metrics.ts, the trainer's too.
 *
 * Expected AUC, when the labels are taken as independent Bernoulli(p_i) with p_i the calibrated
 * score (the ratio of expectations, which is what "the AUC if the model is calibrated" means for
 * large n; the expectation of the ratio differs by O(1/n)):
 *
 *   E[AUC] ≈ Σ_{i≠j} p_i (1 − p_j) K(s_i, s_j) / Σ_{i≠j} p_i (1 − p_j),   K = 1 if s_i > s_j, ½ if s_i = s_j, else 0
 *
 * with s = p. Sorted ascending, the numerator is Σ_i p_i (L_i + ½ (T_i − (1 − p_i))), where L_i sums
 * (1 − p_j) over strictly lower scores and T_i over i's tie group (i itself included, hence the
 * correction); the denominator is (Σp)(Σ(1 − p)) − Σ p_i (1 − p_i). One native typed-array sort,
 * O(n log n).
 */
import { ratioOrNull } from "../contract/classification-metrics";
import { reaches } from "../contract/decision";

export interface ExpectedMetrics {
  /** Mean p: the positive rate the labels should show if the scores are calibrated. */
  positive_rate: number | null;
  /** E[AUC] under Bernoulli(p) labels (formula above); null for fewer than two rows or all p in {0} or {1}. */
  roc_auc: number | null;
  predicted_positive_rate: number | null;
  /** Σ_{p≥t} p / #{p≥t}: expected precision at the threshold. */
  precision: number | null;
  /** Σ_{p≥t} p / Σ p: expected recall at the threshold. */
  recall: number | null;
}

/** What calibrated scores alone predict for the metrics, with no labels. */
export function expectedMetrics(p: ArrayLike<number>, threshold: number): ExpectedMetrics {
  let sum = 0;
  let above = 0;
  let sumAbove = 0;
  for (let i = 0; i < p.length; i++) {
    sum += p[i]!;
    if (reaches(p[i]!, threshold)) {
      above++;
      sumAbove += p[i]!;
    }
  }
  return {
    positive_rate: ratioOrNull(sum, p.length),
    roc_auc: expectedRocAuc(p),
    predicted_positive_rate: ratioOrNull(above, p.length),
    precision: ratioOrNull(sumAbove, above),
    recall: ratioOrNull(sumAbove, sum),
  };
}

export function expectedRocAuc(p: ArrayLike<number>): number | null {
  if (p.length < 2) return null;
  // Typed arrays sort numerically in native code, far faster than an index sort with a comparator.
  const sorted = Float64Array.from(p).sort();
  let numerator = 0;
  let sumP = 0;
  let sumQ = 0;
  let selfPairs = 0;
  let lowerQ = 0;
  for (let start = 0; start < sorted.length; ) {
    const score = sorted[start]!;
    let end = start;
    let groupP = 0;
    let groupQ = 0;
    let groupPQ = 0;
    for (; end < sorted.length && sorted[end] === score; end++) {
      groupP += score;
      groupQ += 1 - score;
      groupPQ += score * (1 - score);
    }
    // Σ_{i in group} p_i (L + ½ (T − q_i)) = L·ΣP + ½ (ΣP·T − Σ p_i q_i)
    numerator += lowerQ * groupP + 0.5 * (groupP * groupQ - groupPQ);
    lowerQ += groupQ;
    sumP += groupP;
    sumQ += groupQ;
    selfPairs += groupPQ;
    start = end;
  }
  const denominator = sumP * sumQ - selfPairs;
  return denominator > 0 ? numerator / denominator : null;
}
