/**
 * The drift reference: what the validation data looked like when a model was trained, written by the
 * trainer next to the manifest and read by the edge monitor to compare live traffic against. It
 * carries summaries for PSI / Jensen-Shannon (fixed-edge histograms, category frequencies) and a
 * bounded raw sample for KS / Wasserstein. Binning lives here so both sides count the same way.
 * Imported by the worker: zod only, no Node modules.
 */
import { z } from "zod";

export const DRIFT_REFERENCE_SCHEMA_VERSION = 1;

/** The bucket for categorical values outside the training categories (and the name no category may take). */
export const OTHER_CATEGORY = "__other__";

/** Quantiles recorded for every numeric feature and for the scores: 1%, the deciles, 99%. */
export const REFERENCE_QUANTILES = [0.01, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99] as const;

const quantileSchema = z.object({ q: z.number().min(0).max(1), value: z.number() });

/**
 * Interior edges only: bins are (-inf, e0], (e0, e1], ..., (e_last, +inf), so counts has one more
 * entry than edges and every finite value lands in exactly one bin (see histogramBin).
 */
export const histogramSchema = z
  .object({ edges: z.array(z.number()), counts: z.array(z.number().int().min(0)) })
  .refine((h) => h.counts.length === h.edges.length + 1, { message: "counts must have edges.length + 1 entries" })
  .refine((h) => h.edges.every((e, i) => i === 0 || e > h.edges[i - 1]!), { message: "edges must increase strictly" });

const summarySchema = z.object({
  /** Non-missing values. */
  count: z.number().int().min(0),
  mean: z.number().nullable(),
  /** Population standard deviation (ddof = 0). */
  std: z.number().nullable(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  /** numpy's default "linear" quantiles; empty when count is 0. */
  quantiles: z.array(quantileSchema),
  histogram: histogramSchema,
});

const numericReferenceSchema = summarySchema.extend({
  name: z.string().min(1),
  kind: z.literal("numeric"),
  missing: z.number().int().min(0),
});

const categoricalReferenceSchema = z.object({
  name: z.string().min(1),
  kind: z.literal("categorical"),
  count: z.number().int().min(0),
  missing: z.number().int().min(0),
  /** Training categories in one-hot order, then OTHER_CATEGORY; frequency = count / non-missing count. */
  categories: z.array(z.object({ value: z.string(), count: z.number().int().min(0), frequency: z.number().min(0).max(1) })),
});

const featureReferenceSchema = z.discriminatedUnion("kind", [numericReferenceSchema, categoricalReferenceSchema]);

const sampleValue = z.union([z.number(), z.string(), z.null()]);

export const driftReferenceSchema = z
  .object({
    schema_version: z.literal(DRIFT_REFERENCE_SCHEMA_VERSION),
    split: z.enum(["validation", "training"]),
    /** Rows summarised (all of the split, not just the sample). */
    rows: z.number().int().min(0),
    features: z.array(featureReferenceSchema),
    /** Predicted positive-class probabilities; histogram edges are uniform on [0, 1]. */
    scores: summarySchema,
    /** A seeded random subset of the rows (feature columns only), in original row order, with their scores. */
    sample: z.object({ rows: z.array(z.record(z.string(), sampleValue)), scores: z.array(z.number().min(0).max(1)) }),
  })
  .refine((r) => r.sample.rows.length === r.sample.scores.length, { message: "sample rows and scores differ in length" });

export type DriftReference = z.infer<typeof driftReferenceSchema>;
export type NumericFeatureReference = z.infer<typeof numericReferenceSchema>;
export type CategoricalFeatureReference = z.infer<typeof categoricalReferenceSchema>;
export type FeatureReference = z.infer<typeof featureReferenceSchema>;
export type DistributionSummary = z.infer<typeof summarySchema>;
export type Histogram = z.infer<typeof histogramSchema>;

export function parseDriftReference(json: unknown): DriftReference {
  return driftReferenceSchema.parse(json);
}

/** Index of the bin holding `value`: the number of edges strictly below it. */
export function histogramBin(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The frequency bucket a live categorical value is counted in. */
export function categoryBucket(reference: CategoricalFeatureReference, value: string): string {
  return reference.categories.some((c) => c.value === value && c.value !== OTHER_CATEGORY) ? value : OTHER_CATEGORY;
}
