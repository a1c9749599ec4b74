/**
 * shadow_pairs in D1: writing a request's pairs, the admin read (latest pairs and their agreement),
 * and retention for the cron. No inference here, so the cron and the CLI import it alone.
 */
import { and, desc, eq, sql } from "drizzle-orm";
import { shadowPairs } from "../db/schema";
import { GatheredWrites } from "../monitoring/gathered-writes";
import type { Db } from "../db/open-db";

export interface ShadowPair {
  modelName: string;
  requestId: string;
  rowIndex: number;
  primaryVersion: number;
  shadowVersion: number;
  primaryProbability: number;
  shadowProbability: number;
  primaryPrediction: boolean;
  shadowPrediction: boolean;
  agree: boolean;
  createdAt: string;
}

/** One statement per pair in one batch: D1 binds at most 100 parameters per statement. */
export async function writeShadowPairs(db: Db, pairs: readonly ShadowPair[]): Promise<void> {
  if (!pairs.length) return;
  await db.batch(pairs.map((pair) => db.insert(shadowPairs).values(pair)) as [never, ...never[]]);
}

const gathered = new GatheredWrites<ShadowPair>(100);

/**
 * Queues a request's pairs and writes everything queued in one batch once `intervalMs` (the
 * SAMPLE_FLUSH_MS setting) has passed since this isolate last wrote pairs, or 100 wait. Rejects
 * when that write fails (the caller logs it).
 */
export async function queueShadowPairs(db: Db, pairs: readonly ShadowPair[], options: { intervalMs: number; now: number }): Promise<void> {
  const due = gathered.add(pairs, options.now, options.intervalMs);
  if (due) await writeShadowPairs(db, due);
}

const DAY_MS = 86_400_000;

/** Deletes pairs older than the retention window (for the cron); returns how many went. */
export async function pruneShadowPairs(db: Db, options: { retentionDays: number; now: number }): Promise<number> {
  const cutoff = new Date(options.now - options.retentionDays * DAY_MS).toISOString();
  const result = await db.$client.prepare("DELETE FROM shadow_pairs WHERE created_at < ?1").bind(cutoff).run();
  return result.meta.changes ?? 0;
}

export interface ShadowQuery {
  limit: number;
  version?: number;
}

/** The latest pairs and a summary over every stored pair (of one shadow version, if given). */
export async function readShadowPairs(db: Db, name: string, query: ShadowQuery) {
  const where = query.version === undefined ? eq(shadowPairs.modelName, name) : and(eq(shadowPairs.modelName, name), eq(shadowPairs.shadowVersion, query.version));
  const [summary, pairs] = await Promise.all([
    db
      .select({
        count: sql<number>`count(*)`,
        agreement: sql<number | null>`avg(${shadowPairs.agree})`,
        meanAbsDelta: sql<number | null>`avg(abs(${shadowPairs.primaryProbability} - ${shadowPairs.shadowProbability}))`,
        first: sql<string | null>`min(${shadowPairs.createdAt})`,
        last: sql<string | null>`max(${shadowPairs.createdAt})`,
      })
      .from(shadowPairs)
      .where(where)
      .get(),
    db.select().from(shadowPairs).where(where).orderBy(desc(shadowPairs.createdAt), desc(shadowPairs.id)).limit(query.limit).all(),
  ]);
  return {
    name,
    shadow_version: query.version ?? null,
    summary: {
      count: summary?.count ?? 0,
      agreement_rate: summary?.agreement ?? null,
      mean_abs_delta: summary?.meanAbsDelta ?? null,
      first_at: summary?.first ?? null,
      last_at: summary?.last ?? null,
    },
    pairs: pairs.map((p) => ({
      request_id: p.requestId,
      row_index: p.rowIndex,
      primary_version: p.primaryVersion,
      shadow_version: p.shadowVersion,
      primary_probability: p.primaryProbability,
      shadow_probability: p.shadowProbability,
      primary_prediction: p.primaryPrediction,
      shadow_prediction: p.shadowPrediction,
      agree: p.agree,
      created_at: p.createdAt,
    })),
  };
}
