/**
 * Registry reads over D1 (drizzle): which version a name and a version or alias resolve to, and the
 * model and version views the API shows. No HTTP here: routes, scripts, the cron job and tests call
 * these directly.
 */
import { and, desc, eq, sql } from "drizzle-orm";
import type { Manifest } from "../contract/manifest";
import type { Db } from "../db/open-db";
import { aliases, models, modelVersions, type ModelVersionRow } from "../db/schema";
import { storedJson } from "../db/stored-json";
import { ApiError } from "../errors";
import type { VersionRef } from "./version-ref";

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
