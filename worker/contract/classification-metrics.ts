/**
 * ROC AUC and the confusion counts at a decision threshold, shared by the trainer (model card,
 * release gate) and the worker (realized metrics on labelled predictions), so both give the same
 * number for the same rows.
 *
 * Rows are passed by name, `{ labels, scores }`: both are arrays of numbers, so a positional call
 * with the two swapped would compile. Labels are typed 0/1 (a Uint8Array or an array of 0 | 1), so
 * a Float64Array or number[] of scores is rejected where labels belong.
 *
 * Nothing here decides what an undefined value means: AUC without both classes and every ratio
 * with a zero denominator are null, and each caller maps null to its own convention (the trainer
 * throws or reports 0 as scikit-learn does, the worker reports null). Scores are not checked for
 * NaN and a label other than 1 counts as negative: callers that take outside data check it first.
 */
import { reaches } from "./decision";

export type BinaryLabels = Uint8Array | ArrayLike<0 | 1>;

export interface LabelledScores {
  labels: BinaryLabels;
  scores: ArrayLike<number>;
}

export interface ConfusionCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface ThresholdMetrics {
  threshold: number;
  confusion: ConfusionCounts;
  /** tp / (tp + fp): null with no predicted positives. */
  precision: number | null;
  /** tp / (tp + fn): null with no positive labels. */
  recall: number | null;
  /** 2tp / (2tp + fp + fn): null with neither a positive label nor a predicted positive. */
  f1: number | null;
  /** (tp + tn) / rows: null with no rows. */
  accuracy: number | null;
  /** (tp + fp) / rows: the share of rows at or above the threshold; null with no rows. */
  predicted_positive_rate: number | null;
}

/** a / b, or null when b is 0. */
export function ratioOrNull(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}

function rowCount({ labels, scores }: LabelledScores): number {
  if (labels.length !== scores.length) throw new RangeError(`${labels.length} labels but ${scores.length} scores`);
  return labels.length;
}

/**
 * The Mann–Whitney statistic: the probability that a random positive outscores a random negative,
 * ties counting one half. This equals scikit-learn's roc_auc_score (trapezoids under the
 * tie-collapsed ROC curve). Null unless both classes occur.
 */
export function rocAuc(rows: LabelledScores): number | null {
  const n = rowCount(rows);
  const { labels, scores } = rows;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] === 1 ? 1 : 0;
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  // Typed arrays sort numerically in native code, far faster than an index sort with a comparator.
  const pos = new Float64Array(positives);
  const neg = new Float64Array(negatives);
  for (let i = 0, a = 0, b = 0; i < n; i++) {
    if (labels[i] === 1) pos[a++] = scores[i]!;
    else neg[b++] = scores[i]!;
  }
  pos.sort();
  neg.sort();
  // Twice U in integers (2 per lower negative, 1 per tied one), so the result is exact up to the one
  // final division.
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

/** A row is predicted positive when its score reaches the threshold by the serving rule (decision.ts). */
export function confusionCounts(rows: LabelledScores, threshold: number): ConfusionCounts {
  const n = rowCount(rows);
  const { labels, scores } = rows;
  const counts: ConfusionCounts = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < n; i++) {
    const predicted = reaches(scores[i]!, threshold);
    if (labels[i] === 1) predicted ? counts.tp++ : counts.fn++;
    else predicted ? counts.fp++ : counts.tn++;
  }
  return counts;
}

export function thresholdMetrics(rows: LabelledScores, threshold: number): ThresholdMetrics {
  const confusion = confusionCounts(rows, threshold);
  const { tp, fp, tn, fn } = confusion;
  const n = tp + fp + tn + fn;
  return {
    threshold,
    confusion,
    precision: ratioOrNull(tp, tp + fp),
    recall: ratioOrNull(tp, tp + fn),
    f1: ratioOrNull(2 * tp, 2 * tp + fp + fn),
    accuracy: ratioOrNull(tp + tn, n),
    predicted_positive_rate: ratioOrNull(tp + fp, n),
  };
}
