/**
 * What GET /monitoring shows, read from D1 with bounded queries: per model its latest versions,
 * aliases, the last alias moves, and for each version serving production, canary or shadow its
 * latest drift reports (the newest one in full, the rest for p-values over time). Only aggregates
 * leave this module: never a sampled row or a golden row, since the page is public.
 * No Hono here: the page module renders what this returns.
 */
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { aliases, aliasHistory, models, modelVersions } from "../db/schema";
import { monitoringOf } from "../contract/manifest";
import { storedJson } from "../db/stored-json";
import { ApiError } from "../errors";
import type { Db } from "../db/open-db";
import { listReports, servingVersions } from "./drift-report-store";
import type { DriftReport } from "./drift-report-types";

/** The arms the cron reports on (production is the default alias), in the order the page shows them. */
const ARM_ORDER = ["production", "canary", "shadow"];
const armRank = (arm: string) => (ARM_ORDER.indexOf(arm) + 1 || ARM_ORDER.length + 1);

export const DASHBOARD_LIMITS = {
  /** Models on one page without ?model= (the rest are listed by name). */
  models: 20,
  /** Versions listed per model, newest first (serving versions are always listed). */
  versions: 10,
  /** Reports read per serving version: the newest plus the history the p-value chart draws. */
  reports: 48,
  /** Alias moves listed per model, newest first. */
  moves: 10,
} as const;

export interface VersionSummary {
  version: number;
  status: string;
  createdAt: string;
  createdBy: string;
  aliases: string[];
  rocAuc: number | null;
}

export interface AliasMoveView {
  alias: string;
  fromVersion: number | null;
  toVersion: number | null;
  changedAt: string;
  changedBy: string;
  reason: string;
}

export interface StoredReport {
  windowStart: string;
  windowEnd: string;
  status: string;
  updatedAt: string;
  /** null when the stored JSON does not parse (the page says so instead of failing). */
  report: DriftReport | null;
  alert: { outcome: string; attempts: number } | null;
}

export interface ServingVersion {
  version: number;
  /** The serving aliases pointing at it (usually one). */
  arms: string[];
  /** monitoring.window_hours of its manifest (the default when the manifest has none or does not parse). */
  windowHours: number;
  /** Newest first, at most DASHBOARD_LIMITS.reports. */
  reports: StoredReport[];
  /** The newest sampled hour's scores, read only when the newest report has no score histogram. */
  liveScores: LiveScores | null;
}

export interface LiveScores {
  /** The UTC hour (request_samples.window) the counts come from. */
  window: string;
  /** Rows per bin over SCORE_EDGES (bins (-inf, e0], (e0, e1], ..., (e_last, +inf)). */
  counts: number[];
  total: number;
}

/** The drift reference's score bins (uniform tenths), so live and reported histograms line up. */
export const SCORE_EDGES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] as const;

export interface ModelDashboard {
  name: string;
  description: string;
  versionCount: number;
  versions: VersionSummary[];
  aliases: { alias: string; version: number }[];
  serving: ServingVersion[];
  moves: AliasMoveView[];
}

export interface DashboardData {
  models: ModelDashboard[];
  /** Every registered model name (for the filter links), and how many the page left out. */
  allModels: string[];
  omitted: number;
}

/**
 * The dashboard's data; `only` (from ?model=) must name a registered model, or NOT_FOUND. The
 * serving versions are the cron's (drift-report-store.ts): the default alias, canary and shadow.
 */
export async function loadDashboard(db: Db, defaultAlias: string, only?: string): Promise<DashboardData> {
  const rows = await db.select({ name: models.name, description: models.description }).from(models).orderBy(models.name).all();
  if (only !== undefined && !rows.some((r) => r.name === only)) throw new ApiError("NOT_FOUND", `model ${only} is not registered`);
  const chosen = only !== undefined ? rows.filter((r) => r.name === only) : rows.slice(0, DASHBOARD_LIMITS.models);
  const loaded: ModelDashboard[] = [];
  for (const model of chosen) loaded.push(await loadModel(db, defaultAlias, model.name, model.description));
  return { models: loaded, allModels: rows.map((r) => r.name), omitted: rows.length - chosen.length };
}

async function loadModel(db: Db, defaultAlias: string, name: string, description: string): Promise<ModelDashboard> {
  const [aliasRows, counted, moveRows, servingRows] = await Promise.all([
    db.select({ alias: aliases.alias, version: aliases.version }).from(aliases).where(eq(aliases.modelName, name)).orderBy(aliases.alias).all(),
    db.select({ n: sql<number>`count(*)` }).from(modelVersions).where(eq(modelVersions.modelName, name)).get(),
    db.select().from(aliasHistory).where(eq(aliasHistory.modelName, name)).orderBy(desc(aliasHistory.id)).limit(DASHBOARD_LIMITS.moves).all(),
    servingVersions(db, defaultAlias, name),
  ]);
  const servingArms = servingRows
    .map((s) => ({ version: s.version, arms: [...s.arms].sort((a, b) => armRank(a) - armRank(b)), windowHours: windowHoursOf(s.manifest) }))
    .sort((a, b) => armRank(a.arms[0]!) - armRank(b.arms[0]!));
  const versionColumns = {
    version: modelVersions.version,
    status: modelVersions.status,
    createdAt: modelVersions.createdAt,
    createdBy: modelVersions.createdBy,
    // json_extract throws on malformed JSON, which would fail the page for one corrupt manifest row.
    rocAuc: sql<unknown>`CASE WHEN json_valid(${modelVersions.manifest}) THEN json_extract(${modelVersions.manifest}, '$.metrics.roc_auc') END`,
  };
  const latest = await db.select(versionColumns).from(modelVersions).where(eq(modelVersions.modelName, name)).orderBy(desc(modelVersions.version)).limit(DASHBOARD_LIMITS.versions).all();
  const missing = servingArms.map((s) => s.version).filter((v) => !latest.some((l) => l.version === v));
  const extra = missing.length
    ? await db.select(versionColumns).from(modelVersions).where(and(eq(modelVersions.modelName, name), inArray(modelVersions.version, missing))).all()
    : [];
  const versions = [...latest, ...extra]
    .sort((a, b) => b.version - a.version)
    .map((v) => ({
      version: v.version,
      status: v.status,
      createdAt: v.createdAt,
      createdBy: v.createdBy,
      aliases: aliasRows.filter((a) => a.version === v.version).map((a) => a.alias),
      rocAuc: typeof v.rocAuc === "number" ? v.rocAuc : null,
    }));
  const serving: ServingVersion[] = [];
  for (const { version, arms, windowHours } of servingArms) {
    const reports = await latestReports(db, name, version);
    const liveScores = reports[0]?.report?.predictions ? null : await latestWindowScores(db, name, version);
    serving.push({ version, arms, windowHours, reports, liveScores });
  }
  return {
    name,
    description,
    versionCount: counted?.n ?? 0,
    versions,
    aliases: aliasRows,
    serving,
    moves: moveRows.map((m) => ({
      alias: m.alias,
      fromVersion: m.fromVersion,
      toVersion: m.toVersion,
      changedAt: m.changedAt,
      changedBy: m.changedBy,
      reason: m.reason,
    })),
  };
}

function windowHoursOf(manifestText: string): number {
  const stored = storedJson(manifestText);
  const monitoring = stored.ok ? (stored.value as { monitoring?: unknown } | null)?.monitoring : undefined;
  try {
    return monitoringOf({ monitoring: monitoring as never }).window_hours;
  } catch {
    return monitoringOf({}).window_hours;
  }
}

/** Newest first, as the JSON route lists them; a report or alert that does not parse is shown as unreadable. */
export async function latestReports(db: Db, name: string, version: number, limit: number = DASHBOARD_LIMITS.reports): Promise<StoredReport[]> {
  const rows = await listReports(db, name, { version, limit });
  return rows.map((r) => {
    const delivery = r.alert as { outcome?: unknown; attempts?: unknown } | null;
    return {
      windowStart: r.window_start,
      windowEnd: r.window_end,
      status: r.status,
      updatedAt: r.updated_at,
      report: isReport(r.report) ? r.report : null,
      alert: delivery && typeof delivery === "object" ? { outcome: String(delivery.outcome), attempts: Array.isArray(delivery.attempts) ? delivery.attempts.length : 0 } : null,
    };
  });
}

/** Enough shape to render without crashing; fields the cron adds later are optional on the page. */
function isReport(value: unknown): value is DriftReport {
  const r = value as Partial<DriftReport> | null;
  return !!r && typeof r === "object" && typeof r.status === "string" && Array.isArray(r.features) && !!r.window && !!r.settings && !!r.samples;
}

/**
 * Score histogram of the newest sampled hour, counted in SQL (cumulative sums, right-closed bins as
 * in the reference) so no sampled row leaves D1. Reads one window: at most SAMPLE_WINDOW_CAP rows
 * through the (window, model, version, key) index.
 */
export async function latestWindowScores(db: Db, name: string, version: number): Promise<LiveScores | null> {
  const newest = await db.get<{ window: string } | undefined>(
    sql`SELECT "window" FROM sample_window_counts WHERE model_name = ${name} AND version = ${version} AND rows > 0 ORDER BY "window" DESC LIMIT 1`,
  );
  if (!newest) return null;
  // Aliased: D1 returns rows as objects keyed by column name, and every sum's text is the same.
  const below = SCORE_EDGES.map((e, i) => sql`, coalesce(sum(probability <= ${e}), 0) AS ${sql.raw(`le${i}`)}`);
  const row = await db.get<Record<string, number>>(
    sql`SELECT count(*) AS total${sql.join(below, sql``)} FROM request_samples WHERE "window" = ${newest.window} AND model_name = ${name} AND version = ${version}`,
  );
  const total = row?.total ?? 0;
  if (total === 0) return null;
  const cumulative = [...SCORE_EDGES.map((_, i) => row![`le${i}`] ?? 0), total];
  const counts = cumulative.map((c, i) => c - (i === 0 ? 0 : cumulative[i - 1]!));
  return { window: newest.window, counts, total };
}
