/**
 * Builds the drift reference (worker/contract/drift-reference.ts) from the raw validation rows and
 * the model's scores on them. Raw rows, not preprocessed ones, because live traffic is compared
 * before preprocessing: an imputed or one-hot value would hide the very drift we look for.
 */
import { normalizeCategory } from "../../worker/contract/category-value";
import {
  DRIFT_REFERENCE_SCHEMA_VERSION,
  OTHER_CATEGORY,
  REFERENCE_QUANTILES,
  histogramBin,
  type CategoricalFeatureReference,
  type DistributionSummary,
  type DriftReference,
  type Histogram,
  type NumericFeatureReference,
} from "../../worker/contract/drift-reference";
import type { CategoricalFeatureSpec, FeatureRow, FeatureSpec, NumericFeatureSpec } from "../../worker/contract/manifest";
import type { Rng } from "../random";

export interface BuildDriftReferenceInput {
  features: readonly FeatureSpec[];
  rows: readonly FeatureRow[];
  /** Predicted positive-class probability for each row. */
  scores: Float64Array;
  /** Upper bound on the raw rows kept for KS / Wasserstein tests. */
  sampleSize: number;
  /** A stream of its own (e.g. rng.fork("drift-reference")); only the sample draws from it. */
  rng: Rng;
  split?: "validation" | "training";
  scoreBins?: 10 | 20;
}

export function buildDriftReference(input: BuildDriftReferenceInput): DriftReference {
  const { features, rows, scores, sampleSize, rng, split = "validation", scoreBins = 10 } = input;
  if (scores.length !== rows.length) throw new RangeError(`${rows.length} rows but ${scores.length} scores`);
  if (!Number.isInteger(sampleSize) || sampleSize < 0) throw new RangeError(`sampleSize must be a whole number >= 0, got ${sampleSize}`);
  scores.forEach((s, i) => {
    if (!(s >= 0 && s <= 1)) throw new RangeError(`score ${i} = ${s} is not a probability`);
  });
  const scoreEdges = Array.from({ length: scoreBins - 1 }, (_, i) => (i + 1) / scoreBins);
  return {
    schema_version: DRIFT_REFERENCE_SCHEMA_VERSION,
    split,
    rows: rows.length,
    features: features.map((f) => (f.kind === "numeric" ? numericReference(f, rows) : categoricalReference(f, rows))),
    scores: summarise(Float64Array.from(scores).sort(), scoreEdges),
    sample: drawSample(features, rows, scores, sampleSize, rng),
  };
}

/** numpy.quantile(method="linear") over an ascending array, with numpy's two-sided interpolation. */
export function quantileSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) throw new RangeError("quantile of an empty array");
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo]!;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)]!;
  const t = h - lo;
  return t < 0.5 ? a + (b - a) * t : b - (b - a) * (1 - t);
}

export function countHistogram(values: Float64Array, edges: number[]): Histogram {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) counts[histogramBin(edges, v)]!++;
  return { edges, counts };
}

function numericValue(value: FeatureRow[string] | undefined): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function numericReference(spec: NumericFeatureSpec, rows: readonly FeatureRow[]): NumericFeatureReference {
  const present: number[] = [];
  for (const row of rows) {
    const v = numericValue(row[spec.name]);
    if (v !== null) present.push(v);
  }
  const sorted = Float64Array.from(present).sort();
  // Decile edges, deduplicated: a discrete feature (num_products) has repeated deciles.
  const edges = sorted.length === 0 ? [] : [...new Set(REFERENCE_QUANTILES.slice(1, -1).map((q) => quantileSorted(sorted, q)))];
  return { name: spec.name, kind: "numeric", missing: rows.length - sorted.length, ...summarise(sorted, edges) };
}

function summarise(sorted: Float64Array, edges: number[]): DistributionSummary {
  const n = sorted.length;
  if (n === 0) return { count: 0, mean: null, std: null, min: null, max: null, quantiles: [], histogram: countHistogram(sorted, edges) };
  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = sum / n;
  let squares = 0;
  for (const v of sorted) squares += (v - mean) ** 2;
  return {
    count: n,
    mean,
    std: Math.sqrt(squares / n),
    min: sorted[0]!,
    max: sorted[n - 1]!,
    quantiles: REFERENCE_QUANTILES.map((q) => ({ q, value: quantileSorted(sorted, q) })),
    histogram: countHistogram(sorted, edges),
  };
}

function categoricalReference(spec: CategoricalFeatureSpec, rows: readonly FeatureRow[]): CategoricalFeatureReference {
  if (spec.categories.includes(OTHER_CATEGORY))
    throw new RangeError(`feature ${spec.name} has a category named ${OTHER_CATEGORY}, which is reserved`);
  const counts = new Map<string, number>([...spec.categories, OTHER_CATEGORY].map((c) => [c, 0]));
  let missing = 0;
  for (const row of rows) {
    const raw = row[spec.name];
    const value = raw === null || raw === undefined ? "" : normalizeCategory(String(raw));
    if (value === "") {
      missing++;
      continue;
    }
    const bucket = counts.has(value) && value !== OTHER_CATEGORY ? value : OTHER_CATEGORY;
    counts.set(bucket, counts.get(bucket)! + 1);
  }
  const present = rows.length - missing;
  return {
    name: spec.name,
    kind: "categorical",
    count: present,
    missing,
    categories: [...counts].map(([value, count]) => ({ value, count, frequency: present === 0 ? 0 : count / present })),
  };
}

/** Partial Fisher-Yates over row indices, then back to row order, so a seed always picks the same rows. */
function drawSample(
  features: readonly FeatureSpec[],
  rows: readonly FeatureRow[],
  scores: Float64Array,
  sampleSize: number,
  rng: Rng,
): DriftReference["sample"] {
  const k = Math.min(sampleSize, rows.length);
  const indices = Uint32Array.from({ length: rows.length }, (_, i) => i);
  if (k < rows.length) {
    for (let i = 0; i < k; i++) {
      const j = i + rng.int(rows.length - i);
      const tmp = indices[i]!;
      indices[i] = indices[j]!;
      indices[j] = tmp;
    }
  }
  const chosen = indices.subarray(0, k).sort();
  return {
    rows: Array.from(chosen, (i) => Object.fromEntries(features.map((f) => [f.name, sampleValue(rows[i]![f.name])]))),
    scores: Array.from(chosen, (i) => scores[i]!),
  };
}

/** JSON has no NaN or Infinity: such a cell is kept as missing. */
function sampleValue(value: FeatureRow[string] | undefined): FeatureRow[string] {
  if (value === undefined) return null;
  return typeof value === "number" && !Number.isFinite(value) ? null : value;
}
