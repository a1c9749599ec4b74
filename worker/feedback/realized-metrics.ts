/**
 * Metrics of a model version against ground truth, and what they are expected to be from the
 * calibrated scores alone where labels are missing. Plain functions over arrays: no D1, no Hono.
 * Each sorts once, O(n log n), so a window of 100,000 predictions costs milliseconds.
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

/** Indices of `scores` in ascending score order. */
function ascending(scores: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => scores[a]! - scores[b]!);
}

/** Calls visit(start, end) for each run order[start..end) of equal scores, lowest first. */
function forEachTieGroup(scores: ArrayLike<number>, order: Uint32Array, visit: (start: number, end: number) => void): void {
  for (let start = 0; start < order.length; ) {
    const score = scores[order[start]!];
    let end = start + 1;
    while (end < order.length && scores[order[end]!] === score) end++;
    visit(start, end);
    start = end;
  }
}

/** ROC AUC of scores against 0/1 labels (ties ½); null unless both classes are present. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const order = ascending(scores);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i] === 1 ? 1 : 0;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return null;
  // Twice the Mann–Whitney U, in integers: each positive scores 2 per lower negative, 1 per tied one.
  let twiceU = 0;
  let negativesBelow = 0;
  forEachTieGroup(scores, order, (start, end) => {
    let groupPositives = 0;
    for (let k = start; k < end; k++) groupPositives += labels[order[k]!] === 1 ? 1 : 0;
    const groupNegatives = end - start - groupPositives;
    twiceU += groupPositives * (2 * negativesBelow + groupNegatives);
    negativesBelow += groupNegatives;
  });
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
  const order = ascending(p);
  let numerator = 0;
  let sumP = 0;
  let sumQ = 0;
  let selfPairs = 0;
  let lowerQ = 0;
  forEachTieGroup(p, order, (start, end) => {
    let groupP = 0;
    let groupQ = 0;
    let groupPQ = 0;
    for (let k = start; k < end; k++) {
      const pi = p[order[k]!]!;
      groupP += pi;
      groupQ += 1 - pi;
      groupPQ += pi * (1 - pi);
    }
    // Σ_{i in group} p_i (L + ½ (T − q_i)) = L·ΣP + ½ (ΣP·T − Σ p_i q_i)
    numerator += lowerQ * groupP + 0.5 * (groupP * groupQ - groupPQ);
    lowerQ += groupQ;
    sumP += groupP;
    sumQ += groupQ;
    selfPairs += groupPQ;
  });
  const denominator = sumP * sumQ - selfPairs;
  return denominator > 0 ? numerator / denominator : null;
}

function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}
