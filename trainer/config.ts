/**
 * config.yaml: the single source for a training run. Validated with zod (strict objects, so a
 * misspelt key is an error naming it). Keeps the shape MLflow-based training configs use (mlflow.*, data.*, features.*,
 * training.*, model.*) and adds serving constraints, data policies, output thresholds and the gate.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { normalizeCategory } from "../worker/contract/category-value";
import { isReservedFeatureName, monitoringSchema } from "../worker/contract/manifest";

/**
 * pandas' read_csv default na_values (pandas/_libs/parsers.pyx STR_NA_VALUES): what R's write.csv
 * and pandas' to_csv write for a missing cell, so files from either load with their gaps as gaps.
 */
export const PANDAS_NA_VALUES: readonly string[] = [
  "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
  "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
];

const missingPolicy = z.union([
  z.literal("error"),
  z.literal("drop"),
  z.literal("median"),
  z.object({ constant: z.union([z.number(), z.string()]) }).strict(),
]);
export type MissingPolicy = z.infer<typeof missingPolicy>;

const columnSpec = z
  .object({
    /** Serving constraints, carried into the manifest and enforced by the worker. */
    min: z.number().optional(),
    max: z.number().optional(),
    integer: z.boolean().optional(),
    /** Categorical: the accepted values; with closed: true anything else is a 422. Normalised as
     * data and requests are, so a declared value matches the cells and requests it means. */
    values: z.array(z.string().transform(normalizeCategory)).min(1).optional(),
    closed: z.boolean().optional(),
    /** Serving: null/absent accepted and imputed inside the ONNX graph. */
    nullable: z.boolean().optional(),
    /** Training data: blank, data.na_values or unparseable cells. Numeric default "median", categorical default "drop". */
    missing: missingPolicy.optional(),
    description: z.string().optional(),
  })
  .strict();
export type ColumnSpec = z.infer<typeof columnSpec>;

const randomForest = z
  .object({
    type: z.literal("random_forest"),
    n_estimators: z.number().int().min(1).default(200),
    max_depth: z.number().int().min(1).max(32).default(8),
    min_samples_leaf: z.number().int().min(1).default(1),
    min_samples_split: z.number().int().min(2).default(2),
    max_features: z.union([z.literal("sqrt"), z.literal("log2"), z.number().positive().max(1)]).default("sqrt"),
    bootstrap: z.boolean().default(true),
    max_bins: z.number().int().min(2).max(256).default(255),
  })
  .strict();

const gradientBoosting = z
  .object({
    type: z.literal("gradient_boosting"),
    learning_rate: z.number().positive().max(1).default(0.1),
    max_iter: z.number().int().min(1).default(200),
    max_depth: z.number().int().min(1).max(32).default(6),
    min_samples_leaf: z.number().int().min(1).default(20),
    l2_regularization: z.number().min(0).default(0),
    max_bins: z.number().int().min(2).max(256).default(255),
    /** Stop when the log loss on held-out training rows has not improved by `tol` for this many
     * rounds; 0 disables (and every training row is fitted). */
    early_stopping_rounds: z.number().int().min(0).default(10),
    tol: z.number().min(0).default(1e-7),
    /** Share of the training rows held out, stratified, to decide early stopping: scikit-learn's
     * HistGradientBoosting validation_fraction. The validation split is never used for it. */
    validation_fraction: z.number().gt(0).lt(1).default(0.1),
  })
  .strict();

const logisticRegression = z
  .object({
    type: z.literal("logistic_regression"),
    /** Inverse regularisation strength, as scikit-learn's C. */
    C: z.number().positive().default(1),
    max_iter: z.number().int().min(1).default(1000),
    tol: z.number().positive().default(1e-8),
  })
  .strict();

export const modelConfigSchema = z.discriminatedUnion("type", [randomForest, gradientBoosting, logisticRegression]);
export type ModelConfig = z.infer<typeof modelConfigSchema>;

export const configSchema = z
  .object({
    mlflow: z
      .object({
        model_name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "lowercase letters, digits, '.', '_' or '-'"),
        description: z.string().default(""),
        tracking_uri: z.string().optional(),
        /** Retired: it was required and read by nothing. Still accepted and dropped, so configs written
         * then keep loading; a misspelling of it, like any other unknown key, is still an error. */
        experiment_name: z.string().optional(),
      })
      .strict()
      .transform(({ experiment_name: _retired, ...mlflow }) => mlflow),
    data: z
      .object({
        train_path: z.string().min(1),
        target_column: z.string().min(1),
        /** The class value that counts as positive; the other value is negative. */
        positive_class: z.union([z.string(), z.number()]).default("1"),
        duplicates: z.enum(["keep", "drop"]).default("keep"),
        /** Feature cells that mean "missing" (compared after trimming), handled by the column's
         * missing policy and counted in the data report. Blank cells are always missing. */
        na_values: z.array(z.string()).default([...PANDAS_NA_VALUES]),
      })
      .strict(),
    features: z
      .object({
        numeric: z.array(z.string().min(1)).default([]),
        categorical: z.array(z.string().min(1)).default([]),
        columns: z.record(z.string(), columnSpec).default({}),
      })
      .strict(),
    training: z
      .object({
        val_size: z.number().gt(0).lt(1).default(0.2),
        random_state: z.number().int().min(0).default(42),
        stratify: z.boolean().default(true),
        cv_folds: z.number().int().min(0).max(20).default(0),
        reference_sample_size: z.number().int().min(0).default(1000),
        golden_rows: z.number().int().min(0).max(1000).default(20),
      })
      .strict(),
    model: modelConfigSchema,
    output: z
      .object({
        label: z.string().regex(/^[a-z][a-z0-9_]*$/).default("prediction"),
        threshold: z.number().min(0).max(1).default(0.5),
        risk_tiers: z.record(z.string(), z.number().min(0).max(1)).default({ HIGH: 0.75, MEDIUM: 0.45, LOW: 0 }),
      })
      .strict(),
    gate: z
      .object({
        min_roc_auc: z.number().min(0).max(1).optional(),
        max_log_loss: z.number().positive().optional(),
        max_brier: z.number().positive().optional(),
        /** Release gate (`npm run gate`): a candidate may score at most this much ROC AUC below the
         * production version on the candidate's validation split. */
        auc_margin: z.number().min(0).max(1).default(0.005),
      })
      .strict()
      .prefault({}),
    /** Drift monitoring of the served version, copied into the manifest (defaults in worker/contract/manifest.ts). */
    monitoring: monitoringSchema.strict().prefault({}),
    /** Per-feature contributions (explainer.json): interventional SHAP against background rows
     * drawn with the seed from the training split. 0 writes no explainer. */
    explain: z
      .object({ background_rows: z.number().int().min(0).max(1000).default(100) })
      .strict()
      .prefault({}),
    /** `npm run rollout`'s defaults, sent in the start request; what is left out here and on the
     * command line takes the worker's defaults (worker/rollouts/), which also checks the ranges. */
    rollout: z
      .object({
        steps: z.array(z.number().gt(0).max(100)).min(1).optional(),
        step_minutes: z.number().int().min(0).optional(),
        min_requests: z.number().int().min(1).optional(),
        checks: z
          .object({
            max_error_rate_increase: z.number().min(0).optional(),
            max_latency_ratio: z.number().min(1).optional(),
            min_latency_requests: z.number().int().min(1).optional(),
            max_score_psi: z.number().positive().nullable().optional(),
            score_alpha: z.number().gt(0).lt(1).optional(),
            min_scores: z.number().int().min(10).optional(),
            auc_margin: z.number().min(0).max(1).optional(),
            min_labels: z.number().int().min(10).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const all = [...cfg.features.numeric, ...cfg.features.categorical];
    for (const kind of ["numeric", "categorical"] as const)
      cfg.features[kind].forEach((name, i) => {
        if (isReservedFeatureName(name))
          ctx.addIssue({
            code: "custom",
            path: ["features", kind, i],
            message: `column ${JSON.stringify(name)} cannot be a feature: the name is a property of every JavaScript object (Object.prototype), which request validation would read; rename the column`,
          });
      });
    const seen = new Set<string>();
    for (const name of all) {
      if (seen.has(name)) ctx.addIssue({ code: "custom", path: ["features"], message: `feature ${name} is listed twice` });
      seen.add(name);
      if (name === cfg.data.target_column)
        ctx.addIssue({ code: "custom", path: ["features"], message: `the target ${name} cannot be a feature` });
    }
    if (all.length === 0) ctx.addIssue({ code: "custom", path: ["features"], message: "no features listed" });
    for (const name of Object.keys(cfg.features.columns))
      if (!seen.has(name))
        ctx.addIssue({ code: "custom", path: ["features", "columns", name], message: `${name} is not a listed feature` });
    if (!Object.values(cfg.output.risk_tiers).includes(0))
      ctx.addIssue({ code: "custom", path: ["output", "risk_tiers"], message: "one tier must start at 0" });
  });

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Validates an already-parsed YAML document; every issue names its key path. */
export function parseConfig(doc: unknown, source = "config"): Config {
  const result = configSchema.safeParse(doc);
  if (result.success) return result.data;
  const issues = result.error.issues.flatMap((issue) => {
    const base = issue.path.join(".") || "(root)";
    if (issue.code === "unrecognized_keys")
      return issue.keys.map((key) => ({ path: base === "(root)" ? key : `${base}.${key}`, message: "unknown key" }));
    return [{ path: base, message: issue.message }];
  });
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join("\n");
  throw new ConfigError(`${source} is invalid:\n${lines}`, issues);
}

export function loadConfig(path: string): { config: Config; text: string } {
  const text = readFileSync(path, "utf8");
  return { config: parseConfig(parseYaml(text), path), text };
}
