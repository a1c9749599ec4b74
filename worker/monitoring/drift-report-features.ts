/**
 * Per-feature drift for buildDriftReport (drift-report.ts): a numeric column tested by KS against
 * reference.json's raw sample and PSI over its decile bins; a categorical column by chi-squared and
 * PSI over the training categories, values outside them counted under "__other__" exactly as the
 * trainer counted the reference. The verdict (ok or drift) is left to the caller, which may first
 * adjust the p-values across features; below min_samples a feature stays insufficient_data.
 */
import {
  categoryBucket,
  type CategoricalFeatureReference,
  type DriftReference,
  histogramBin,
  type Histogram,
  type NumericFeatureReference,
  OTHER_CATEGORY,
} from "../contract/drift-reference";
import type { CategoricalFeatureSpec, MonitoringSettings, NumericFeatureSpec } from "../contract/manifest";
import { chiSquareHomogeneity, ksTwoSample, psi, psiCategorical } from "./drift-stats";
import type { BinnedShares, CategoricalFeatureDrift, NumericFeatureDrift } from "./drift-report-types";
import type { WindowSample } from "./drift-report-types";

const MAX_UNSEEN_LISTED = 20;
const MAX_UNSEEN_LENGTH = 64;

/** A feature's result before the verdict: the raw p-value the correction and the decision use. */
export interface TestedFeature<T> {
  drift: T;
  pValue: number | null;
}

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

export function binnedShares(histogram: Histogram, values: readonly number[]): BinnedShares {
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

export function tooFew(referenceN: number, currentN: number, min: number): string | undefined {
  if (currentN < min) return `${currentN} current values, fewer than min_samples ${min}`;
  if (referenceN < min) return `${referenceN} reference values, fewer than min_samples ${min}`;
  return undefined;
}

function missingShare(missing: number, count: number): number | null {
  return missing + count === 0 ? null : missing / (missing + count);
}

export function numericDrift(
  spec: NumericFeatureSpec,
  ref: NumericFeatureReference | undefined,
  reference: DriftReference,
  samples: readonly WindowSample[],
  settings: MonitoringSettings,
): TestedFeature<NumericFeatureDrift> {
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

export function categoricalDrift(
  spec: CategoricalFeatureSpec,
  ref: CategoricalFeatureReference | undefined,
  samples: readonly WindowSample[],
  settings: MonitoringSettings,
): TestedFeature<CategoricalFeatureDrift> {
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
