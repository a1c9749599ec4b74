/**
 * A model's traffic policy in D1: the canary and shadow versions are its `canary` and `shadow`
 * aliases (moved like any alias, so alias_history records every change with the percent or rate as
 * evidence, and an aliased version cannot be archived); traffic_policies holds the canary percent,
 * the shadow's pair sample rate and the entity field. A change is one D1 batch: the alias moves, the
 * policy upsert and the read-back, so a refused change writes nothing.
 */
import { ApiError } from "../errors";
import { type D1Statement, type Db } from "../db/open-db";
import { type AliasMove, aliasMoveStatements, aliasRemovalStatements, aliasTargetError, isAliasTargetRefusal } from "./aliases";
import { getModelRow, getVersionRow, resolveVersion } from "./versions";

export const CANARY_ALIAS = "canary";
export const SHADOW_ALIAS = "shadow";

export interface TrafficPolicy {
  name: string;
  /** The canary alias and the share of default-alias requests it answers; null without the alias. */
  canary: { version: number; percent: number } | null;
  /** The shadow alias and the share of requests whose paired outputs are stored; null without the alias. */
  shadow: { version: number; sampleRate: number } | null;
  entityField: string | null;
  updatedAt: string | null;
  updatedBy: string | null;
  reason: string | null;
}

interface PolicyRow {
  canary_percent: number | null;
  shadow_sample_rate: number | null;
  entity_field: string | null;
  updated_at: string | null;
  updated_by: string | null;
  reason: string | null;
  canary_version: number | null;
  shadow_version: number | null;
}

/** One row whether or not the model has a policy: the aliases alone can exist (set by the alias API). */
function policyStatement(d1: D1Database, name: string): D1Statement {
  return d1
    .prepare(
      `SELECT p.canary_percent, p.shadow_sample_rate, p.entity_field, p.updated_at, p.updated_by, p.reason,
         (SELECT version FROM aliases WHERE model_name = ?1 AND alias = '${CANARY_ALIAS}') AS canary_version,
         (SELECT version FROM aliases WHERE model_name = ?1 AND alias = '${SHADOW_ALIAS}') AS shadow_version
       FROM (SELECT 1) LEFT JOIN traffic_policies p ON p.model_name = ?1`,
    )
    .bind(name);
}

function toPolicy(name: string, row: PolicyRow | null | undefined): TrafficPolicy {
  return {
    name,
    canary: row?.canary_version == null ? null : { version: row.canary_version, percent: row.canary_percent ?? 0 },
    shadow: row?.shadow_version == null ? null : { version: row.shadow_version, sampleRate: row.shadow_sample_rate ?? 0 },
    entityField: row?.entity_field ?? null,
    updatedAt: row?.updated_at ?? null,
    updatedBy: row?.updated_by ?? null,
    reason: row?.reason ?? null,
  };
}

/** The policy as requests route by it (one query; an unregistered model reads as no policy). */
export async function readPolicy(db: Db, name: string): Promise<TrafficPolicy> {
  return toPolicy(name, await policyStatement(db.$client, name).first<PolicyRow>());
}

export interface TrafficChange {
  name: string;
  /** Absent: unchanged; null: the arm is removed (its alias deleted, recorded in the history). */
  canary?: { version: number; percent: number } | null;
  shadow?: { version: number; sampleRate: number } | null;
  entityField?: string | null;
  by: string;
  reason: string;
  /** Stored with the canary's alias_history row beside its percent (e.g. a rollout step's analysis). */
  canaryEvidence?: Record<string, unknown>;
}

/**
 * Applies a change in one batch. Only the columns the change names are updated, so two admins
 * changing different arms at once do not overwrite each other. A move to a missing, archived or
 * unready version fails the whole batch (see aliasMoveStatements) and is answered as the alias API
 * answers it.
 */
export async function changePolicy(db: Db, change: TrafficChange): Promise<TrafficPolicy> {
  await getModelRow(db, change.name);
  const d1 = db.$client;
  const moves: AliasMove[] = [];
  const statements: D1Statement[] = [];
  const arm = (alias: string, value: { version: number } | null | undefined, evidence: Record<string, unknown>) => {
    if (value === undefined) return;
    if (value === null) {
      const removalEvidence = alias === CANARY_ALIAS ? change.canaryEvidence : undefined;
      statements.push(...aliasRemovalStatements(d1, { name: change.name, alias, by: change.by, reason: change.reason, ...(removalEvidence ? { evidence: removalEvidence } : {}) }));
      return;
    }
    const move = { name: change.name, alias, version: value.version, by: change.by, reason: change.reason, evidence };
    moves.push(move);
    statements.push(...aliasMoveStatements(d1, move));
  };
  arm(CANARY_ALIAS, change.canary, { percent: change.canary?.percent, ...change.canaryEvidence });
  arm(SHADOW_ALIAS, change.shadow, { sample_rate: change.shadow?.sampleRate });
  const percent = change.canary === undefined ? null : (change.canary?.percent ?? 0);
  const rate = change.shadow === undefined ? null : (change.shadow?.sampleRate ?? 0);
  statements.push(
    d1
      .prepare(
        `INSERT INTO traffic_policies (model_name, canary_percent, shadow_sample_rate, entity_field, updated_by, reason)
         VALUES (?1, COALESCE(?2, 0), COALESCE(?3, 0), ?4, ?6, ?7)
         ON CONFLICT (model_name) DO UPDATE SET
           canary_percent = COALESCE(?2, canary_percent),
           shadow_sample_rate = COALESCE(?3, shadow_sample_rate),
           entity_field = CASE WHEN ?5 THEN excluded.entity_field ELSE entity_field END,
           updated_by = excluded.updated_by, reason = excluded.reason,
           updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
      )
      .bind(change.name, percent, rate, change.entityField ?? null, change.entityField === undefined ? 0 : 1, change.by, change.reason),
    policyStatement(d1, change.name),
  );
  try {
    const results = await d1.batch<PolicyRow>(statements);
    return toPolicy(change.name, results[results.length - 1]?.results[0]);
  } catch (error) {
    if (isAliasTargetRefusal(error)) throw await refusedMove(db, moves);
    throw error;
  }
}

/** Which move's version was missing (404) or not ready (409). */
async function refusedMove(db: Db, moves: AliasMove[]): Promise<ApiError> {
  for (const move of moves) {
    const row = await getVersionRow(db, move.name, move.version);
    if (row.status !== "ready") return aliasTargetError(db, move);
  }
  return aliasTargetError(db, moves[0]!);
}

/** The policy as the API shows it, with the version the default alias serves (null when it has none). */
export async function trafficView(db: Db, policy: TrafficPolicy, defaultAlias: string) {
  const primary = await resolveVersion(db, policy.name, { alias: defaultAlias }).then(
    (resolved) => resolved.row.version,
    () => null,
  );
  return {
    name: policy.name,
    primary: { alias: defaultAlias, version: primary },
    canary: policy.canary,
    shadow: policy.shadow && { version: policy.shadow.version, sample_rate: policy.shadow.sampleRate },
    entity_field: policy.entityField,
    updated_at: policy.updatedAt,
    updated_by: policy.updatedBy,
    reason: policy.reason,
  };
}
