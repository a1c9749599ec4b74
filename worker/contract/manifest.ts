/**
 * The model manifest: the one contract between the trainer (which writes it) and the edge worker
 * (which validates requests, builds ONNX feeds and applies thresholds from it). Both sides import
 * this module; nothing about a model's features is written anywhere else.
 */
import { z } from "zod";
import { sortTiers, tierOf } from "./decision";
import { explanationSchema, explanationSpaceSchema } from "./explainer";

export const MANIFEST_SCHEMA_VERSION = 1;

/**
 * Request rows are plain objects, so a feature named after an Object.prototype member
 * (constructor, toString, __proto__, hasOwnProperty, valueOf ...) reads the inherited member when
 * a request leaves the field out, and validation sees a function instead of "absent". Such names
 * are refused wherever a feature name enters: the trainer's config and this manifest.
 */
export function isReservedFeatureName(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(Object.prototype, name);
}

const featureName = z
  .string()
  .min(1)
  .refine((name) => !isReservedFeatureName(name), {
    error: (issue) => `feature name ${JSON.stringify(issue.input)} is reserved: it is a property of every JavaScript object (Object.prototype)`,
  });

const numericFeature = z.object({
  name: featureName,
  kind: z.literal("numeric"),
  /** Serving constraint: only whole numbers are accepted. */
  integer: z.boolean().default(false),
  min: z.number().optional(),
  max: z.number().optional(),
  /** When true, null or an absent value is accepted and the ONNX graph imputes it. */
  nullable: z.boolean().default(false),
  description: z.string().optional(),
  /** Training-split statistics, for docs and examples. */
  stats: z
    .object({ min: z.number(), max: z.number(), mean: z.number(), median: z.number() })
    .optional(),
});

const categoricalFeature = z.object({
  name: featureName,
  kind: z.literal("categorical"),
  /** Categories seen in training, in one-hot column order. */
  categories: z.array(z.string()).min(1),
  /** Closed: a value outside `allowed` is a 422. Open: unseen values are scored (one-hot ignore) and counted. */
  closed: z.boolean().default(false),
  /** The accepted set when closed (declared in config; defaults to the training categories). */
  allowed: z.array(z.string()).optional(),
  nullable: z.boolean().default(false),
  description: z.string().optional(),
});

export const featureSpecSchema = z.discriminatedUnion("kind", [numericFeature, categoricalFeature]);
export type FeatureSpec = z.infer<typeof featureSpecSchema>;
export type NumericFeatureSpec = z.infer<typeof numericFeature>;
export type CategoricalFeatureSpec = z.infer<typeof categoricalFeature>;

export const riskTierSchema = z.object({ name: z.string().min(1), min: z.number().min(0).max(1) });

/**
 * How the monitoring cron watches a version (config.yaml `monitoring:`, copied into the manifest so
 * each version carries its own). Every key has a default, so a partial block, or none at all in a
 * manifest written before monitoring existed, still yields complete settings (monitoringOf). Unknown
 * keys are dropped here (a newer trainer's manifest stays servable); the trainer's config is strict.
 */
export const monitoringSchema = z
  .object({
    /** Share of prediction requests sampled into D1; absent: the Worker's SAMPLE_RATE. */
    sample_rate: z.number().min(0).max(1).optional(),
    /** Report window length; the cron reports on the last complete window (aligned to the epoch, UTC). */
    window_hours: z.number().int().min(1).max(168).default(24),
    /** Fewer values than this (current or reference) reads insufficient_data, never ok. */
    min_samples: z.number().int().min(1).default(100),
    /** A feature drifts when its p-value is below alpha ... */
    alpha: z.number().gt(0).lt(1).default(0.05),
    /** ... and its PSI reaches this (statistically significant and material). */
    psi_threshold: z.number().min(0).default(0.2),
    /** Multiple-testing correction across the features' p-values. */
    correction: z.enum(["none", "benjamini-hochberg"]).default("benjamini-hochberg"),
    /** Post drift verdicts to ALERT_WEBHOOK_URL (when that secret is set). */
    alert: z.boolean().default(true),
  });

export type MonitoringSettings = z.output<typeof monitoringSchema>;

/**
 * The R2 object a training CSV was fetched from (`npm run data:fetch`) and the sha256 of the bytes
 * fetched, which is the manifest's data.sha256: the gate refuses a CSV with any other hash.
 */
export const trainingDataSourceSchema = z.object({
  store: z.literal("r2"),
  bucket: z.string().min(1),
  key: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type TrainingDataSource = z.infer<typeof trainingDataSourceSchema>;

export const manifestSchema = z.object({
  schema_version: z.literal(MANIFEST_SCHEMA_VERSION),
  name: z.string().min(1),
  description: z.string().default(""),
  task: z.literal("binary_classification"),
  /** Ordered features; each is one ONNX input of shape [N,1] named after the feature. */
  features: z.array(featureSpecSchema).min(1),
  output: z.object({
    /** Response fields are `${label}_probability`, `${label}_prediction`. */
    label: z.string().regex(/^[a-z][a-z0-9_]*$/),
    target_column: z.string(),
    /** Class values as they appeared in the training data: [negative, positive]. */
    classes: z.tuple([z.string(), z.string()]),
    threshold: z.number().min(0).max(1),
    /** Sorted by `min` descending; the first tier whose min <= p wins. */
    risk_tiers: z.array(riskTierSchema).min(1),
  }),
  onnx: z.object({
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    size: z.number().int().positive(),
    ir_version: z.number().int(),
    opsets: z.record(z.string(), z.number().int()),
    /** Output tensor [N,2] float: [1-p, p]. */
    output: z.string(),
  }),
  model: z.object({
    family: z.enum(["random_forest", "gradient_boosting", "logistic_regression"]),
    params: z.record(z.string(), z.unknown()),
  }),
  preprocessing: z.object({
    /**
     * What the graph does with a missing number. impute (absent in manifests of trained models): the
     * Imputer, then the Scaler. tree_default (imported boosters, trainer/xgboost/): no imputation
     * and no scaling (mean 0, scale 1); each number goes to the trees twice, missing as -FLT_MAX in
     * the first block and +FLT_MAX in the second, so a split that sends missing values left reads
     * the first and one that sends them right reads the second.
     */
    missing: z.enum(["impute", "tree_default"]).optional(),
    numeric: z.array(
      z.object({ name: z.string(), impute: z.number(), mean: z.number(), scale: z.number() }),
    ),
    categorical: z.array(
      z.object({ name: z.string(), categories: z.array(z.string()), handle_unknown: z.literal("ignore") }),
    ),
  }),
  metrics: z.record(z.string(), z.unknown()),
  data: z.object({
    sha256: z.string(),
    rows: z.number().int(),
    train_rows: z.number().int(),
    validation_rows: z.number().int(),
    issues: z.record(z.string(), z.unknown()).optional(),
    /** Where the training file was fetched from; absent for a file that was on disk (or generated). */
    source: trainingDataSourceSchema.optional(),
  }),
  source: z.object({
    config_sha256: z.string(),
    git_commit: z.string().nullable(),
    trainer_version: z.string(),
    run_id: z.string(),
    created_at: z.string(),
    seed: z.number().int(),
  }),
  /** Absent in manifests written before monitoring existed: monitoringOf supplies the defaults. */
  monitoring: monitoringSchema.optional(),
  /**
   * explainer.json (worker/contract/explainer.ts), checked like the graph. Absent for versions
   * trained without one (older trainers, explain.background_rows 0): they cannot explain.
   */
  explainer: z
    .object({
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      size: z.number().int().positive(),
      space: explanationSpaceSchema,
      /** The graph output holding the design rows the explainer reads. */
      design_output: z.string().min(1),
      background_rows: z.number().int().min(1),
      /**
       * Global importance at training time: mean |contribution| per feature (by name, in `space`)
       * over `rows` validation rows. The cron's attribution drift compares the window's sampled rows
       * with it. Absent from manifests written before it existed.
       */
      importance: z
        .object({
          split: z.literal("validation"),
          rows: z.number().int().min(1),
          mean_abs: z.record(z.string(), z.number().min(0)),
        })
        .optional(),
    })
    .optional(),
  /** Rows with the probabilities the trainer computed, replayed at registration and in tests. */
  golden: z.array(
    z.object({
      input: z.record(z.string(), z.union([z.number(), z.string(), z.null()])),
      probability: z.number(),
      /** With an explainer: the row's contributions (manifest feature order), to be reproduced at registration. */
      explanation: explanationSchema.optional(),
    }),
  ),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type FeatureValue = number | string | null;
export type FeatureRow = Record<string, FeatureValue>;

export function parseManifest(json: unknown): Manifest {
  return manifestSchema.parse(json);
}

/** The version's effective monitoring settings: its manifest's block with defaults filled in. */
export function monitoringOf(manifest: Pick<Manifest, "monitoring">): MonitoringSettings {
  return monitoringSchema.parse(manifest.monitoring ?? {});
}

/** Highest tier whose lower bound the probability reaches, by the one rule in decision.ts. */
export function riskTier(manifest: Pick<Manifest, "output">, probability: number): string {
  return tierOf(sortTiers(manifest.output.risk_tiers), probability).name;
}
