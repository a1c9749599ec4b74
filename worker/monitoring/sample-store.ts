/**
 * request_samples in D1: the batched write with its per-window reservoir, retention, and the
 * isolate's counters of what happened to sampled rows.
 *
 * The cap must hold across isolates, which share nothing but D1. Every row carries a uniform random
 * key, and each write's batch ends by deleting the rows that rank beyond the cap by key in that
 * (window, model, version). What remains is always the cap smallest keys of every row written in
 * the window: a uniform sample of them (bottom-k sampling), whichever isolate wrote what and in
 * which order, so an early burst cannot fill the window and shut the rest of the hour out. A hard
 * cap (`INSERT … WHERE count < cap`) would keep only the first rows of the hour.
 *
 * sample_window_counts holds each window's row count, kept in the same batch, so the eviction takes
 * the (count − cap) largest keys from the top of the index instead of walking the window up to the
 * cap (up to 10,000 index entries read per write, and D1 runs one query at a time per database).
 * Only writeSamples and pruneSamples may delete samples, or the counts go stale.
 *
 * D1 cost of one sampled request with k rows (k ≤ SAMPLE_MAX_ROWS_PER_REQUEST), one batch = one
 * round trip and one transaction: 3 rows written per insert (the row and its 2 index entries), 1-2
 * for the count upsert, and once the window is full k deletes and 1 count trim; rows read are a few
 * count lookups plus a few entries per evicted row once full. Measured in workerd's D1
 * (meta.rows_read / rows_written) with k = 10: 3-4 read and 31-32 written under the cap, 43 read
 * and 42 written with a full 10,000-row window.
 */
import type { D1Statement, Db } from "../db/open-db";

export interface SampleRecord {
  modelName: string;
  version: number;
  arm: string;
  /** The Worker's own id for the request: with rowIndex and arm, the row's unique key. */
  requestId: string;
  /** The client's x-request-id, kept for reference; never a key. */
  clientRequestId?: string | null;
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

/**
 * One statement inserts a group's rows from a JSON array. A row already stored (a redelivered queue
 * message: same request id, row and arm) is skipped, and so is a row the reservoir would evict at
 * once: when the window already holds its cap, only keys below the window's largest kept key can
 * stay (one index lookup), so a full window costs about cap·ln(n/cap) inserts over n rows instead
 * of n. changes() right after it is what was really inserted, so the window count stays exact.
 * ?5 is the cap.
 */
const INSERT_SQL = `INSERT INTO request_samples
  ("window", model_name, version, arm, request_id, client_request_id, row_index, features, probability, prediction, risk_tier, latency_ms, created_at, sample_key)
  SELECT ?1, ?2, ?3, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10
  FROM json_each(?4)
  WHERE coalesce((SELECT rows FROM sample_window_counts WHERE "window" = ?1 AND model_name = ?2 AND version = ?3), 0) < ?5
     OR value ->> 10 < (SELECT max(sample_key) FROM request_samples WHERE "window" = ?1 AND model_name = ?2 AND version = ?3)
  ON CONFLICT (request_id, row_index, arm) DO NOTHING`;

const COUNT_SQL = `INSERT INTO sample_window_counts ("window", model_name, version, rows) VALUES (?1, ?2, ?3, changes())
  ON CONFLICT ("window", model_name, version) DO UPDATE SET rows = rows + excluded.rows`;

// max(0, …): a negative LIMIT means no limit in SQLite.
const EVICT_SQL = `DELETE FROM request_samples WHERE id IN (
  SELECT id FROM request_samples WHERE "window" = ?1 AND model_name = ?2 AND version = ?3
  ORDER BY sample_key DESC
  LIMIT max(0, coalesce((SELECT rows FROM sample_window_counts WHERE "window" = ?1 AND model_name = ?2 AND version = ?3), 0) - ?4))`;

const TRIM_SQL = `UPDATE sample_window_counts SET rows = ?4 WHERE "window" = ?1 AND model_name = ?2 AND version = ?3 AND rows > ?4`;

/** JSON bound to one statement stays well under D1's ~100 KB statement limit. */
const MAX_JSON_CHARS = 64_000;

/** The statements of one sample write, for a D1 batch, and how to read what they did from its results. */
export interface SampleWrite {
  statements: D1Statement[];
  /** From the results of exactly these statements (in order): rows inserted and rows evicted. */
  outcome(results: readonly D1Result[]): { written: number; evicted: number };
}

/**
 * The statements that insert the records and trim each window they touch back to `windowCap` rows.
 * Idempotent: a record whose (request id, row, arm) is stored already is skipped and not counted.
 */
export function sampleWrite(d1: D1Database, records: readonly SampleRecord[], options: { windowCap: number }): SampleWrite {
  const groups = new Map<string, { first: SampleRecord; rows: SampleRecord[] }>();
  for (const r of records) {
    const key = JSON.stringify([r.window, r.modelName, r.version]);
    const group = groups.get(key) ?? { first: r, rows: [] };
    group.rows.push(r);
    groups.set(key, group);
  }
  const statements: D1Statement[] = [];
  const insertAt: number[] = [];
  const evictionAt: number[] = [];
  for (const { first: g, rows } of groups.values()) {
    for (const chunk of jsonChunks(rows.map(sampleTuple))) {
      insertAt.push(statements.length);
      statements.push(d1.prepare(INSERT_SQL).bind(g.window, g.modelName, g.version, chunk, options.windowCap));
      statements.push(d1.prepare(COUNT_SQL).bind(g.window, g.modelName, g.version));
    }
    evictionAt.push(statements.length);
    statements.push(d1.prepare(EVICT_SQL).bind(g.window, g.modelName, g.version, options.windowCap));
    statements.push(d1.prepare(TRIM_SQL).bind(g.window, g.modelName, g.version, options.windowCap));
  }
  const sum = (results: readonly D1Result[], at: number[]) => at.reduce((n, i) => n + (results[i]!.meta.changes ?? 0), 0);
  return {
    statements,
    outcome: (results) => {
      const written = sum(results, insertAt);
      // Rows not inserted were below the reservoir's bar (or, rarely, a redelivery already stored).
      return { written, evicted: sum(results, evictionAt) + (records.length - written) };
    },
  };
}

/** Counts what a sample write did (or that it failed) in this isolate's sampling counters. */
export function countSampleWrite(outcome: { written: number; evicted: number } | { failed: number }): void {
  if ("failed" in outcome) {
    stats.failed += outcome.failed;
    return;
  }
  stats.written += outcome.written;
  stats.dropped += outcome.evicted;
}

/** sampleWrite in a batch of its own. Throws on a D1 error (nothing of the batch applies); the counters are updated either way. */
export async function writeSamples(db: Db, records: readonly SampleRecord[], options: { windowCap: number }): Promise<{ written: number; evicted: number }> {
  if (records.length === 0) return { written: 0, evicted: 0 };
  const write = sampleWrite(db.$client, records, options);
  let results: D1Result[];
  try {
    results = await db.$client.batch(write.statements);
  } catch (error) {
    countSampleWrite({ failed: records.length });
    throw error;
  }
  const outcome = write.outcome(results);
  countSampleWrite(outcome);
  return outcome;
}

function sampleTuple(r: SampleRecord): unknown[] {
  return [r.arm, r.requestId, r.clientRequestId ?? null, r.rowIndex, r.features, r.probability, r.prediction ? 1 : 0, r.riskTier, r.latencyMs, r.createdAt, r.sampleKey];
}

/** The tuples as JSON arrays of at most MAX_JSON_CHARS each (a single larger tuple goes alone). */
export function jsonChunks(tuples: readonly unknown[]): string[] {
  const chunks: string[] = [];
  let parts: string[] = [];
  let size = 2;
  for (const tuple of tuples) {
    const text = JSON.stringify(tuple);
    if (parts.length && size + text.length + 1 > MAX_JSON_CHARS) {
      chunks.push(`[${parts.join(",")}]`);
      parts = [];
      size = 2;
    }
    parts.push(text);
    size += text.length + 1;
  }
  if (parts.length) chunks.push(`[${parts.join(",")}]`);
  return chunks;
}

/**
 * Deletes the samples of every window that ended before the retention cutoff (now − retentionDays),
 * with their counts; returns how many samples. Whole windows go, so the counts stay exact: a row
 * may outlive the cutoff by up to an hour. Idempotent, so a cron retry is harmless.
 */
export async function pruneSamples(db: Db, options: { retentionDays: number; now: number }): Promise<number> {
  const firstKept = sampleWindow(options.now - options.retentionDays * DAY_MS);
  const d1 = db.$client;
  const [samples] = await d1.batch([
    d1.prepare(`DELETE FROM request_samples WHERE "window" < ?1`).bind(firstKept),
    d1.prepare(`DELETE FROM sample_window_counts WHERE "window" < ?1`).bind(firstKept),
  ]);
  return samples!.meta.changes ?? 0;
}
