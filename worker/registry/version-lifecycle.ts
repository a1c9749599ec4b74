/**
 * A version's life in the registry: inserted pending, marked ready (in publish's batch) or failed,
 * archived for good. Each change is one guarded statement, so concurrent writers cannot half-apply.
 */
import { and, eq, inArray, notExists, sql } from "drizzle-orm";
import { type Manifest, parseManifest } from "../contract/manifest";
import { type D1Statement, type Db, NOW_SQL } from "../db/open-db";
import { aliases, modelVersions, type ModelVersionRow } from "../db/schema";
import { ApiError } from "../errors";
import { getVersionRow } from "./versions";

export interface NewVersion {
  name: string;
  description?: string;
  manifest: Manifest;
  sha256: string;
  sizeBytes: number;
  createdBy: string;
  source?: string | null;
}

/**
 * Inserts a version row with the next number for the model, atomically: the number is computed
 * inside the INSERT, so two concurrent registrations cannot take the same one. The row starts
 * `pending`; the caller uploads artifacts, then marks it ready.
 */
export async function insertVersion(db: Db, input: NewVersion): Promise<number> {
  parseManifest(input.manifest);
  // Raw statements: drizzle's D1 batch cannot carry an INSERT ... SELECT ... RETURNING.
  const d1 = db.$client;
  const [, inserted] = await d1.batch<{ version: number }>([
    d1
      .prepare("INSERT INTO models (name, description) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING")
      .bind(input.name, input.description ?? input.manifest.description),
    d1
      .prepare(
        `INSERT INTO model_versions (model_name, version, r2_key, sha256, size_bytes, manifest, status, source, created_by)
         SELECT ?1, COALESCE(MAX(version), 0) + 1, '', ?2, ?3, ?4, 'pending', ?5, ?6
         FROM model_versions WHERE model_name = ?1
         RETURNING version`,
      )
      .bind(input.name, input.sha256, input.sizeBytes, JSON.stringify(input.manifest), input.source ?? null, input.createdBy),
  ]);
  const version = inserted?.results[0]?.version;
  if (!version) throw new Error(`could not allocate a version for ${input.name}`);
  return version;
}

/** The statement that makes a pending version servable; publish runs it in one batch with the alias moves. */
export function markReadyStatement(d1: D1Database, name: string, version: number, r2Key: string): D1Statement {
  return d1
    .prepare("UPDATE model_versions SET status = 'ready', r2_key = ?3 WHERE model_name = ?1 AND version = ?2 AND status = 'pending'")
    .bind(name, version, r2Key);
}

/**
 * Marks a version whose publishing stopped after its row was written, saying why; only while it is
 * pending. False when it was not pending (so it may be ready, and its artifacts must stay).
 */
export async function markFailed(db: Db, name: string, version: number, by: string, reason: string): Promise<boolean> {
  const failed = await db
    .update(modelVersions)
    .set({ status: "failed", statusChangedAt: sql.raw(NOW_SQL), statusChangedBy: by, statusReason: reason })
    .where(and(eq(modelVersions.modelName, name), eq(modelVersions.version, version), eq(modelVersions.status, "pending")))
    .returning({ version: modelVersions.version })
    .get();
  return failed !== undefined;
}

/**
 * Retires a version for good. One guarded UPDATE, so an alias moved onto the version concurrently
 * either lands first (and the archive is refused) or finds the version archived (and is refused).
 */
export async function archiveVersion(db: Db, name: string, version: number, by: string, reason: string): Promise<ModelVersionRow> {
  const pointing = db
    .select({ alias: aliases.alias })
    .from(aliases)
    .where(and(eq(aliases.modelName, name), eq(aliases.version, version)));
  const archived = await db
    .update(modelVersions)
    .set({ status: "archived", statusChangedAt: sql.raw(NOW_SQL), statusChangedBy: by, statusReason: reason })
    .where(
      and(
        eq(modelVersions.modelName, name),
        eq(modelVersions.version, version),
        inArray(modelVersions.status, ["ready", "failed"]),
        notExists(pointing),
      ),
    )
    .returning()
    .get();
  if (archived) return archived;
  const row = await getVersionRow(db, name, version);
  if (row.status === "archived") return row;
  if (row.status === "pending") throw new ApiError("CONFLICT", `version ${version} of ${name} is still being published`);
  const names = (await pointing.all()).map((a) => a.alias);
  if (!names.length) throw new ApiError("CONFLICT", `the aliases of ${name} moved while version ${version} was being archived: try again`);
  throw new ApiError("CONFLICT", `version ${version} of ${name} is what ${names.join(", ")} point${names.length === 1 ? "s" : ""} at: move ${names.length === 1 ? "it" : "them"} first`);
}

/** An archived version as the admin API and the CLI's local registry both answer it. */
export function describeArchived(row: ModelVersionRow) {
  return {
    name: row.modelName,
    version: row.version,
    status: "archived" as const,
    status_changed_at: row.statusChangedAt,
    status_changed_by: row.statusChangedBy,
    status_reason: row.statusReason,
  };
}
