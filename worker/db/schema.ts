/**
 * The registry's tables (drizzle, SQLite/D1). `drizzle-kit generate` turns this file into the SQL
 * under migrations/; migrations are read before they land and never edited afterwards.
 * Monitoring tables (request samples, drift reports, feedback) are added by their own migrations.
 */
import { sql } from "drizzle-orm";
import { foreignKey, index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

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
    requestId: text("request_id").notNull(),
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

export type ModelRow = typeof models.$inferSelect;
export type ModelVersionRow = typeof modelVersions.$inferSelect;
export type AliasRow = typeof aliases.$inferSelect;
export type AliasHistoryRow = typeof aliasHistory.$inferSelect;
export type RequestSampleRow = typeof requestSamples.$inferSelect;
