/**
 * Aliases (production, canary, shadow, ...): every move, removal and rollback is one D1 batch whose
 * history row reads the alias inside the batch, so alias_history never disagrees with `aliases`.
 */
import { and, desc, eq, isNotNull } from "drizzle-orm";
import { type D1Statement, type Db, NOW_SQL } from "../db/open-db";
import { aliasHistory } from "../db/schema";
import { ApiError } from "../errors";
import { ALIAS_NAME, RESERVED_ALIAS_NAMES } from "./version-ref";
import { getModelRow, getVersionRow } from "./versions";

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

/** An alias a version may be given: a valid name that is not reserved (removing or rolling back one made before the reservation still works). */
export function assertAssignableAlias(alias: string): void {
  assertAliasName(alias);
  if (RESERVED_ALIAS_NAMES.includes(alias.toLowerCase())) {
    throw new ApiError("VALIDATION_FAILED", `alias ${JSON.stringify(alias)} is reserved: samples and metrics use ${RESERVED_ALIAS_NAMES.map((n) => `"${n}"`).join(" and ")} for other arms (the shadow's scores, requests by version number)`);
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
export function aliasRemovalStatements(d1: D1Database, removal: { name: string; alias: string; by: string; reason: string; evidence?: Record<string, unknown> }): D1Statement[] {
  return [
    d1
      .prepare(
        `INSERT INTO alias_history (model_name, alias, from_version, to_version, changed_by, reason, evidence)
         SELECT model_name, alias, version, NULL, ?3, ?4, ?5 FROM aliases WHERE model_name = ?1 AND alias = ?2
         RETURNING from_version`,
      )
      .bind(removal.name, removal.alias, removal.by, removal.reason, evidenceText(removal.evidence)),
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
  assertAssignableAlias(move.alias);
  const d1 = db.$client;
  try {
    const [history] = await d1.batch(aliasMoveStatements(d1, move));
    return { from: movedFrom(history), to: move.version };
  } catch (error) {
    if (isAliasTargetRefusal(error)) throw await aliasTargetError(db, move);
    throw error;
  }
}

export async function aliasHistoryFor(db: Db, name: string, alias?: string) {
  const where = alias === undefined ? eq(aliasHistory.modelName, name) : and(eq(aliasHistory.modelName, name), eq(aliasHistory.alias, alias));
  return db.select().from(aliasHistory).where(where).orderBy(aliasHistory.id).all();
}

export interface AliasRemoval {
  name: string;
  alias: string;
  by: string;
  reason: string;
}

/** Deletes an alias, recording the move to_version NULL; NOT_FOUND when the alias does not exist. */
export async function removeAlias(db: Db, removal: AliasRemoval): Promise<{ from: number; to: null }> {
  assertAliasName(removal.alias);
  const d1 = db.$client;
  // The history row is selected from the alias itself: no alias, no row, and the DELETE is a no-op.
  const [history] = await d1.batch<{ from_version: number }>(aliasRemovalStatements(d1, removal));
  const from = history?.results[0]?.from_version;
  if (from === undefined) {
    await getModelRow(db, removal.name);
    throw new ApiError("NOT_FOUND", `model ${removal.name} has no alias '${removal.alias}'`);
  }
  return { from, to: null };
}

export interface Rollback {
  name: string;
  alias: string;
  by: string;
  reason: string;
}

/**
 * Moves an alias back to the version its latest move (one that had a previous version) came from.
 * CONFLICT when the history holds no such move: there is nothing to go back to.
 */
export async function rollbackAlias(db: Db, rollback: Rollback): Promise<{ from: number | null; to: number }> {
  assertAliasName(rollback.alias);
  await getModelRow(db, rollback.name);
  const previous = await db
    .select({ fromVersion: aliasHistory.fromVersion })
    .from(aliasHistory)
    .where(and(eq(aliasHistory.modelName, rollback.name), eq(aliasHistory.alias, rollback.alias), isNotNull(aliasHistory.fromVersion)))
    .orderBy(desc(aliasHistory.id))
    .get();
  if (previous?.fromVersion == null) {
    throw new ApiError("CONFLICT", `alias '${rollback.alias}' of ${rollback.name} has never moved from one version to another, so there is no previous version to roll back to`);
  }
  return setAlias(db, { name: rollback.name, alias: rollback.alias, version: previous.fromVersion, by: rollback.by, reason: rollback.reason });
}
