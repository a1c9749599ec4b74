/**
 * Registry queries over D1 (drizzle). No HTTP here: routes, scripts, the cron job and tests call
 * these directly with a D1 binding.
 */
import { and, desc, eq, inArray, notExists, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { type Manifest, parseManifest } from "../contract/manifest";
import { aliases, aliasHistory, models, modelVersions, type ModelVersionRow } from "../db/schema";
import { storedJson } from "../db/stored-json";
import { ApiError } from "../errors";
import { ALIAS_NAME, type VersionRef } from "./version-ref";

export type Db = ReturnType<typeof openDb>;
export type D1Statement = ReturnType<D1Database["prepare"]>;

/** The timestamp format the schema's defaults write (ISO 8601, UTC, milliseconds). */
const NOW_SQL = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

export function openDb(d1: D1Database) {
  return drizzle(d1, { schema: { models, modelVersions, aliases, aliasHistory } });
}

export type { VersionRef };

export interface ResolvedVersion {
  row: ModelVersionRow;
  via: string;
}

export async function resolveVersion(db: Db, name: string, ref: VersionRef): Promise<ResolvedVersion> {
  if ("version" in ref) {
    const row = await getVersionRow(db, name, ref.version);
    return { row, via: `version ${ref.version}` };
  }
  const hit = await db
    .select({ version: modelVersions })
    .from(aliases)
    .innerJoin(modelVersions, and(eq(modelVersions.modelName, aliases.modelName), eq(modelVersions.version, aliases.version)))
    .where(and(eq(aliases.modelName, name), eq(aliases.alias, ref.alias)))
    .get();
  if (hit) return { row: hit.version, via: `alias ${ref.alias}` };
  await getModelRow(db, name);
  throw new ApiError("NOT_FOUND", `model ${name} has no version with alias '${ref.alias}'`);
}

export async function getModelRow(db: Db, name: string) {
  const row = await db.select().from(models).where(eq(models.name, name)).get();
  if (!row) throw new ApiError("NOT_FOUND", `model ${name} is not registered`);
  return row;
}

export async function getVersionRow(db: Db, name: string, version: number): Promise<ModelVersionRow> {
  const row = await db
    .select()
    .from(modelVersions)
    .where(and(eq(modelVersions.modelName, name), eq(modelVersions.version, version)))
    .get();
  if (row) return row;
  await getModelRow(db, name);
  throw new ApiError("NOT_FOUND", `model ${name} has no version ${version}`);
}

/**
 * Who reads a version: golden rows are real training rows, so only the admin token sees their
 * inputs; everyone else gets the manifest with each golden row's probability alone.
 */
export type ManifestView = "public" | "admin";

export function manifestFor<T>(manifest: T, view: ManifestView): T {
  if (view === "admin" || !manifest || typeof manifest !== "object") return manifest;
  const golden = (manifest as { golden?: unknown }).golden;
  if (!Array.isArray(golden)) return manifest;
  return { ...manifest, golden: golden.map((g: { probability?: unknown }) => ({ probability: g?.probability })) };
}

export function describeVersion(row: ModelVersionRow, aliasNames: string[] = [], view: ManifestView = "public") {
  const stored = storedJson(row.manifest);
  // A corrupt manifest is still shown (as null, with the parse error) so an operator can see it.
  const manifest = stored.ok ? manifestFor(stored.value as Manifest, view) : null;
  return {
    name: row.modelName,
    version: row.version,
    status: row.status,
    aliases: aliasNames,
    sha256: row.sha256,
    size_bytes: row.sizeBytes,
    created_at: row.createdAt,
    created_by: row.createdBy,
    source: row.source,
    metrics: manifest?.metrics ?? null,
    manifest,
    ...(stored.ok ? {} : { manifest_error: stored.error }),
  };
}

export async function listModels(db: Db) {
  const rows = await db.select().from(models).orderBy(models.name).all();
  const versionCounts = await db
    .select({ name: modelVersions.modelName, latest: sql<number>`max(${modelVersions.version})`, count: sql<number>`count(*)` })
    .from(modelVersions)
    .groupBy(modelVersions.modelName)
    .all();
  const aliasRows = await db.select().from(aliases).all();
  return rows.map((m) => {
    const counts = versionCounts.find((v) => v.name === m.name);
    return {
      name: m.name,
      description: m.description,
      created_at: m.createdAt,
      latest_version: counts?.latest ?? null,
      version_count: counts?.count ?? 0,
      aliases: Object.fromEntries(aliasRows.filter((a) => a.modelName === m.name).map((a) => [a.alias, a.version])),
    };
  });
}

export async function getModelDetail(db: Db, name: string) {
  const model = await getModelRow(db, name);
  const versions = await db
    .select()
    .from(modelVersions)
    .where(eq(modelVersions.modelName, name))
    .orderBy(desc(modelVersions.version))
    .all();
  const aliasRows = await db.select().from(aliases).where(eq(aliases.modelName, name)).all();
  return {
    name: model.name,
    description: model.description,
    created_at: model.createdAt,
    aliases: Object.fromEntries(aliasRows.map((a) => [a.alias, a.version])),
    versions: versions.map((v) => {
      const { manifest: _manifest, ...summary } = describeVersion(
        v,
        aliasRows.filter((a) => a.version === v.version).map((a) => a.alias),
      );
      return summary;
    }),
  };
}

export async function getVersionDetail(db: Db, name: string, version: number, view: ManifestView = "public") {
  const row = await getVersionRow(db, name, version);
  const aliasRows = await db
    .select()
    .from(aliases)
    .where(and(eq(aliases.modelName, name), eq(aliases.version, version)))
    .all();
  return describeVersion(row, aliasRows.map((a) => a.alias), view);
}

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

export interface AliasMove {
  name: string;
  alias: string;
  version: number;
  by: string;
  reason?: string;
  /** Stored as JSON text with the history row (e.g. the evaluation gate's figures). */
  evidence?: Record<string, unknown>;
}

/** Alias names follow the pattern requests use (version-ref.ts), so every alias written can be asked for. */
export function assertAliasName(alias: string): void {
  if (!ALIAS_NAME.test(alias)) {
    throw new ApiError("VALIDATION_FAILED", `alias ${JSON.stringify(alias)} is not a valid alias name (letters, digits, '_' or '-', starting with a letter, at most 63)`);
  }
}

/**
 * The two statements of one alias move, for a D1 batch (publish and setAlias both run them). The
 * history row comes first and reads from_version from `aliases` inside the batch, so racing moves
 * chain: each records the version the previous one left. The upsert then takes its version from
 * model_versions only when that version is ready; otherwise the value is NULL, aliases.version's
 * NOT NULL constraint fails, and the whole batch (history row included) rolls back.
 * Raw statements: drizzle's D1 batch cannot carry an INSERT ... SELECT ... RETURNING.
 */
export function aliasMoveStatements(d1: D1Database, move: AliasMove): D1Statement[] {
  return [
    d1
      .prepare(
        `INSERT INTO alias_history (model_name, alias, from_version, to_version, changed_by, reason, evidence)
         SELECT ?1, ?2, (SELECT version FROM aliases WHERE model_name = ?1 AND alias = ?2), ?3, ?4, ?5, ?6
         RETURNING from_version`,
      )
      .bind(move.name, move.alias, move.version, move.by, move.reason ?? "", evidenceText(move.evidence)),
    d1
      .prepare(
        `INSERT INTO aliases (model_name, alias, version)
         VALUES (?1, ?2, (SELECT version FROM model_versions WHERE model_name = ?1 AND version = ?3 AND status = 'ready'))
         ON CONFLICT (model_name, alias) DO UPDATE SET version = excluded.version, updated_at = ${NOW_SQL}`,
      )
      .bind(move.name, move.alias, move.version),
  ];
}

/**
 * The two statements of one alias removal, for a D1 batch: the history row (to_version NULL) is
 * selected from the alias itself, so with no alias there is no row and the DELETE is a no-op.
 */
export function aliasRemovalStatements(d1: D1Database, removal: { name: string; alias: string; by: string; reason: string }): D1Statement[] {
  return [
    d1
      .prepare(
        `INSERT INTO alias_history (model_name, alias, from_version, to_version, changed_by, reason)
         SELECT model_name, alias, version, NULL, ?3, ?4 FROM aliases WHERE model_name = ?1 AND alias = ?2
         RETURNING from_version`,
      )
      .bind(removal.name, removal.alias, removal.by, removal.reason),
    d1.prepare("DELETE FROM aliases WHERE model_name = ?1 AND alias = ?2").bind(removal.name, removal.alias),
  ];
}

function evidenceText(evidence: Record<string, unknown> | undefined): string | null {
  return evidence === undefined ? null : JSON.stringify(evidence);
}

/** from_version as the history statement of aliasMoveStatements() returned it. */
export function movedFrom(historyResult: D1Result | undefined): number | null {
  return (historyResult?.results[0] as { from_version: number | null } | undefined)?.from_version ?? null;
}

/** True when a batch failed because an alias move's target is missing or not ready (see aliasMoveStatements). */
export function isAliasTargetRefusal(error: unknown): boolean {
  return /NOT NULL constraint failed: aliases\.version/.test(String((error as Error)?.message ?? error));
}

/** Why a move to this version was refused: NOT_FOUND when it does not exist, CONFLICT when it is not ready. */
export async function aliasTargetError(db: Db, move: AliasMove): Promise<ApiError> {
  const row = await getVersionRow(db, move.name, move.version);
  if (row.status === "ready") return new ApiError("CONFLICT", `version ${move.version} of ${move.name} became ready while ${move.alias} was moving: try again`);
  return new ApiError(
    "CONFLICT",
    `cannot point ${move.alias} at version ${move.version} of ${move.name}: it is ${row.status}, and aliases point only at ready versions`,
  );
}

/** Points an alias at a ready version and appends the move to alias_history, in one atomic batch. */
export async function setAlias(db: Db, move: AliasMove): Promise<{ from: number | null; to: number }> {
  assertAliasName(move.alias);
  const d1 = db.$client;
  try {
    const [history] = await d1.batch(aliasMoveStatements(d1, move));
    return { from: movedFrom(history), to: move.version };
  } catch (error) {
    if (isAliasTargetRefusal(error)) throw await aliasTargetError(db, move);
    throw error;
  }
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

export async function aliasHistoryFor(db: Db, name: string, alias?: string) {
  const where = alias === undefined ? eq(aliasHistory.modelName, name) : and(eq(aliasHistory.modelName, name), eq(aliasHistory.alias, alias));
  return db.select().from(aliasHistory).where(where).orderBy(aliasHistory.id).all();
}
