/**
 * The registry's tables (drizzle, SQLite/D1). `drizzle-kit generate` turns this file into the SQL
 * under migrations/; migrations are read before they land and never edited afterwards.
 */
import { sql } from "drizzle-orm";
import { foreignKey, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const now = sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;

export const models = sqliteTable("models", {
  name: text("name").primaryKey(),
  description: text("description").notNull().default(""),
  createdAt: text("created_at").notNull().default(now),
});

/**
 * pending: row written, artifacts still uploading; ready: servable; failed: publishing stopped after
 * the row was written (artifacts removed); archived: retired, never served again.
 */
export const VERSION_STATUSES = ["pending", "ready", "archived", "failed"] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

export const modelVersions = sqliteTable(
  "model_versions",
  {
    modelName: text("model_name")
      .notNull()
      .references(() => models.name),
    /** Monotonic per model: 1, 2, 3 ... assigned at registration. */
    version: integer("version").notNull(),
    r2Key: text("r2_key").notNull(),
    sha256: text("sha256").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    /**
     * The full manifest as JSON text (features, preprocessing, thresholds, metrics, fingerprint,
     * source). Read as text and parsed where it is used, so a corrupt row makes that one version
     * unavailable (503) instead of failing every query that touches it.
     */
    manifest: text("manifest").notNull(),
    status: text("status", { enum: VERSION_STATUSES }).notNull().default("pending"),
    source: text("source"),
    createdAt: text("created_at").notNull().default(now),
    createdBy: text("created_by").notNull(),
    /** Who moved the version to failed or archived, when and why (null while it has never left pending/ready). */
    statusChangedAt: text("status_changed_at"),
    statusChangedBy: text("status_changed_by"),
    statusReason: text("status_reason"),
  },
  (t) => [primaryKey({ columns: [t.modelName, t.version] })],
);

export const aliases = sqliteTable(
  "aliases",
  {
    modelName: text("model_name")
      .notNull()
      .references(() => models.name),
    alias: text("alias").notNull(),
    version: integer("version").notNull(),
    updatedAt: text("updated_at").notNull().default(now),
  },
  (t) => [
    primaryKey({ columns: [t.modelName, t.alias] }),
    foreignKey({ columns: [t.modelName, t.version], foreignColumns: [modelVersions.modelName, modelVersions.version] }),
  ],
);

/** Append-only: every alias move, for audit and rollback. */
export const aliasHistory = sqliteTable(
  "alias_history",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    modelName: text("model_name").notNull(),
    alias: text("alias").notNull(),
    fromVersion: integer("from_version"),
    toVersion: integer("to_version"),
    changedAt: text("changed_at").notNull().default(now),
    changedBy: text("changed_by").notNull(),
    reason: text("reason").notNull().default(""),
    /** JSON object supporting the move (an evaluation gate's AUCs, rows, data fingerprint, commit); null when none was given. */
    evidence: text("evidence"),
  },
  (t) => [index("alias_history_model_alias").on(t.modelName, t.alias, t.id)],
);

/**
 * Sampled prediction rows, for drift reports and joins with ground truth. No foreign key to
 * model_versions: a sample must never make a prediction's write fail, and archived versions keep
 * their samples until retention removes them.
 */
export const requestSamples = sqliteTable(
  "request_samples",
  {
    // A plain rowid key: AUTOINCREMENT would add a sqlite_sequence write to every insert.
    id: integer("id").primaryKey(),
    modelName: text("model_name").notNull(),
    version: integer("version").notNull(),
    /**
     * Which traffic arm answered: production, canary or shadow. Until traffic splitting exists it
     * is the alias asked for ("production" for the default alias), or "version" when the request
     * named a version explicitly.
     */
    arm: text("arm").notNull(),
    /** The id the Worker minted for the request (a UUID): the key labels join on. */
    requestId: text("request_id").notNull(),
    /** The client's own x-request-id, if it sent a sane one: stored, echoed, never trusted to be unique. */
    clientRequestId: text("client_request_id"),
    /** Position of the row within its request (batches are sampled by row). */
    rowIndex: integer("row_index").notNull(),
    /** The row's manifest features as JSON, as the client sent them (after validation). */
    features: text("features").notNull(),
    /** Positive-class probability straight from the graph (float32), not the rounded display value. */
    probability: real("probability").notNull(),
    prediction: integer("prediction", { mode: "boolean" }).notNull(),
    riskTier: text("risk_tier").notNull(),
    /** Wall time of the whole prediction as workerd sees it (clocks stand still during CPU work). */
    latencyMs: integer("latency_ms").notNull(),
    createdAt: text("created_at").notNull(),
    /** Start of the UTC hour the row belongs to (ISO 8601): the unit of the per-window cap. */
    window: text("window").notNull(),
    /** Uniform random key: a window keeps its cap smallest keys, a uniform sample across isolates. */
    sampleKey: real("sample_key").notNull(),
  },
  (t) => [
    index("request_samples_model_version_created").on(t.modelName, t.version, t.createdAt),
    // Serves the reservoir's "rank within window" and retention's range on window alike.
    index("request_samples_window_key").on(t.window, t.modelName, t.version, t.sampleKey),
    // One row per (request, row, arm): the answering arm's row and, when a shadow ran, the shadow's
    // row of the same request row beside it. POST /feedback joins on it, and a redelivered queue
    // message inserts nothing twice.
    uniqueIndex("request_samples_request_row_arm").on(t.requestId, t.rowIndex, t.arm),
    // POST /feedback by the client's own id, only within the model the label names.
    index("request_samples_model_client").on(t.modelName, t.clientRequestId).where(sql`client_request_id IS NOT NULL`),
  ],
);

/**
 * Rows request_samples holds per (window, model, version), kept by the same batch that inserts and
 * evicts, so the reservoir finds the rows to evict from the top of its index (reading about as many
 * entries as it deletes) instead of walking the window up to the cap on every write.
 */
export const sampleWindowCounts = sqliteTable(
  "sample_window_counts",
  {
    window: text("window").notNull(),
    modelName: text("model_name").notNull(),
    version: integer("version").notNull(),
    rows: integer("rows").notNull(),
  },
  (t) => [primaryKey({ columns: [t.window, t.modelName, t.version] })],
);

/**
 * How a model's serving traffic splits. The versions are the model's `canary` and `shadow` aliases
 * (so every change is in alias_history and an alias in use blocks archiving); this row holds the
 * rest. Canary: `canary_percent` of requests that resolve to the serving alias go to the canary
 * version, sticky by a hash of `entity_field` (or the x-entity-id header) when the row names one.
 * Shadow: the shadow version also scores requests after the response, and `shadow_sample_rate` of
 * them store their paired outputs in shadow_pairs.
 */
export const trafficPolicies = sqliteTable("traffic_policies", {
  modelName: text("model_name")
    .primaryKey()
    .references(() => models.name),
  canaryPercent: real("canary_percent").notNull().default(0),
  shadowSampleRate: real("shadow_sample_rate").notNull().default(0),
  /** Request field whose value keeps an entity on one arm (e.g. customer_id); null: x-entity-id header only. */
  entityField: text("entity_field"),
  updatedAt: text("updated_at").notNull().default(now),
  updatedBy: text("updated_by").notNull(),
  reason: text("reason").notNull().default(""),
});

/**
 * Shadow scoring's paired outputs: the version that answered and the shadow version, on the same
 * row. Bounded by the policy's sample rate and the cron's retention, like request_samples.
 */
export const shadowPairs = sqliteTable(
  "shadow_pairs",
  {
    id: integer("id").primaryKey(),
    modelName: text("model_name").notNull(),
    requestId: text("request_id").notNull(),
    rowIndex: integer("row_index").notNull(),
    primaryVersion: integer("primary_version").notNull(),
    shadowVersion: integer("shadow_version").notNull(),
    primaryProbability: real("primary_probability").notNull(),
    shadowProbability: real("shadow_probability").notNull(),
    primaryPrediction: integer("primary_prediction", { mode: "boolean" }).notNull(),
    shadowPrediction: integer("shadow_prediction", { mode: "boolean" }).notNull(),
    /** Both versions reached the same decision (each by its own manifest's threshold). */
    agree: integer("agree", { mode: "boolean" }).notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    // One pair per request row and shadow version, so a redelivered queue message writes it once.
    uniqueIndex("shadow_pairs_request_row_shadow").on(t.requestId, t.rowIndex, t.shadowVersion),
    index("shadow_pairs_model_shadow_created").on(t.modelName, t.shadowVersion, t.createdAt),
    index("shadow_pairs_created").on(t.createdAt),
  ],
);

/**
 * One drift report per (model version, window), upserted so a cron retry rewrites the same row.
 * `report` is the full JSON (per-feature test, statistic, p-value, PSI, sizes, flag; predictions;
 * realized metrics); `status` repeats its overall verdict for listing without parsing.
 */
export const driftReports = sqliteTable(
  "drift_reports",
  {
    modelName: text("model_name").notNull(),
    version: integer("version").notNull(),
    /** Window bounds, ISO 8601 UTC, start inclusive and end exclusive. */
    windowStart: text("window_start").notNull(),
    windowEnd: text("window_end").notNull(),
    /** ok | drift | insufficient_data | no_samples | no_reference */
    status: text("status").notNull(),
    report: text("report").notNull(),
    /** JSON: the alert's delivery (attempts, last status or error), null when none was due. */
    alert: text("alert"),
    createdAt: text("created_at").notNull().default(now),
    updatedAt: text("updated_at").notNull().default(now),
  },
  (t) => [
    primaryKey({ columns: [t.modelName, t.version, t.windowStart] }),
    index("drift_reports_model_window").on(t.modelName, t.windowStart),
  ],
);

/**
 * Prometheus counters and histogram buckets, summed across isolates: each isolate buffers its
 * increments and upserts them into the current UTC minute's rows. A scrape sums every minute.
 * `labels` is the series' canonical label set (sorted `k="v"` pairs, as in the exposition format).
 */
export const metricBuckets = sqliteTable(
  "metric_buckets",
  {
    minute: text("minute").notNull(),
    name: text("name").notNull(),
    labels: text("labels").notNull(),
    value: real("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.minute, t.name, t.labels] })],
);

/**
 * Ground truth: a label joined to the prediction it judges, either through a sampled row
 * (request_samples) or through the signed prediction token the response carried.
 */
export const predictionLabels = sqliteTable(
  "prediction_labels",
  {
    requestId: text("request_id").notNull(),
    rowIndex: integer("row_index").notNull(),
    modelName: text("model_name").notNull(),
    version: integer("version").notNull(),
    label: integer("label").notNull(),
    /** The positive-class probability the version gave (float32 from the graph). */
    probability: real("probability").notNull(),
    predictedAt: text("predicted_at").notNull(),
    observedAt: text("observed_at"),
    receivedAt: text("received_at").notNull().default(now),
    /** How the prediction was found: "sample" or "token". */
    joinedBy: text("joined_by").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.requestId, t.rowIndex] }),
    index("prediction_labels_model_version_predicted").on(t.modelName, t.version, t.predictedAt),
  ],
);

/**
 * Progressive delivery: a canary ramped step by step (`steps`, percent of traffic) through the
 * traffic policy, each step judged against the primary on live traffic by the minute cron, then
 * promoted or aborted. At most one active rollout per model (a partial unique index). `evidence` is
 * the JSON list of every evaluation that moved it (each check with both arms' numbers).
 */
export const rollouts = sqliteTable(
  "rollouts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    modelName: text("model_name")
      .notNull()
      .references(() => models.name),
    version: integer("version").notNull(),
    /** The version the default alias named when the rollout started. */
    primaryVersion: integer("primary_version").notNull(),
    /** JSON: increasing percents, the last 100 or less. */
    steps: text("steps").notNull(),
    stepMinutes: integer("step_minutes").notNull(),
    minRequests: integer("min_requests").notNull(),
    /** JSON: the checks' thresholds. */
    checks: text("checks").notNull(),
    /** active | promoted | aborted */
    status: text("status").notNull(),
    stepIndex: integer("step_index").notNull().default(0),
    stepStartedAt: text("step_started_at").notNull(),
    startedAt: text("started_at").notNull(),
    startedBy: text("started_by").notNull(),
    reason: text("reason").notNull(),
    endedAt: text("ended_at"),
    endReason: text("end_reason"),
    evidence: text("evidence").notNull().default("[]"),
    /** JSON: the latest evaluation of the current step, whatever it decided. */
    lastEvaluation: text("last_evaluation"),
    /** `<minute>#<step index>` of the last evaluation: a cron firing twice in one minute evaluates a step once. */
    lastEvaluatedMinute: text("last_evaluated_minute"),
  },
  (t) => [
    uniqueIndex("rollouts_one_active").on(t.modelName).where(sql`status = 'active'`),
    index("rollouts_model_started").on(t.modelName, t.id),
  ],
);

export type ModelRow = typeof models.$inferSelect;
export type ModelVersionRow = typeof modelVersions.$inferSelect;
export type AliasRow = typeof aliases.$inferSelect;
export type AliasHistoryRow = typeof aliasHistory.$inferSelect;
export type RolloutRow = typeof rollouts.$inferSelect;
export type RequestSampleRow = typeof requestSamples.$inferSelect;
export type TrafficPolicyRow = typeof trafficPolicies.$inferSelect;
export type ShadowPairRow = typeof shadowPairs.$inferSelect;
export type DriftReportRow = typeof driftReports.$inferSelect;
export type MetricBucketRow = typeof metricBuckets.$inferSelect;
export type PredictionLabelRow = typeof predictionLabels.$inferSelect;
