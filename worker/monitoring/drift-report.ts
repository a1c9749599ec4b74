/**
 * Builds one drift report (drift-report-types.ts) from a window's sampled rows and the version's
 * reference.json. Pure: no Hono, D1 or I/O, so the cron, tests and benchmarks call it directly.
 *
 * Per numeric feature: KS against reference.json's raw sample, PSI over its decile bins. Per
 * categorical feature: chi-squared homogeneity and PSI over the training categories, with values
 * outside them counted under "__other__" exactly as the trainer counted the reference. A feature
 * drifts when its p-value (Benjamini–Hochberg adjusted when that correction is on) is below alpha
 * and its PSI reaches psi_threshold; with fewer than min_samples values on either side it reads
 * insufficient_data, whatever its statistics say. Work is linear in the samples but for one sort
 * per numeric column (inside ksTwoSample).
 */
import { reaches, sortTiers, tierOf } from "../contract/decision";
import {
  categoryBucket,
  type CategoricalFeatureReference,
  type DriftReference,
  histogramBin,
  type Histogram,
  type NumericFeatureReference,
  OTHER_CATEGORY,
} from "../contract/drift-reference";
import type { CategoricalFeatureSpec, Manifest, MonitoringSettings, NumericFeatureSpec } from "../contract/manifest";
import { benjaminiHochberg, chiSquareHomogeneity, ksTwoSample, psi, psiCategorical } from "./drift-stats";
import {
  type BinnedShares,
  type CategoricalFeatureDrift,
  DRIFT_REPORT_SCHEMA_VERSION,
  type DriftReport,
  type DriftReportStatus,
  type DriftSettingsUsed,
  type FeatureDrift,
  type FeatureDriftStatus,
  type NumericFeatureDrift,
  type PredictionDrift,
} from "./drift-report-types";

/** One request_samples row as the report needs it; `features` already parsed from its JSON. */
export interface WindowSample {
  arm: string;
  features: Record<string, unknown>;
  probability: number;
  prediction: boolean;
  riskTier: string;
}

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
const MAX_UNSEEN_LISTED = 20;

/** The last complete window before `time`: [end - length, end) with end a multiple of the length since the epoch (UTC). */
export function lastCompleteWindow(time: number, windowHours: number): { startMs: number; endMs: number } {
  const length = windowHours * HOUR_MS;
  const endMs = Math.floor(time / length) * length;
  return { startMs: endMs - length, endMs };
}
const MAX_UNSEEN_LENGTH = 64;

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

  const tested: { drift: FeatureDrift; pValue: number | null }[] = input.manifest.features.map((spec) => {
    const ref = reference.features.find((f) => f.name === spec.name && f.kind === spec.kind);
    return spec.kind === "numeric"
      ? numericDrift(spec, ref as NumericFeatureReference | undefined, reference, samples, settings)
      : categoricalDrift(spec, ref as CategoricalFeatureReference | undefined, samples, settings);
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
function numericCell(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function numericColumn(rows: readonly Record<string, unknown>[], name: string): { values: number[]; missing: number } {
  const values: number[] = [];
  let missing = 0;
  for (const row of rows) {
    const v = numericCell(row[name]);
    if (v === null) missing++;
    else values.push(v);
  }
  return { values, missing };
}

function shares(counts: readonly number[], total: number): number[] {
  return counts.map((c) => (total === 0 ? 0 : c / total));
}

function binnedShares(histogram: Histogram, values: readonly number[]): BinnedShares {
  const counts = new Array<number>(histogram.counts.length).fill(0);
  for (const v of values) counts[histogramBin(histogram.edges, v)]!++;
  const referenceTotal = histogram.counts.reduce((s, c) => s + c, 0);
  return { edges: [...histogram.edges], reference_shares: shares(histogram.counts, referenceTotal), current_shares: shares(counts, values.length) };
}

function meanAndRange(values: readonly number[]): { mean: number | null; range: [number, number] | null } {
  if (values.length === 0) return { mean: null, range: null };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { mean: sum / values.length, range: [min, max] };
}

function tooFew(referenceN: number, currentN: number, min: number): string | undefined {
  if (currentN < min) return `${currentN} current values, fewer than min_samples ${min}`;
  if (referenceN < min) return `${referenceN} reference values, fewer than min_samples ${min}`;
  return undefined;
}

function missingShare(missing: number, count: number): number | null {
  return missing + count === 0 ? null : missing / (missing + count);
}

function numericDrift(
  spec: NumericFeatureSpec,
  ref: NumericFeatureReference | undefined,
  reference: DriftReference,
  samples: readonly WindowSample[],
  settings: MonitoringSettings,
): { drift: NumericFeatureDrift; pValue: number | null } {
  const current = numericColumn(
    samples.map((s) => s.features),
    spec.name,
  );
  const referenceSample = numericColumn(reference.sample.rows, spec.name).values;
  const currentSummary = meanAndRange(current.values);
  const drift: NumericFeatureDrift = {
    name: spec.name,
    kind: "numeric",
    test: "ks",
    method: null,
    statistic: null,
    p_value: null,
    psi: null,
    reference_n: referenceSample.length,
    current_n: current.values.length,
    current_missing: current.missing,
    reference_missing_share: ref ? missingShare(ref.missing, ref.count) : null,
    status: "insufficient_data",
    bins: ref ? binnedShares(ref.histogram, current.values) : { edges: [], reference_shares: [], current_shares: [] },
    reference_mean: ref?.mean ?? null,
    current_mean: currentSummary.mean,
    reference_range: ref && ref.min !== null && ref.max !== null ? [ref.min, ref.max] : null,
    current_range: currentSummary.range,
  };
  if (!ref) return { drift: { ...drift, note: "reference.json has no numeric summary for this feature" }, pValue: null };
  if (current.values.length > 0 && ref.count > 0) drift.psi = psi(ref.histogram, current.values).statistic;
  if (current.values.length > 0 && referenceSample.length > 0) {
    const ks = ksTwoSample(referenceSample, current.values);
    Object.assign(drift, { statistic: ks.statistic, p_value: ks.pValue, method: ks.method });
  }
  const few = tooFew(referenceSample.length, current.values.length, settings.min_samples);
  if (few) return { drift: { ...drift, note: few }, pValue: drift.p_value };
  return { drift: { ...drift, status: "ok" }, pValue: drift.p_value };
}

function categoricalDrift(
  spec: CategoricalFeatureSpec,
  ref: CategoricalFeatureReference | undefined,
  samples: readonly WindowSample[],
  settings: MonitoringSettings,
): { drift: CategoricalFeatureDrift; pValue: number | null } {
  const categories = ref ? ref.categories.map((c) => c.value) : [...spec.categories, OTHER_CATEGORY];
  if (!categories.includes(OTHER_CATEGORY)) categories.push(OTHER_CATEGORY);
  const referenceCounts: Record<string, number> = Object.fromEntries(categories.map((c) => [c, 0]));
  for (const c of ref?.categories ?? []) referenceCounts[c.value] = c.count;
  const currentCounts: Record<string, number> = Object.fromEntries(categories.map((c) => [c, 0]));
  const unseen = new Map<string, number>();
  let missing = 0;
  const bucketOf = new Map<string, string>();
  for (const s of samples) {
    const raw = s.features[spec.name];
    if (raw === null || raw === undefined || raw === "") {
      missing++;
      continue;
    }
    const value = String(raw);
    let bucket = bucketOf.get(value);
    if (bucket === undefined) {
      bucket = ref ? categoryBucket(ref, value) : spec.categories.includes(value) ? value : OTHER_CATEGORY;
      bucketOf.set(value, bucket);
    }
    currentCounts[bucket]!++;
    if (bucket === OTHER_CATEGORY) unseen.set(value, (unseen.get(value) ?? 0) + 1);
  }
  const currentN = samples.length - missing;
  const referenceN = ref?.count ?? 0;
  const drift: CategoricalFeatureDrift = {
    name: spec.name,
    kind: "categorical",
    test: "chi2",
    dof: null,
    statistic: null,
    p_value: null,
    psi: null,
    reference_n: referenceN,
    current_n: currentN,
    current_missing: missing,
    reference_missing_share: ref ? missingShare(ref.missing, ref.count) : null,
    status: "insufficient_data",
    categories: categories.map((value) => ({
      value,
      reference_share: referenceN === 0 ? 0 : referenceCounts[value]! / referenceN,
      current_share: currentN === 0 ? 0 : currentCounts[value]! / currentN,
      reference_count: referenceCounts[value]!,
      current_count: currentCounts[value]!,
    })),
    unseen_values: [...unseen]
      .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, MAX_UNSEEN_LISTED)
      .map(([value, count]) => ({ value: value.slice(0, MAX_UNSEEN_LENGTH), count })),
  };
  if (!ref) return { drift: { ...drift, note: "reference.json has no category counts for this feature" }, pValue: null };
  if (currentN > 0 && referenceN > 0) {
    const chi2 = chiSquareHomogeneity(referenceCounts, currentCounts);
    Object.assign(drift, { statistic: chi2.statistic, p_value: chi2.pValue, dof: chi2.dof, psi: psiCategorical(referenceCounts, currentCounts).statistic });
  }
  const few = tooFew(referenceN, currentN, settings.min_samples);
  if (few) return { drift: { ...drift, note: few }, pValue: drift.p_value };
  return { drift: { ...drift, status: "ok" }, pValue: drift.p_value };
}

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
