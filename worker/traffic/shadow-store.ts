/**
 * shadow_pairs in D1: writing a request's pairs, the admin read (latest pairs and their agreement),
 * and retention for the cron. No inference here, so the cron and the CLI import it alone.
 */
import { and, desc, eq, sql } from "drizzle-orm";
import { shadowPairs } from "../db/schema";
import { jsonChunks } from "../monitoring/sample-store";
import type { D1Statement, Db } from "../db/open-db";

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

/**
 * The pairs as one statement (a JSON array expanded by json_each: D1 binds at most 100 parameters
 * per statement), for the consumer's batch. A pair already stored (a redelivered queue message:
 * same request id, row and shadow version) is skipped.
 */
export function shadowPairStatements(d1: D1Database, pairs: readonly ShadowPair[]): D1Statement[] {
  return jsonChunks(
    pairs.map((p) => [
      p.modelName,
      p.requestId,
      p.rowIndex,
      p.primaryVersion,
      p.shadowVersion,
      p.primaryProbability,
      p.shadowProbability,
      p.primaryPrediction ? 1 : 0,
      p.shadowPrediction ? 1 : 0,
      p.agree ? 1 : 0,
      p.createdAt,
    ]),
  ).map((chunk) =>
    d1
      .prepare(
        `INSERT INTO shadow_pairs (model_name, request_id, row_index, primary_version, shadow_version, primary_probability, shadow_probability, primary_prediction, shadow_prediction, agree, created_at)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10
         FROM json_each(?1) WHERE true
         ON CONFLICT (request_id, row_index, shadow_version) DO NOTHING`,
      )
      .bind(chunk),
  );
}

/** Pairs written in a batch of their own (scripts and tests that seed pairs; the consumer batches them with samples). */
export async function writeShadowPairs(db: Db, pairs: readonly ShadowPair[]): Promise<void> {
  const statements = shadowPairStatements(db.$client, pairs);
  if (statements.length) await db.$client.batch(statements);
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
