/**
 * Rollouts: a canary ramped through `steps` (percent of the default alias's traffic) by the
 * existing traffic policy, so every step is a canary alias move with its evidence in alias_history.
 * The minute cron (rollout-cron.ts) judges each step (rollout-analysis.ts) and moves it on, aborts
 * it, or promotes the version. One active rollout per model (a partial unique index). Refusals
 * (unknown, archived or unready version, the version already primary, no primary, a rollout already
 * active) write nothing.
 */
import { z } from "zod";
import type { Db } from "../db/open-db";
import { and, desc, eq } from "drizzle-orm";
import { rollouts, type RolloutRow } from "../db/schema";
import { storedJson } from "../db/stored-json";
import { ApiError } from "../errors";
import { changePolicy } from "../registry/traffic-policy";
import { getModelRow, getVersionRow, resolveVersion } from "../registry/versions";
import { DEFAULT_CHECKS, type RolloutChecks, type StepEvaluation } from "./rollout-analysis";

const percent = z.number().gt(0).max(100);

export const rolloutChecksSchema = z
  .object({
    max_error_rate_increase: z.number().min(0).max(100).default(DEFAULT_CHECKS.max_error_rate_increase).describe("percentage points the canary's server error rate may exceed the primary's"),
    max_latency_ratio: z.number().min(1).default(DEFAULT_CHECKS.max_latency_ratio).describe("canary p95 latency ≤ primary p95 × this"),
    min_latency_requests: z.int().min(1).default(DEFAULT_CHECKS.min_latency_requests).describe("successful requests each arm needs before p95 latency is judged"),
    max_score_psi: z.number().positive().nullable().default(DEFAULT_CHECKS.max_score_psi).describe("PSI of the canary's sampled scores against the primary's; null disables the check"),
    score_alpha: z.number().gt(0).lt(1).default(DEFAULT_CHECKS.score_alpha).describe("the score check fails only when a two-sample KS test also rejects equal score distributions at this level"),
    min_scores: z.int().min(10).default(DEFAULT_CHECKS.min_scores).describe("sampled scores needed on each arm before the score check can pass"),
    auc_margin: z.number().min(0).max(1).default(DEFAULT_CHECKS.auc_margin).describe("canary realized ROC AUC ≥ primary's − this, once labels arrive"),
    min_labels: z.int().min(10).default(DEFAULT_CHECKS.min_labels).describe("labels needed on each arm before AUC is judged"),
  })
  .strict();

export const rolloutBodySchema = z
  .object({
    version: z.int().min(1).describe("the ready version to roll out"),
    steps: z
      .array(percent)
      .min(1)
      .max(20)
      .refine((s) => s.every((p, i) => i === 0 || p > s[i - 1]!), { error: "steps must be strictly increasing" })
      .describe("percent of the default alias's traffic at each step, increasing; after the last passes, the version is promoted"),
    step_minutes: z.int().min(0).max(1440).default(10).describe("minimum minutes at each step; 0 moves on as soon as a step's checks pass"),
    min_requests: z.int().min(1).default(100).describe("requests each arm must answer in a step before it can pass"),
    checks: rolloutChecksSchema.default(rolloutChecksSchema.parse({})),
    reason: z.string().trim().min(1, { error: "required: why this rollout" }).max(500),
  })
  .strict();

export type RolloutBody = z.output<typeof rolloutBodySchema>;

const checkResultSchema = z.object({
  name: z.enum(["requests", "error_rate", "latency_p95", "score_psi", "realized_auc"]),
  primary: z.number().nullable().describe("the primary's figure on the step's window"),
  canary: z.number().nullable().describe("the canary's figure (score_psi: the PSI of its scores against the primary's)"),
  limit: z.number().nullable().describe("what the canary's figure is held to"),
  pass: z.boolean().nullable().describe("null: not enough data yet"),
  blocking: z.boolean().describe("a null pass that keeps the step from passing"),
  p_value: z.number().optional().describe("score_psi: the two-sample KS test's p-value"),
  note: z.string().optional(),
});
const evaluationSchema = z.object({ decision: z.enum(["wait", "pass", "fail"]), checks: z.array(checkResultSchema) });

/** The documented shape of a rollout (GET /models/:name/rollouts/current, the admin routes' answers). */
export const rolloutViewSchema = z.object({
  id: z.int(),
  name: z.string(),
  version: z.int(),
  primary_version: z.int().describe("the version the default alias named when the rollout started"),
  status: z.enum(["active", "promoted", "aborted"]),
  steps: z.array(z.number()),
  step: z.int().describe("1-based index of the current (or last) step"),
  percent: z.number().nullable(),
  step_minutes: z.int(),
  min_requests: z.int(),
  checks: rolloutChecksSchema,
  step_started_at: z.string(),
  started_at: z.string(),
  started_by: z.string(),
  reason: z.string(),
  ended_at: z.string().nullable(),
  end_reason: z.string().nullable(),
  last_evaluation: evaluationSchema.extend({ at: z.string() }).nullable().describe("the minute cron's latest judgement of the current step"),
  timeline: z
    .array(
      z.object({
        at: z.string(),
        step: z.int(),
        percent: z.number(),
        decision: z.enum(["started", "advanced", "promoted", "aborted"]),
        reason: z.string().optional(),
        evaluation: evaluationSchema.optional(),
      }),
    )
    .describe("every start, step, promotion or abort, with the evaluation that caused it"),
});

export const rolloutHistorySchema = z.object({ name: z.string(), rollouts: z.array(rolloutViewSchema) });

export type RolloutStatus = "active" | "promoted" | "aborted";

export interface RolloutEvent {
  at: string;
  step: number;
  percent: number;
  decision: "started" | "advanced" | "promoted" | "aborted";
  reason?: string;
  evaluation?: StepEvaluation;
}

export function rolloutView(row: RolloutRow) {
  const steps = parsedJson<number[]>(row.steps, []);
  return {
    id: row.id,
    name: row.modelName,
    version: row.version,
    primary_version: row.primaryVersion,
    status: row.status as RolloutStatus,
    steps,
    step: row.stepIndex + 1,
    percent: steps[row.stepIndex] ?? null,
    step_minutes: row.stepMinutes,
    min_requests: row.minRequests,
    checks: parsedJson<RolloutChecks>(row.checks, DEFAULT_CHECKS),
    step_started_at: row.stepStartedAt,
    started_at: row.startedAt,
    started_by: row.startedBy,
    reason: row.reason,
    ended_at: row.endedAt,
    end_reason: row.endReason,
    last_evaluation: row.lastEvaluation === null ? null : parsedJson<(StepEvaluation & { at: string }) | null>(row.lastEvaluation, null),
    timeline: parsedJson<RolloutEvent[]>(row.evidence, []),
  };
}

export type RolloutView = ReturnType<typeof rolloutView>;

function parsedJson<T>(text: string, fallback: T): T {
  const parsed = storedJson(text);
  return parsed.ok ? (parsed.value as T) : fallback;
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function activeRollouts(db: Db): Promise<RolloutRow[]> {
  return db.select().from(rollouts).where(eq(rollouts.status, "active")).orderBy(rollouts.id).all();
}

export async function currentRollout(db: Db, name: string): Promise<RolloutView> {
  await getModelRow(db, name);
  const row = await db.select().from(rollouts).where(and(eq(rollouts.modelName, name), eq(rollouts.status, "active"))).get();
  if (!row) throw new ApiError("NOT_FOUND", `model ${name} has no active rollout`);
  return rolloutView(row);
}

export async function rolloutHistory(db: Db, name: string) {
  await getModelRow(db, name);
  const rows = await db.select().from(rollouts).where(eq(rollouts.modelName, name)).orderBy(desc(rollouts.id)).limit(50).all();
  return { name, rollouts: rows.map(rolloutView) };
}

/**
 * Starts a rollout: checks everything first (nothing is written on a refusal), inserts the row
 * (the unique index refuses a second active one even when two starts race), then moves the canary
 * to the first step. If the move fails, the row is deleted.
 */
export async function startRollout(db: Db, input: RolloutBody & { name: string; by: string; now: number; defaultAlias: string }): Promise<RolloutView> {
  const { name, version } = input;
  await getModelRow(db, name);
  const row = await getVersionRow(db, name, version);
  if (row.status !== "ready") throw new ApiError("CONFLICT", `version ${version} of ${name} is ${row.status}: only a ready version can be rolled out`, { version, status: row.status });
  const primary = await resolveVersion(db, name, { alias: input.defaultAlias }).catch(() => null);
  if (!primary) throw new ApiError("CONFLICT", `${name} has no ${input.defaultAlias} version to compare a rollout against`);
  if (primary.row.version === version) throw new ApiError("CONFLICT", `version ${version} already serves ${input.defaultAlias}`);
  const active = await db.$client.prepare("SELECT id FROM rollouts WHERE model_name = ? AND status = 'active'").bind(name).first<{ id: number }>();
  if (active) throw new ApiError("CONFLICT", `${name} already has an active rollout (${active.id}): abort it first`, { rollout: active.id });
  const at = iso(input.now);
  const started: RolloutEvent = { at, step: 1, percent: input.steps[0]!, decision: "started", reason: input.reason };
  let id: number;
  try {
    const inserted = await db.$client
      .prepare(
        `INSERT INTO rollouts (model_name, version, primary_version, steps, step_minutes, min_requests, checks, status, step_index, step_started_at, started_at, started_by, reason, evidence)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active', 0, ?8, ?8, ?9, ?10, ?11) RETURNING id`,
      )
      .bind(name, version, primary.row.version, JSON.stringify(input.steps), input.step_minutes, input.min_requests, JSON.stringify(input.checks), at, input.by, input.reason, JSON.stringify([started]))
      .first<{ id: number }>();
    id = inserted!.id;
  } catch (error) {
    if (/UNIQUE constraint failed/.test(String(error))) throw new ApiError("CONFLICT", `${name} already has an active rollout: abort it first`);
    throw error;
  }
  try {
    await changePolicy(db, { name, canary: { version, percent: input.steps[0]! }, by: input.by, reason: `rollout ${id} step 1: ${input.reason}`, canaryEvidence: { rollout: id, step: 1 } });
  } catch (error) {
    await db.$client.prepare("DELETE FROM rollouts WHERE id = ?").bind(id).run();
    throw error;
  }
  return currentRollout(db, name);
}

/** Ends an active rollout by hand: the canary is cleared, with the reason in its alias history. */
export async function abortRollout(db: Db, input: { name: string; id: number; by: string; reason: string; now: number }): Promise<RolloutView> {
  const rollout = await db.select().from(rollouts).where(and(eq(rollouts.id, input.id), eq(rollouts.modelName, input.name))).get();
  if (!rollout) throw new ApiError("NOT_FOUND", `model ${input.name} has no rollout ${input.id}`);
  if (rollout.status !== "active") throw new ApiError("CONFLICT", `rollout ${input.id} is already ${rollout.status}`);
  await endRollout(db, rollout, { status: "aborted", by: input.by, reason: input.reason, now: input.now });
  return rolloutView((await db.select().from(rollouts).where(eq(rollouts.id, input.id)).get())!);
}

/**
 * Marks the rollout ended (only if it is still active at the step it was read at, so two crons
 * cannot both end it), then clears its canary, recording the evaluation in the alias history.
 * Returns false when another run got there first.
 */
export async function endRollout(
  db: Db,
  rollout: RolloutRow,
  end: { status: "aborted" | "promoted"; by: string; reason: string; now: number; evaluation?: StepEvaluation },
): Promise<boolean> {
  const steps = parsedJson<number[]>(rollout.steps, []);
  const event: RolloutEvent = {
    at: iso(end.now),
    step: rollout.stepIndex + 1,
    percent: steps[rollout.stepIndex] ?? 0,
    decision: end.status,
    reason: end.reason,
    ...(end.evaluation ? { evaluation: end.evaluation } : {}),
  };
  const updated = await db.$client
    .prepare(
      `UPDATE rollouts SET status = ?1, ended_at = ?2, end_reason = ?3, evidence = json_insert(evidence, '$[#]', json(?4))
       WHERE id = ?5 AND status = 'active' AND step_index = ?6`,
    )
    .bind(end.status, event.at, end.reason, JSON.stringify(event), rollout.id, rollout.stepIndex)
    .run();
  if (!updated.meta.changes) return false;
  await changePolicy(db, { name: rollout.modelName, canary: null, by: end.by, reason: `rollout ${rollout.id} ${end.status}: ${end.reason}`, canaryEvidence: { rollout: rollout.id, ...event } });
  return true;
}

/** Moves an active rollout to its next step (conditional on the step it was read at). */
export async function advanceRollout(db: Db, rollout: RolloutRow, input: { by: string; now: number; evaluation: StepEvaluation }): Promise<boolean> {
  const steps = parsedJson<number[]>(rollout.steps, []);
  const next = rollout.stepIndex + 1;
  const event: RolloutEvent = { at: iso(input.now), step: next + 1, percent: steps[next]!, decision: "advanced", evaluation: input.evaluation };
  const updated = await db.$client
    .prepare(
      `UPDATE rollouts SET step_index = ?1, step_started_at = ?2, evidence = json_insert(evidence, '$[#]', json(?3))
       WHERE id = ?4 AND status = 'active' AND step_index = ?5`,
    )
    .bind(next, event.at, JSON.stringify(event), rollout.id, rollout.stepIndex)
    .run();
  if (!updated.meta.changes) return false;
  await changePolicy(db, {
    name: rollout.modelName,
    canary: { version: rollout.version, percent: steps[next]! },
    by: input.by,
    reason: `rollout ${rollout.id} step ${next + 1}: step ${next} passed`,
    canaryEvidence: { rollout: rollout.id, step: next + 1, evaluation: input.evaluation },
  });
  return true;
}
