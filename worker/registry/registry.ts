/**
 * Registry queries over D1 (drizzle). No HTTP here: routes, scripts, the cron job and tests call
 * these directly with a D1 binding.
 */
import { and, desc, eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { type Manifest, parseManifest } from "../contract/manifest";
import { aliases, aliasHistory, models, modelVersions, type ModelVersionRow } from "../db/schema";
import { ApiError } from "../errors";

export type Db = ReturnType<typeof openDb>;

export function openDb(d1: D1Database) {
  return drizzle(d1, { schema: { models, modelVersions, aliases, aliasHistory } });
}

export const VERSION_SELECTOR = /^[1-9][0-9]{0,8}$/;

/** Which version a request means: an explicit number, or an alias (default `production`). */
export type VersionRef = { version: number } | { alias: string };

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

export function describeVersion(row: ModelVersionRow, aliasNames: string[] = []) {
  const manifest = row.manifest as Manifest;
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
    metrics: manifest.metrics,
    manifest,
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

export async function getVersionDetail(db: Db, name: string, version: number) {
  const row = await getVersionRow(db, name, version);
  const aliasRows = await db
    .select()
    .from(aliases)
    .where(and(eq(aliases.modelName, name), eq(aliases.version, version)))
    .all();
  return describeVersion(row, aliasRows.map((a) => a.alias));
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

export async function markVersion(db: Db, name: string, version: number, patch: { status: ModelVersionRow["status"]; r2Key?: string }) {
  await db
    .update(modelVersions)
    .set(patch)
    .where(and(eq(modelVersions.modelName, name), eq(modelVersions.version, version)))
    .run();
}

/** Points an alias at a version and appends the move to alias_history, in one atomic batch. */
export async function setAlias(
  db: Db,
  input: { name: string; alias: string; version: number; by: string; reason?: string },
): Promise<{ from: number | null; to: number }> {
  const target = await getVersionRow(db, input.name, input.version);
  if (target.status !== "ready") throw new ApiError("CONFLICT", `version ${input.version} of ${input.name} is ${target.status}, not ready`);
  const current = await db
    .select()
    .from(aliases)
    .where(and(eq(aliases.modelName, input.name), eq(aliases.alias, input.alias)))
    .get();
  await db.batch([
    db
      .insert(aliases)
      .values({ modelName: input.name, alias: input.alias, version: input.version })
      .onConflictDoUpdate({
        target: [aliases.modelName, aliases.alias],
        set: { version: input.version, updatedAt: sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))` },
      }),
    db.insert(aliasHistory).values({
      modelName: input.name,
      alias: input.alias,
      fromVersion: current?.version ?? null,
      toVersion: input.version,
      changedBy: input.by,
      reason: input.reason ?? "",
    }),
  ]);
  return { from: current?.version ?? null, to: input.version };
}

export async function aliasHistoryFor(db: Db, name: string) {
  return db.select().from(aliasHistory).where(eq(aliasHistory.modelName, name)).orderBy(aliasHistory.id).all();
}
