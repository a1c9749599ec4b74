/**
 * The drift-report part of the OpenAPI document: GET /monitoring/models/{name}/drift. Wire
 * `monitoringPaths()` into paths; its schemas are inline, so no components are needed.
 * The report shape mirrors worker/monitoring/drift-report-types.ts.
 */
import { attributionDriftSchema } from "../monitoring/attribution-drift";
import { errors, jsonContent, nameParam, ok, operation, type Schema } from "./openapi-parts";
import { jsonSchema } from "./openapi-schemas";

const num = { type: "number" };
const nullableNumber = { type: ["number", "null"] };
const shares = { type: "array", items: num };
const featureStatus = { type: "string", enum: ["ok", "drift", "insufficient_data"] };
const binned: Schema = {
  type: "object",
  description: "Shares per reference bin: interior edges, edges.length + 1 bins, open at both ends",
  properties: { edges: shares, reference_shares: shares, current_shares: shares },
};

const feature: Schema = {
  type: "object",
  required: ["name", "kind", "test", "statistic", "p_value", "psi", "reference_n", "current_n", "status"],
  properties: {
    name: { type: "string" },
    kind: { type: "string", enum: ["numeric", "categorical"] },
    test: { type: "string", enum: ["ks", "chi2"], description: "two-sample Kolmogorov–Smirnov (numeric) or chi-squared homogeneity (categorical)" },
    statistic: nullableNumber,
    p_value: nullableNumber,
    p_value_adjusted: { ...nullableNumber, description: "Benjamini–Hochberg adjusted; present only when that correction is on" },
    psi: { ...nullableNumber, description: "Population Stability Index over the reference's decile bins or categories" },
    reference_n: { type: "integer" },
    current_n: { type: "integer" },
    current_missing: { type: "integer" },
    reference_missing_share: nullableNumber,
    status: { ...featureStatus, description: "drift: p below alpha and PSI at least psi_threshold; insufficient_data below min_samples on either side" },
    note: { type: "string" },
    method: { type: ["string", "null"], enum: ["exact", "asymptotic", null], description: "numeric: scipy ks_2samp's auto choice" },
    bins: { ...binned, description: "numeric: reference decile bins with reference and current shares" },
    reference_mean: nullableNumber,
    current_mean: nullableNumber,
    dof: { type: ["integer", "null"], description: "categorical: degrees of freedom" },
    categories: {
      type: "array",
      description: "categorical: training categories then __other__",
      items: {
        type: "object",
        properties: { value: { type: "string" }, reference_share: num, current_share: num, reference_count: { type: "integer" }, current_count: { type: "integer" } },
      },
    },
    unseen_values: {
      type: "array",
      description: "categorical: values outside the training categories (counted under __other__), most frequent first, at most 20",
      items: { type: "object", properties: { value: { type: "string" }, count: { type: "integer" } } },
    },
  },
};

const predictions: Schema = {
  type: ["object", "null"],
  properties: {
    current_n: { type: "integer" },
    reference_n: { type: "integer" },
    ks: { type: ["object", "null"], properties: { statistic: num, p_value: num, method: { type: "string" } } },
    psi: nullableNumber,
    histogram: binned,
    positive_rate: { type: "object", properties: { threshold: num, reference: nullableNumber, current: nullableNumber } },
    risk_tiers: {
      type: "object",
      properties: {
        tiers: { type: "array", items: { type: "object", properties: { name: { type: "string" }, reference_share: num, current_share: num } } },
        test: { type: "string", const: "chi2" },
        statistic: nullableNumber,
        p_value: nullableNumber,
        dof: { type: ["integer", "null"] },
      },
    },
    status: featureStatus,
  },
};

const reportStatus = {
  type: "string",
  enum: ["ok", "drift", "insufficient_data", "no_samples", "no_reference", "error"],
  description: "error: the report could not be computed (reason says why); other versions are unaffected",
};

const report: Schema = {
  type: "object",
  required: ["schema_version", "model", "version", "window", "status", "samples", "settings", "features", "predictions"],
  properties: {
    schema_version: { type: "integer", const: 1 },
    model: { type: "string" },
    version: { type: "integer" },
    window: { type: "object", properties: { start: { type: "string", format: "date-time" }, end: { type: "string", format: "date-time" } } },
    status: reportStatus,
    reason: { type: "string" },
    samples: { type: "object", properties: { total: { type: "integer" }, by_arm: { type: "object", additionalProperties: { type: "integer" } } } },
    settings: {
      type: "object",
      description: "the version's manifest monitoring settings, defaults filled in",
      properties: {
        alpha: num,
        psi_threshold: num,
        min_samples: { type: "integer" },
        correction: { type: "string", enum: ["none", "benjamini-hochberg"] },
        window_hours: { type: "integer" },
        alert: { type: "boolean" },
      },
    },
    reference: { type: ["object", "null"], properties: { split: { type: "string" }, rows: { type: "integer" }, sample_size: { type: "integer" } } },
    drifted_features: { type: "array", items: { type: "string" } },
    features: { type: "array", items: feature },
    predictions,
    ground_truth: { description: "realized and label-free quality for the window, when labels were joined" },
    attribution: jsonSchema(attributionDriftSchema),
  },
};

const alert: Schema = {
  type: ["object", "null"],
  description: "the webhook delivery for this report; null when none was due",
  properties: {
    outcome: { type: "string", enum: ["delivered", "failed"] },
    attempts: { type: "array", items: { type: "object", properties: { at: { type: "string" }, status: { type: "integer" }, error: { type: "string" } } } },
    finished_at: { type: "string" },
  },
};

const listing: Schema = {
  type: "object",
  properties: {
    version: { type: "integer" },
    window_start: { type: "string", format: "date-time" },
    window_end: { type: "string", format: "date-time" },
    status: reportStatus,
    report,
    alert,
    updated_at: { type: "string" },
  },
};

export function monitoringPaths(tag = "Monitoring") {
  return {
    "/monitoring/models/{name}/drift": {
      get: operation({
        tag,
        id: "driftReports",
        summary: "Drift reports: the latest of each serving version and the history, as JSON",
        description: [
          "The cron writes one report per version and window for every version the default alias, canary or shadow serves:",
          "KS and PSI per numeric feature against reference.json, chi-squared and PSI per categorical feature, KS on the scores,",
          "the predicted-positive rate and the risk-tier mix. For a version with an explainer, `attribution` puts each feature's mean |contribution|",
          "over up to 200 of the window's sampled rows beside the training-time importance from the manifest. Aggregates only: no sampled row or request id. Public.",
        ].join(" "),
        parameters: [
          nameParam,
          { name: "version", in: "query", required: false, description: "only this version", schema: { type: "integer", minimum: 1 } },
          { name: "limit", in: "query", required: false, description: "history entries, newest window first", schema: { type: "integer", minimum: 1, maximum: 500, default: 50 } },
        ],
        responses: {
          ...ok(
            "the model's reports",
            jsonContent({
              type: "object",
              required: ["model", "latest", "history"],
              properties: {
                model: { type: "string" },
                latest: {
                  type: "array",
                  description: "one entry per serving version: its arms and newest report (null before the first cron run)",
                  items: { type: "object", properties: { version: { type: "integer" }, arms: { type: "array", items: { type: "string" } }, report: { oneOf: [listing, { type: "null" }] } } },
                },
                history: { type: "array", items: listing },
              },
            }),
          ),
          ...errors("Error", ["404", "422", "500"], { "404": "unknown model", "422": "version or limit is not a valid number; details.issues names each" }),
        },
      }),
    },
  };
}
