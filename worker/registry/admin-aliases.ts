/**
 * Alias removal and rollback for the admin API. Like setAlias, each write is one D1 batch whose
 * history row reads the alias inside the batch, so the history never disagrees with `aliases`.
 */
import { and, desc, eq, isNotNull } from "drizzle-orm";
import { aliasHistory } from "../db/schema";
import { ApiError } from "../errors";
import { aliasRemovalStatements, assertAliasName, type Db, getModelRow, setAlias } from "./registry";

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
