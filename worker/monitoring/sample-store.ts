/**
 * request_samples in D1: the batched write with its per-window reservoir, retention, and the
 * isolate's counters of what happened to sampled rows.
 *
 * The cap must hold across isolates, which share nothing but D1. Every row carries a uniform random
 * key, and each write's batch ends with a DELETE of the rows that rank beyond the cap by key in
 * that (window, model, version). What remains is always the cap smallest keys of every row written
 * in the window: a uniform sample of them (bottom-k sampling), whichever isolate wrote what and in
 * which order, so an early burst cannot fill the window and shut the rest of the hour out. A hard
 * cap (`INSERT … WHERE count < cap`) would keep only the first rows of the hour.
 *
 * D1 cost per sampled request: one batch (one round trip), k row inserts (k ≤
 * SAMPLE_MAX_ROWS_PER_REQUEST, each also writing two index entries), and one DELETE that reads the
 * window's index entries in key order up to the cap plus k, and deletes at most k rows once the
 * window is full. So rows read grow with the cap (up to SAMPLE_WINDOW_CAP + k per sampled request),
 * rows written stay ≤ 2k. The batch is one D1 transaction: inserts and eviction apply together.
 */
import type { Db } from "../registry/registry";

export interface SampleRecord {
  modelName: string;
  version: number;
  arm: string;
  requestId: string;
  rowIndex: number;
  features: string;
  probability: number;
  prediction: boolean;
  riskTier: string;
  latencyMs: number;
  createdAt: string;
  window: string;
  sampleKey: number;
}

/**
 * Per isolate, since it started: rows inserted, rows evicted by the window reservoir (so the rows
 * still kept by this isolate's writes are written − dropped), and rows lost to a failed write.
 */
export interface SamplingStats {
  written: number;
  dropped: number;
  failed: number;
}

const stats: SamplingStats = { written: 0, dropped: 0, failed: 0 };

export function samplingStats(): SamplingStats {
  return { ...stats };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** The window a time belongs to: the start of its UTC hour, ISO 8601. */
export function sampleWindow(ms: number): string {
  return new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString();
}

const INSERT_SQL = `INSERT INTO request_samples
  (model_name, version, arm, request_id, row_index, features, probability, prediction, risk_tier, latency_ms, created_at, "window", sample_key)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const EVICT_SQL = `DELETE FROM request_samples WHERE id IN (
  SELECT id FROM request_samples WHERE "window" = ?1 AND model_name = ?2 AND version = ?3
  ORDER BY sample_key LIMIT -1 OFFSET ?4)`;

/**
 * Writes the records in one D1 batch and trims each window they touch back to `windowCap` rows.
 * Throws on a D1 error (nothing of the batch applies); the counters are updated either way.
 */
export async function writeSamples(db: Db, records: readonly SampleRecord[], options: { windowCap: number }): Promise<{ written: number; evicted: number }> {
  if (records.length === 0) return { written: 0, evicted: 0 };
  const d1 = db.$client;
  const inserts = records.map((r) =>
    d1
      .prepare(INSERT_SQL)
      .bind(r.modelName, r.version, r.arm, r.requestId, r.rowIndex, r.features, r.probability, r.prediction ? 1 : 0, r.riskTier, r.latencyMs, r.createdAt, r.window, r.sampleKey),
  );
  const groups = new Map<string, SampleRecord>();
  for (const r of records) groups.set(JSON.stringify([r.window, r.modelName, r.version]), r);
  const evictions = [...groups.values()].map((r) => d1.prepare(EVICT_SQL).bind(r.window, r.modelName, r.version, options.windowCap));
  let results: D1Result[];
  try {
    results = await d1.batch([...inserts, ...evictions]);
  } catch (error) {
    stats.failed += records.length;
    throw error;
  }
  const evicted = results.slice(inserts.length).reduce((sum, r) => sum + (r.meta.changes ?? 0), 0);
  stats.written += records.length;
  stats.dropped += evicted;
  return { written: records.length, evicted };
}

/** Deletes samples older than the retention; returns how many. Idempotent, so a cron retry is harmless. */
export async function pruneSamples(db: Db, options: { retentionDays: number; now: number }): Promise<number> {
  const cutoff = options.now - options.retentionDays * DAY_MS;
  // The window bound lets the range use the (window, …) index; created_at makes the cut exact.
  const result = await db.$client
    .prepare(`DELETE FROM request_samples WHERE "window" <= ?1 AND created_at < ?2`)
    .bind(sampleWindow(cutoff), new Date(cutoff).toISOString())
    .run();
  return result.meta.changes ?? 0;
}
