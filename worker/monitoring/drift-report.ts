/**
 * Builds one drift report (drift-report-types.ts) from a window's sampled rows and the version's
 * reference.json. Pure: no Hono, D1 or I/O, so the cron, tests and benchmarks call it directly.
 *
 * Per numeric feature: KS against reference.json's raw sample, PSI over its decile bins. Per
 * categorical feature: chi-squared homogeneity and PSI over the training categories, with values
 * outside them counted under "__other__" exactly as the trainer counted the reference (both in
 * drift-report-features.ts). A feature
 * drifts when its p-value (Benjamini–Hochberg adjusted when that correction is on) is below alpha
 * and its PSI reaches psi_threshold; with fewer than min_samples values on either side it reads
 * insufficient_data, whatever its statistics say. Work is linear in the samples but for one sort
 * per numeric column (inside ksTwoSample).
 */
import { reaches, sortTiers, tierOf } from "../contract/decision";
import type { DriftReference } from "../contract/drift-reference";
import type { Manifest, MonitoringSettings } from "../contract/manifest";
import { benjaminiHochberg, chiSquareHomogeneity, ksTwoSample, psi } from "./drift-stats";
import { binnedShares, categoricalDrift, numericDrift, type TestedFeature, tooFew } from "./drift-report-features";
import {
  DRIFT_REPORT_SCHEMA_VERSION,
  type DriftReport,
  type DriftReportStatus,
  type DriftSettingsUsed,
  type FeatureDrift,
  type FeatureDriftStatus,
  type PredictionDrift,
  type WindowSample,
} from "./drift-report-types";

export interface DriftReportInput {
  model: string;
  version: number;
  manifest: Pick<Manifest, "features" | "output">;
  settings: MonitoringSettings;
  window: { start: string; end: string };
  samples: readonly WindowSample[];
  /** The parsed reference, or why there is none. */
  reference: { ok: true; value: DriftReference } | { ok: false; reason: string };
}

const HOUR_MS = 3_600_000;

/** The last complete window before `time`: [end - length, end) with end a multiple of the length since the epoch (UTC). */
export function lastCompleteWindow(time: number, windowHours: number): { startMs: number; endMs: number } {
  const length = windowHours * HOUR_MS;
  const endMs = Math.floor(time / length) * length;
  return { startMs: endMs - length, endMs };
}
export function buildDriftReport(input: DriftReportInput): DriftReport {
  const { samples, settings } = input;
  const byArm: Record<string, number> = {};
  for (const s of samples) byArm[s.arm] = (byArm[s.arm] ?? 0) + 1;
  const base = {
    schema_version: DRIFT_REPORT_SCHEMA_VERSION,
    model: input.model,
    version: input.version,
    window: { ...input.window },
    samples: { total: samples.length, by_arm: sortedKeys(byArm) },
    settings: settingsUsed(settings),
  } as const;
  const empty = { drifted_features: [], features: [], predictions: null };
  if (!input.reference.ok) return { ...base, status: "no_reference", reason: input.reference.reason, reference: null, ...empty };
  const reference = input.reference.value;
  const referenceInfo = { split: reference.split, rows: reference.rows, sample_size: reference.sample.scores.length };
  if (samples.length === 0)
    return { ...base, status: "no_samples", reason: "no sampled requests for this version in the window", reference: referenceInfo, ...empty };

  const tested: TestedFeature<FeatureDrift>[] = input.manifest.features.map((spec) => {
    const ref = reference.features.find((f) => f.name === spec.name && f.kind === spec.kind);
    return spec.kind === "numeric"
      ? numericDrift(spec, ref?.kind === "numeric" ? ref : undefined, reference, samples, settings)
      : categoricalDrift(spec, ref?.kind === "categorical" ? ref : undefined, samples, settings);
  });
  const decided = tested.filter((t) => t.drift.status !== "insufficient_data" && t.pValue !== null);
  if (settings.correction === "benjamini-hochberg") {
    const adjusted = benjaminiHochberg(decided.map((t) => t.pValue!));
    for (const t of tested) t.drift.p_value_adjusted = null;
    decided.forEach((t, i) => (t.drift.p_value_adjusted = adjusted[i]!));
  }
  for (const t of decided) {
    const p = t.drift.p_value_adjusted ?? t.pValue!;
    t.drift.status = p < settings.alpha && (t.drift.psi ?? 0) >= settings.psi_threshold ? "drift" : "ok";
  }
  const features = tested.map((t) => t.drift);
  const predictions = predictionDrift(input.manifest, reference, samples, settings);
  const drifted = features.filter((f) => f.status === "drift").map((f) => f.name);
  return {
    ...base,
    status: overallStatus(features, predictions),
    reference: referenceInfo,
    drifted_features: drifted,
    features,
    predictions,
  };
}

function overallStatus(features: FeatureDrift[], predictions: PredictionDrift): DriftReportStatus {
  const statuses = [...features.map((f) => f.status), predictions.status];
  if (statuses.includes("drift")) return "drift";
  if (statuses.includes("insufficient_data")) return "insufficient_data";
  return "ok";
}

export function settingsUsed(s: MonitoringSettings): DriftSettingsUsed {
  return { alpha: s.alpha, psi_threshold: s.psi_threshold, min_samples: s.min_samples, correction: s.correction, window_hours: s.window_hours, alert: s.alert };
}

function sortedKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A numeric cell as sampled: numbers (or numeric strings) that are finite; anything else is missing. */
function predictionDrift(
  manifest: Pick<Manifest, "output">,
  reference: DriftReference,
  samples: readonly WindowSample[],
  settings: MonitoringSettings,
): PredictionDrift {
  const current = samples.map((s) => s.probability).filter((p) => Number.isFinite(p));
  const referenceScores = reference.sample.scores;
  const { threshold } = manifest.output;
  const tiers = sortTiers(manifest.output.risk_tiers);
  const referenceTiers: Record<string, number> = Object.fromEntries(tiers.map((t) => [t.name, 0]));
  const currentTiers: Record<string, number> = Object.fromEntries(tiers.map((t) => [t.name, 0]));
  let referencePositive = 0;
  for (const p of referenceScores) {
    if (reaches(p, threshold)) referencePositive++;
    referenceTiers[tierOf(tiers, p).name]!++;
  }
  let currentPositive = 0;
  for (const s of samples) {
    if (s.prediction) currentPositive++;
    currentTiers[s.riskTier] = (currentTiers[s.riskTier] ?? 0) + 1;
  }
  const tierNames = Object.keys(currentTiers);
  const tierTest = referenceScores.length > 0 && samples.length > 0 ? chiSquareHomogeneity(referenceTiers, currentTiers) : null;
  const ks = current.length > 0 && referenceScores.length > 0 ? ksTwoSample(referenceScores, current) : null;
  const scorePsi = current.length > 0 && reference.scores.count > 0 ? psi(reference.scores.histogram, current).statistic : null;
  let status: FeatureDriftStatus = "insufficient_data";
  if (!tooFew(referenceScores.length, current.length, settings.min_samples) && ks)
    status = ks.pValue < settings.alpha && (scorePsi ?? 0) >= settings.psi_threshold ? "drift" : "ok";
  return {
    current_n: current.length,
    reference_n: referenceScores.length,
    ks: ks ? { statistic: ks.statistic, p_value: ks.pValue, method: ks.method } : null,
    psi: scorePsi,
    histogram: binnedShares(reference.scores.histogram, current),
    positive_rate: {
      threshold,
      reference: referenceScores.length === 0 ? null : referencePositive / referenceScores.length,
      current: samples.length === 0 ? null : currentPositive / samples.length,
    },
    risk_tiers: {
      tiers: tierNames.map((name) => ({
        name,
        reference_share: referenceScores.length === 0 ? 0 : (referenceTiers[name] ?? 0) / referenceScores.length,
        current_share: currentTiers[name]! / samples.length,
        reference_count: referenceTiers[name] ?? 0,
        current_count: currentTiers[name]!,
      })),
      test: "chi2",
      statistic: tierTest?.statistic ?? null,
      p_value: tierTest?.pValue ?? null,
      dof: tierTest?.dof ?? null,
    },
    status,
  };
}
