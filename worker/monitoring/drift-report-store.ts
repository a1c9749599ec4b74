/**
 * drift_reports and the reads the cron needs: which versions serve, a window's samples, the stored
 * reference. One row per (model, version, window_start), upserted, so a cron retry rewrites the same
 * row instead of adding one.
 */
import { type DriftReference, parseDriftReference } from "../contract/drift-reference";
import { storedJson } from "../db/stored-json";
import type { Db } from "../db/open-db";
import { artifactKey } from "../registry/r2-keys";
import type { AlertDelivery, DriftReport } from "./drift-report-types";
import type { WindowSample } from "./drift-report-types";

export interface ServingVersion {
  model: string;
  version: number;
  /** Arms this version serves: "production" (the default alias), "canary", "shadow". */
  arms: string[];
  /** The manifest column, unparsed: a corrupt one fails only this version's report. */
  manifest: string;
}

/** Aliases whose versions the cron reports on; the default alias is reported as the production arm. */
export const MONITORED_ALIASES = ["canary", "shadow"] as const;

/** Every version that one of the model's monitored aliases points at, once, with the arms it serves. */
export async function servingVersions(db: Db, defaultAlias: string, model?: string): Promise<ServingVersion[]> {
  const aliases = [defaultAlias, ...MONITORED_ALIASES];
  const { results } = await db.$client
    .prepare(
      `SELECT a.model_name AS model, a.version AS version, a.alias AS alias, v.manifest AS manifest
       FROM aliases a JOIN model_versions v ON v.model_name = a.model_name AND v.version = a.version
       WHERE a.alias IN (?1, ?2, ?3) AND (?4 IS NULL OR a.model_name = ?4)
       ORDER BY a.model_name, a.version, a.alias`,
    )
    .bind(...aliases, model ?? null)
    .all<{ model: string; version: number; alias: string; manifest: string }>();
  const found = new Map<string, ServingVersion>();
  for (const row of results) {
    const key = JSON.stringify([row.model, row.version]);
    const entry = found.get(key) ?? { model: row.model, version: row.version, arms: [], manifest: row.manifest };
    entry.arms.push(row.alias === defaultAlias ? "production" : row.alias);
    found.set(key, entry);
  }
  return [...found.values()];
}

const HOUR_MS = 3_600_000;

/**
 * The version's samples in [start, end), every arm, read one sample window (UTC hour) at a time
 * through the (window, model, version, key) index, so no single result holds more than a window's cap.
 */
export async function windowSamples(db: Db, model: string, version: number, window: { startMs: number; endMs: number }): Promise<WindowSample[]> {
  const samples: WindowSample[] = [];
  const statement = db.$client.prepare(
    `SELECT arm, features, probability, prediction, risk_tier, sample_key FROM request_samples WHERE "window" = ?1 AND model_name = ?2 AND version = ?3`,
  );
  for (let hour = window.startMs; hour < window.endMs; hour += HOUR_MS) {
    const rows = await statement
      .bind(new Date(hour).toISOString(), model, version)
      .raw<[string, string, number, number, string, number]>();
    for (const [arm, features, probability, prediction, riskTier, sampleKey] of rows) {
      samples.push({ arm, features: parseFeatures(features), probability, prediction: prediction === 1, riskTier, sampleKey });
    }
  }
  return samples;
}

/** A row that does not parse counts as all-missing rather than failing the version's report. */
function parseFeatures(text: string): Record<string, unknown> {
  const stored = storedJson(text);
  return stored.ok && stored.value !== null && typeof stored.value === "object" ? (stored.value as Record<string, unknown>) : {};
}

export type LoadedReference = { ok: true; value: DriftReference } | { ok: false; reason: string };

/** The version's reference.json from R2, or why it cannot be used. */
export async function loadReference(models: R2Bucket, model: string, version: number): Promise<LoadedReference> {
  const key = artifactKey(model, version, "reference.json");
  const object = await models.get(key);
  if (!object) return { ok: false, reason: `reference.json not found (${key})` };
  let json: unknown;
  try {
    json = JSON.parse(await object.text());
  } catch (error) {
    return { ok: false, reason: `reference.json is not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  try {
    return { ok: true, value: parseDriftReference(json) };
  } catch (error) {
    return { ok: false, reason: `reference.json does not match the drift reference schema: ${String(error).slice(0, 500)}` };
  }
}

export interface StoredReportRow {
  status: string;
  report: string;
  alert: string | null;
  updatedAt: string;
}

export async function storedReport(db: Db, model: string, version: number, windowStart: string): Promise<StoredReportRow | null> {
  return db.$client
    .prepare(
      `SELECT status, report, alert, updated_at AS updatedAt FROM drift_reports WHERE model_name = ?1 AND version = ?2 AND window_start = ?3`,
    )
    .bind(model, version, windowStart)
    .first<StoredReportRow>();
}

/** Writes the report for its (model, version, window); the alert column is left as it was. */
export async function upsertReport(db: Db, report: DriftReport): Promise<void> {
  await db.$client
    .prepare(
      `INSERT INTO drift_reports (model_name, version, window_start, window_end, status, report)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6)
       ON CONFLICT (model_name, version, window_start) DO UPDATE SET
         window_end = excluded.window_end, status = excluded.status, report = excluded.report,
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
    )
    .bind(report.model, report.version, report.window.start, report.window.end, report.status, JSON.stringify(report))
    .run();
}

export async function recordAlert(db: Db, report: Pick<DriftReport, "model" | "version" | "window">, alert: AlertDelivery): Promise<void> {
  await db.$client
    .prepare(`UPDATE drift_reports SET alert = ?4 WHERE model_name = ?1 AND version = ?2 AND window_start = ?3`)
    .bind(report.model, report.version, report.window.start, JSON.stringify(alert))
    .run();
}

/**
 * The version's reports (not "error") for windows that start before `before` and end after `since`
 * and that labels were received for since the report was last written: only those can have a
 * different ground_truth section, and the check reads labels, never the window's samples.
 */
export async function reportsWithNewLabels(db: Db, model: string, version: number, range: { before: string; since: string }): Promise<DriftReport[]> {
  const { results } = await db.$client
    .prepare(
      `SELECT r.report FROM drift_reports r
       WHERE r.model_name = ?1 AND r.version = ?2 AND r.window_start < ?3 AND r.window_end > ?4 AND r.status != 'error'
         AND EXISTS (SELECT 1 FROM prediction_labels l WHERE l.model_name = r.model_name AND l.version = r.version
           AND l.predicted_at >= r.window_start AND l.predicted_at < r.window_end AND l.received_at >= r.updated_at)
       ORDER BY r.window_start`,
    )
    .bind(model, version, range.before, range.since)
    .all<{ report: string }>();
  return results.flatMap((r) => {
    const stored = storedJson(r.report);
    return stored.ok ? [stored.value as DriftReport] : [];
  });
}

/** Whether labels for the window's predictions arrived at or after `since`. */
export async function labelsReceivedSince(db: Db, model: string, version: number, window: { start: string; end: string }, since: string): Promise<boolean> {
  const hit = await db.$client
    .prepare(
      `SELECT 1 AS hit FROM prediction_labels WHERE model_name = ?1 AND version = ?2 AND predicted_at >= ?3 AND predicted_at < ?4 AND received_at >= ?5 LIMIT 1`,
    )
    .bind(model, version, window.start, window.end, since)
    .first<{ hit: number }>();
  return hit !== null;
}

export interface DriftReportListing {
  version: number;
  window_start: string;
  window_end: string;
  status: string;
  report: unknown;
  alert: unknown;
  updated_at: string;
}

/** A model's reports, newest window first (then version), optionally of one version. */
export async function listReports(db: Db, model: string, options: { version?: number; limit: number }): Promise<DriftReportListing[]> {
  const { results } = await db.$client
    .prepare(
      `SELECT version, window_start, window_end, status, report, alert, updated_at FROM drift_reports
       WHERE model_name = ?1 AND (?2 IS NULL OR version = ?2)
       ORDER BY window_start DESC, version DESC LIMIT ?3`,
    )
    .bind(model, options.version ?? null, options.limit)
    .all<{ version: number; window_start: string; window_end: string; status: string; report: string; alert: string | null; updated_at: string }>();
  return results.map((r) => ({ ...r, report: parseStored(r.report), alert: r.alert === null ? null : parseStored(r.alert) }));
}

/** The newest report of one version, or null. */
export async function latestReport(db: Db, model: string, version: number): Promise<DriftReportListing | null> {
  const [latest] = await listReports(db, model, { version, limit: 1 });
  return latest ?? null;
}

function parseStored(text: string): unknown {
  const stored = storedJson(text);
  return stored.ok ? stored.value : null;
}
