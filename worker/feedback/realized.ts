/**
 * The drift report's ground-truth section for one model version and window: realized ROC AUC,
 * precision and recall on the labels joined so far (contract/classification-metrics.ts, as the
 * trainer computes them), and the label-free estimate (expected-metrics.ts) on the window's sampled
 * predictions that have no label yet.
 *
 * A shadow version never answers, so no label names it. Its rows are the request rows it scored:
 * its shadow_pairs, and its sample rows (arm 'shadow') of requests with no pair, each request row
 * once (both tables hold at most one row per request row and shadow version). A row is labelled
 * when the answering version's label sits on the same (request id, row), scored with the shadow's
 * own probability; request ids are the Worker's own, so one label is one row, never a row per
 * request that reused a client's id.
 *
 * Labels belong to the window their prediction was made in (predicted_at), not the one they
 * arrived in, so a window's realized metrics fill in as late labels come. Below `minLabels` labels,
 * or without both classes, the realized part reads "insufficient_labels" rather than a number no
 * one should act on.
 */
import { type BinaryLabels, type ConfusionCounts, rocAuc, thresholdMetrics } from "../contract/classification-metrics";
import type { Manifest } from "../contract/manifest";
import type { Db } from "../db/open-db";
import { type ExpectedMetrics, expectedMetrics } from "./expected-metrics";

export const DEFAULT_MIN_LABELS = 100;

export interface GroundTruthOptions {
  model: string;
  version: number;
  /** ISO 8601, start inclusive, end exclusive (as drift_reports' window). */
  windowStart: string;
  windowEnd: string;
  manifest: Pick<Manifest, "output">;
  minLabels?: number;
}

export type RealizedMetrics =
  | {
      status: "ok";
      roc_auc: number | null;
      precision: number | null;
      recall: number | null;
      predicted_positive_rate: number | null;
      /** Share of labels that are positive. */
      observed_positive_rate: number;
      /** Mean score of the labelled rows: beside observed_positive_rate, a calibration check. */
      expected_positive_rate: number;
      confusion: ConfusionCounts;
    }
  | { status: "insufficient_labels"; reason: string };

export interface GroundTruthSection {
  window: { start: string; end: string };
  threshold: number;
  min_labels: number;
  /** joined_by: how the labelled rows were found; shadow = through a shadow pair of this version. */
  labels: { count: number; positives: number; negatives: number; joined_by: { token: number; sample: number; shadow: number } };
  realized: RealizedMetrics;
  /** From calibrated scores, on the window's sampled predictions (and shadow pairs) that have no label. */
  expected: ExpectedMetrics & { basis: "unlabelled sampled predictions"; count: number };
}

/** The request rows version ?2 scored as a shadow in the window, one row per (request id, row). */
const SHADOW_ROWS = `shadow_rows AS (
  SELECT request_id, row_index, shadow_probability AS probability FROM shadow_pairs
  WHERE model_name = ?1 AND shadow_version = ?2 AND created_at >= ?3 AND created_at < ?4
  UNION ALL
  SELECT s.request_id, s.row_index, s.probability FROM request_samples s
  WHERE s.model_name = ?1 AND s.version = ?2 AND s.arm = 'shadow' AND s.created_at >= ?3 AND s.created_at < ?4
    AND NOT EXISTS (SELECT 1 FROM shadow_pairs p WHERE p.request_id = s.request_id AND p.row_index = s.row_index AND p.shadow_version = ?2))`;

const LABELLED_SQL = `WITH ${SHADOW_ROWS}
  SELECT label, probability, joined_by AS source FROM prediction_labels
  WHERE model_name = ?1 AND version = ?2 AND predicted_at >= ?3 AND predicted_at < ?4
  UNION ALL
  SELECT l.label, r.probability, 'shadow' FROM shadow_rows r
  JOIN prediction_labels l ON l.request_id = r.request_id AND l.row_index = r.row_index AND l.model_name = ?1 AND l.version <> ?2`;

const UNLABELLED_SQL = `WITH ${SHADOW_ROWS}
  SELECT s.probability FROM request_samples s
  WHERE s.model_name = ?1 AND s.version = ?2 AND s.arm <> 'shadow' AND s.created_at >= ?3 AND s.created_at < ?4
    AND NOT EXISTS (SELECT 1 FROM prediction_labels l WHERE l.request_id = s.request_id AND l.row_index = s.row_index)
  UNION ALL
  SELECT r.probability FROM shadow_rows r
  WHERE NOT EXISTS (SELECT 1 FROM prediction_labels l WHERE l.request_id = r.request_id AND l.row_index = r.row_index)`;

/** Reads the window's labels and unlabelled samples in one D1 batch (one round trip) and computes the section. */
export async function groundTruthSection(db: Db, options: GroundTruthOptions): Promise<GroundTruthSection> {
  const d1 = db.$client;
  const args = [options.model, options.version, options.windowStart, options.windowEnd];
  const [labelled, unlabelled] = await d1.batch<Record<string, unknown>>([d1.prepare(LABELLED_SQL).bind(...args), d1.prepare(UNLABELLED_SQL).bind(...args)]);
  const rows = labelled!.results as { label: number; probability: number; source: "token" | "sample" | "shadow" }[];
  const scores = new Float64Array(rows.length);
  const labels = new Uint8Array(rows.length);
  const joinedBy = { token: 0, sample: 0, shadow: 0 };
  rows.forEach((r, i) => {
    scores[i] = r.probability;
    labels[i] = r.label === 1 ? 1 : 0;
    joinedBy[r.source]++;
  });
  const pending = Float64Array.from(unlabelled!.results as { probability: number }[], (r) => r.probability);
  return buildGroundTruthSection({ ...options, scores, labels, joinedBy, unlabelled: pending });
}

/** The section from scores and labels already in memory (what groundTruthSection reads from D1). */
export function buildGroundTruthSection(
  input: GroundTruthOptions & {
    scores: ArrayLike<number>;
    labels: BinaryLabels;
    joinedBy?: GroundTruthSection["labels"]["joined_by"];
    unlabelled: ArrayLike<number>;
  },
): GroundTruthSection {
  const minLabels = input.minLabels ?? DEFAULT_MIN_LABELS;
  const threshold = input.manifest.output.threshold;
  const n = input.scores.length;
  let positives = 0;
  let scoreSum = 0;
  for (let i = 0; i < n; i++) {
    positives += input.labels[i] === 1 ? 1 : 0;
    scoreSum += input.scores[i]!;
  }
  const negatives = n - positives;
  let realized: RealizedMetrics;
  if (n < minLabels) {
    realized = { status: "insufficient_labels", reason: `${n} label${n === 1 ? "" : "s"} in the window, ${minLabels} needed` };
  } else if (positives === 0 || negatives === 0) {
    realized = { status: "insufficient_labels", reason: `all ${n} labels are ${positives ? "positive" : "negative"}: AUC needs both classes` };
  } else {
    const rows = { labels: input.labels, scores: input.scores };
    const atThreshold = thresholdMetrics(rows, threshold);
    realized = {
      status: "ok",
      roc_auc: rocAuc(rows),
      precision: atThreshold.precision,
      recall: atThreshold.recall,
      predicted_positive_rate: atThreshold.predicted_positive_rate,
      observed_positive_rate: positives / n,
      expected_positive_rate: scoreSum / n,
      confusion: atThreshold.confusion,
    };
  }
  return {
    window: { start: input.windowStart, end: input.windowEnd },
    threshold,
    min_labels: minLabels,
    labels: { count: n, positives, negatives, joined_by: input.joinedBy ?? { token: 0, sample: 0, shadow: 0 } },
    realized,
    expected: { basis: "unlabelled sampled predictions", count: input.unlabelled.length, ...expectedMetrics(input.unlabelled, threshold) },
  };
}
