/**
 * The JSON stored in drift_reports.report (and its `alert` column): one report per model version
 * and window, written by the monitoring cron. The dashboard, the drift_status gauge and the JSON
 * route read it from D1 as it is, so these types are a contract: fields are added, never renamed.
 *
 * Conventions: shares are fractions in [0, 1]; a statistic that could not be computed (no data on
 * one side) is null, never 0; ISO 8601 UTC times; snake_case keys as in the rest of the API.
 */

import type { AttributionDrift } from "./attribution-drift";

export const DRIFT_REPORT_SCHEMA_VERSION = 1;

/** One request_samples row as the report needs it; `features` already parsed from its JSON. */
export interface WindowSample {
  arm: string;
  features: Record<string, unknown>;
  probability: number;
  prediction: boolean;
  riskTier: string;
  /** The row's uniform random reservoir key (sample-store.ts): attribution drift explains the smallest. */
  sampleKey: number;
}

/**
 * Overall verdict, also in drift_reports.status.
 *  - ok: every feature and the scores were tested and none drifted;
 *  - drift: at least one feature (or the score distribution) drifted;
 *  - insufficient_data: nothing drifted, but some feature had fewer than min_samples values;
 *  - no_samples: the window holds no sampled requests for this version;
 *  - no_reference: reference.json is missing or unreadable (`reason` says which);
 *  - error: the report could not be computed (`reason` holds the error); other versions still ran.
 */
export type DriftReportStatus = "ok" | "drift" | "insufficient_data" | "no_samples" | "no_reference" | "error";

/** Per feature (and for the scores): insufficient_data whenever a side has fewer than min_samples values. */
export type FeatureDriftStatus = "ok" | "drift" | "insufficient_data";

export type MultipleTestingCorrection = "none" | "benjamini-hochberg";

/** The manifest's effective `monitoring` settings the report was computed with. */
export interface DriftSettingsUsed {
  /** Significance level a (corrected, when correction is on) p-value is compared with. */
  alpha: number;
  /** A feature drifts only when its p-value is below alpha AND its PSI reaches this (significant and material). */
  psi_threshold: number;
  /** Fewer current (or reference) values than this reads insufficient_data. */
  min_samples: number;
  /** Benjamini–Hochberg across the features' p-values, or none. */
  correction: MultipleTestingCorrection;
  window_hours: number;
  /** Whether a drift verdict posts to ALERT_WEBHOOK_URL. */
  alert: boolean;
}

/** Histogram over the reference's bins: bin i is (edges[i-1], edges[i]], open at both ends. */
export interface BinnedShares {
  /** Interior edges (quantile edges for features, uniform on [0, 1] for scores); edges.length + 1 bins. */
  edges: number[];
  reference_shares: number[];
  current_shares: number[];
}

interface FeatureDriftBase {
  name: string;
  /** Two-sample test statistic (KS D or chi-squared); null when a side had no values. */
  statistic: number | null;
  p_value: number | null;
  /** Benjamini–Hochberg adjusted p-value; present only when correction is benjamini-hochberg. */
  p_value_adjusted?: number | null;
  /** Population Stability Index over the reference's bins or categories. */
  psi: number | null;
  /** Reference values the test used (numeric: reference.json's raw sample; categorical: all counted rows). */
  reference_n: number;
  /** Non-missing current values in the window. */
  current_n: number;
  /** Current rows where the feature was null or absent. */
  current_missing: number;
  /** Share of reference rows where the feature was missing. */
  reference_missing_share: number | null;
  status: FeatureDriftStatus;
  /** Why a statistic is absent (e.g. an empty reference histogram). */
  note?: string;
}

export interface NumericFeatureDrift extends FeatureDriftBase {
  kind: "numeric";
  test: "ks";
  /** scipy's ks_2samp "auto": exact for both samples <= 10,000 values, asymptotic above. */
  method: "exact" | "asymptotic" | null;
  /** Reference decile bins (reference.json histogram) with reference and current shares. */
  bins: BinnedShares;
  reference_mean: number | null;
  current_mean: number | null;
  reference_range: [number, number] | null;
  current_range: [number, number] | null;
}

export interface CategoryShare {
  /** The category; values outside the training categories are counted as "__other__". */
  value: string;
  reference_share: number;
  current_share: number;
  reference_count: number;
  current_count: number;
}

export interface CategoricalFeatureDrift extends FeatureDriftBase {
  kind: "categorical";
  test: "chi2";
  dof: number | null;
  /** Reference categories in one-hot order, then "__other__" (present even when the reference holds none of it). */
  categories: CategoryShare[];
  /** Current values outside the training categories (counted under "__other__"), most frequent first, at most 20. */
  unseen_values: { value: string; count: number }[];
}

export type FeatureDrift = NumericFeatureDrift | CategoricalFeatureDrift;

export interface TierShare {
  name: string;
  reference_share: number;
  current_share: number;
  reference_count: number;
  current_count: number;
}

export interface PredictionDrift {
  /** Scores in the window / in reference.json's raw sample. */
  current_n: number;
  reference_n: number;
  /** KS on positive-class probabilities against the reference sample's scores. */
  ks: { statistic: number; p_value: number; method: "exact" | "asymptotic" } | null;
  /** PSI of the scores over the reference's score histogram. */
  psi: number | null;
  /** Score histogram over the reference's uniform bins. */
  histogram: BinnedShares;
  /** Share predicted positive (p reaches the manifest threshold). */
  positive_rate: { threshold: number; reference: number | null; current: number | null };
  /** Risk-tier mix (manifest tiers, highest first) with a chi-squared homogeneity test. */
  risk_tiers: {
    tiers: TierShare[];
    test: "chi2";
    statistic: number | null;
    p_value: number | null;
    dof: number | null;
  };
  /** Scores drift when the KS p-value is below alpha and the score PSI reaches psi_threshold. */
  status: FeatureDriftStatus;
}

export interface DriftReport {
  schema_version: typeof DRIFT_REPORT_SCHEMA_VERSION;
  model: string;
  version: number;
  /** Start inclusive, end exclusive. */
  window: { start: string; end: string };
  status: DriftReportStatus;
  /** Why the status is no_samples, no_reference or error. */
  reason?: string;
  samples: {
    /** Sampled rows of this version in the window, all arms. */
    total: number;
    by_arm: Record<string, number>;
  };
  settings: DriftSettingsUsed;
  /** What the window was compared against; null when there is no usable reference. */
  reference: { split: "validation" | "training"; rows: number; sample_size: number } | null;
  /** Names of the features whose status is drift, in manifest order (the alert lists these). */
  drifted_features: string[];
  /** Manifest order; empty when there is no reference or no samples. */
  features: FeatureDrift[];
  predictions: PredictionDrift | null;
  /** Realized and label-free quality for the window, added by the ground-truth join (shape owned there). */
  ground_truth?: unknown;
  /**
   * Mean |contribution| per feature, training reference vs the window's sampled rows
   * (attribution-drift.ts); only for versions with an explainer and a window with samples.
   */
  attribution?: AttributionDrift;
}

/** One webhook attempt. */
export interface AlertAttempt {
  at: string;
  /** HTTP status when the webhook answered. */
  status?: number;
  /** Network error or timeout message when it did not. */
  error?: string;
}

/** drift_reports.alert: null when no alert was due (no drift, alerts off, or no webhook configured). */
export interface AlertDelivery {
  outcome: "delivered" | "failed";
  attempts: AlertAttempt[];
  /** When the outcome was decided. */
  finished_at: string;
}
