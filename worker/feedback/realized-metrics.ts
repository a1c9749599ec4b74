/**
 * Metrics of a model version against ground truth, and what they are expected to be from the
 * calibrated scores alone where labels are missing. Plain functions over arrays: no D1, no Hono.
 * Each sorts once, O(n log n), in native typed-array sorts.
 *
 * Realized ROC AUC is the Mann–Whitney statistic with ties counted one half, which is what
 * scikit-learn's roc_auc_score (trapezoids under the ROC curve) computes; it is undefined (null)
 * unless both classes occur. Counts are summed as integers, so the result is exact up to the one
 * final division.
 *
 * Expected AUC, when the labels are taken as independent Bernoulli(p_i) with p_i the calibrated
 * score (the ratio of expectations, which is what "the AUC if the model is calibrated" means for
 * large n; the expectation of the ratio differs by O(1/n)):
 *
 *   E[AUC] ≈ Σ_{i≠j} p_i (1 − p_j) K(s_i, s_j) / Σ_{i≠j} p_i (1 − p_j),   K = 1 if s_i > s_j, ½ if s_i = s_j, else 0
 *
 * with s = p. Sorted ascending, the numerator is Σ_i p_i (L_i + ½ (T_i − (1 − p_i))), where L_i sums
 * (1 − p_j) over strictly lower scores and T_i over i's tie group (i itself included, hence the
 * correction); the denominator is (Σp)(Σ(1 − p)) − Σ p_i (1 − p_i).
 */
import { reaches } from "../contract/decision";

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface ThresholdMetrics {
  confusion: Confusion;
  /** tp / (tp + fp); null with no predicted positives. */
  precision: number | null;
  /** tp / (tp + fn); null with no positive labels. */
  recall: number | null;
  /** Share of rows at or above the threshold. */
  predicted_positive_rate: number | null;
}

/** A sorted copy: typed arrays sort numerically in native code, far faster than an index sort with a comparator. */
function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/** ROC AUC of scores against 0/1 labels (ties ½); null unless both classes are present. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i] === 1 ? 1 : 0;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return null;
  const pos = new Float64Array(positives);
  const neg = new Float64Array(negatives);
  for (let i = 0, a = 0, b = 0; i < labels.length; i++) {
    if (labels[i] === 1) pos[a++] = scores[i]!;
    else neg[b++] = scores[i]!;
  }
  pos.sort();
  neg.sort();
  // Twice the Mann–Whitney U, in integers: each positive scores 2 per lower negative, 1 per tied one.
  let twiceU = 0;
  let below = 0;
  for (let i = 0; i < positives; ) {
    const score = pos[i]!;
    while (below < negatives && neg[below]! < score) below++;
    let tied = below;
    while (tied < negatives && neg[tied] === score) tied++;
    let next = i + 1;
    while (next < positives && pos[next] === score) next++;
    twiceU += (next - i) * (2 * below + (tied - below));
    i = next;
  }
  return twiceU / (2 * positives * negatives);
}

/** Decisions by the manifest's rule (float32 comparison, contract/decision.ts) against the labels. */
export function thresholdMetrics(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): ThresholdMetrics {
  const confusion: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < scores.length; i++) {
    const predicted = reaches(scores[i]!, threshold);
    if (labels[i] === 1) predicted ? confusion.tp++ : confusion.fn++;
    else predicted ? confusion.fp++ : confusion.tn++;
  }
  const n = scores.length;
  return {
    confusion,
    precision: ratio(confusion.tp, confusion.tp + confusion.fp),
    recall: ratio(confusion.tp, confusion.tp + confusion.fn),
    predicted_positive_rate: ratio(confusion.tp + confusion.fp, n),
  };
}

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
    positive_rate: ratio(sum, p.length),
    roc_auc: expectedRocAuc(p),
    predicted_positive_rate: ratio(above, p.length),
    precision: ratio(sumAbove, above),
    recall: ratio(sumAbove, sum),
  };
}

export function expectedRocAuc(p: ArrayLike<number>): number | null {
  if (p.length < 2) return null;
  const sorted = sortedCopy(p);
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

function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}
