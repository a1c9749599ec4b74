/**
 * The rollout step of the minute cron: for each active rollout, the window since its step began is
 * gathered from D1 (metric minutes for requests, errors and latency; sampled scores; labels) for
 * both arms, judged (rollout-analysis.ts), and the rollout waits, moves to its next step (once
 * `step_minutes` have passed), is promoted after its last step, or is aborted with the evidence.
 *
 * Idempotent per minute: the run first claims the rollout's (minute, step) (a conditional UPDATE),
 * so a cron that fires twice evaluates a step once, and every transition is conditional on the step
 * it read, so two runs never advance two steps from one evaluation.
 *
 * Arms: the primary is the version the default alias names, recorded as arm "production"; the
 * canary is the rollout's version on arm "canary". Metric minutes are folded into totals after an
 * hour (metric-store.ts), so a step's window reaches back at most 60 minutes.
 */
import { parseLabels } from "../metrics/exposition";
import { FAMILIES, LATENCY_BUCKET_NAME, LATENCY_BUCKETS } from "../metrics/families";
import { DEFAULT_KEEP_MINUTES, minuteOf, TOTAL_MINUTE } from "../metrics/metric-store";
import type { RolloutRow } from "../db/schema";
import type { Db } from "../db/open-db";
import { setAlias } from "../registry/aliases";
import { type ArmWindow, DEFAULT_CHECKS, evaluateStep, type RolloutChecks, type StepEvaluation } from "./rollout-analysis";
import { activeRollouts, advanceRollout, endRollout } from "./rollouts";

const BOUNDS = [...LATENCY_BUCKETS.map(String), "+Inf"];
export const ROLLOUT_ACTOR = "rollout";
/** The Cron Trigger that runs the rollouts (wrangler.toml [triggers]); any other trigger runs the hourly monitoring cron. */
export const ROLLOUT_CRON = "* * * * *";

export interface RolloutOutcome {
  id: number;
  name: string;
  step: number;
  decision: "skipped" | "wait" | "advanced" | "promoted" | "aborted";
  reason?: string;
}

export async function runRollouts(db: Db, options: { now: number; defaultAlias: string; alert?: (text: string) => Promise<unknown> }): Promise<RolloutOutcome[]> {
  const outcomes: RolloutOutcome[] = [];
  for (const rollout of await activeRollouts(db)) {
    try {
      outcomes.push(await evaluateRollout(db, rollout, options));
    } catch (error) {
      console.error(JSON.stringify({ level: "error", where: "rollout cron", rollout: rollout.id, model: rollout.modelName, error: String(error) }));
    }
  }
  return outcomes;
}

async function evaluateRollout(db: Db, rollout: RolloutRow, options: { now: number; defaultAlias: string; alert?: (text: string) => Promise<unknown> }): Promise<RolloutOutcome> {
  const { now } = options;
  const step = rollout.stepIndex + 1;
  const base = { id: rollout.id, name: rollout.modelName, step };
  // One evaluation per step and minute: a cron that fires twice judges the step once (a step that
  // just moved on may be judged in the same minute; its window is then still empty).
  const minute = `${minuteOf(now)}#${rollout.stepIndex}`;
  const claimed = await db.$client
    .prepare("UPDATE rollouts SET last_evaluated_minute = ?1 WHERE id = ?2 AND status = 'active' AND step_index = ?3 AND (last_evaluated_minute IS NULL OR last_evaluated_minute <> ?1)")
    .bind(minute, rollout.id, rollout.stepIndex)
    .run();
  if (!claimed.meta.changes) return { ...base, decision: "skipped", reason: `step ${step} already evaluated in ${minuteOf(now)}` };

  const oldest = now - DEFAULT_KEEP_MINUTES * 60_000;
  const since = Math.max(Date.parse(rollout.stepStartedAt), oldest);
  const steps = JSON.parse(rollout.steps) as number[];
  // At 100% the primary answers nothing in the step: it is judged on the whole rollout so far instead.
  const primarySince = (steps[rollout.stepIndex] ?? 0) >= 100 ? Math.max(Date.parse(rollout.startedAt), oldest) : since;
  const checks = { ...DEFAULT_CHECKS, ...(JSON.parse(rollout.checks) as Partial<RolloutChecks>) };
  const [primary, canary] = await gatherWindow(db, rollout, { primary: primarySince, canary: since });
  const elapsedMinutes = (now - Date.parse(rollout.stepStartedAt)) / 60_000;
  const evaluation = evaluateStep(primary, canary, checks, rollout.minRequests, elapsedMinutes >= rollout.stepMinutes);
  await db.$client.prepare("UPDATE rollouts SET last_evaluation = ? WHERE id = ?").bind(JSON.stringify({ at: new Date(now).toISOString(), ...evaluation }), rollout.id).run();

  if (evaluation.decision === "fail") {
    const failed = evaluation.checks.filter((c) => c.pass === false).map((c) => c.name);
    const reason = `step ${step} failed ${failed.join(", ")}`;
    if (await endRollout(db, rollout, { status: "aborted", by: ROLLOUT_ACTOR, reason, now, evaluation })) {
      await options.alert?.(`Rollout ${rollout.id} of ${rollout.modelName} v${rollout.version} aborted at step ${step}: ${describeFailures(evaluation)}`);
      return { ...base, decision: "aborted", reason };
    }
    return { ...base, decision: "skipped", reason: "ended by another run" };
  }
  if (evaluation.decision === "wait" || elapsedMinutes < rollout.stepMinutes) {
    return { ...base, decision: "wait", reason: evaluation.decision === "wait" ? "not enough data" : `${elapsedMinutes.toFixed(1)} of ${rollout.stepMinutes} minutes` };
  }
  if (rollout.stepIndex + 1 < steps.length) {
    const moved = await advanceRollout(db, rollout, { by: ROLLOUT_ACTOR, now, evaluation });
    return { ...base, decision: moved ? "advanced" : "skipped" };
  }
  // The last step passed: the default alias moves to the version, with the step's evidence, then the canary is cleared.
  await setAlias(db, {
    name: rollout.modelName,
    alias: options.defaultAlias,
    version: rollout.version,
    by: ROLLOUT_ACTOR,
    reason: `rollout ${rollout.id}: all ${steps.length} steps passed`,
    evidence: { rollout: rollout.id, steps, evaluation },
  });
  const ended = await endRollout(db, rollout, { status: "promoted", by: ROLLOUT_ACTOR, reason: `all ${steps.length} steps passed`, now, evaluation });
  return { ...base, decision: ended ? "promoted" : "skipped" };
}

function describeFailures(evaluation: StepEvaluation): string {
  return evaluation.checks
    .filter((c) => c.pass === false)
    .map((c) => `${c.name}: canary ${c.canary}, primary ${c.primary}, limit ${c.limit}`)
    .join("; ");
}

function emptyArm(version: number): ArmWindow {
  return { version, successes: 0, serverErrors: 0, latencyBuckets: new Array<number>(BOUNDS.length).fill(0), scores: [], labels: { labels: [], scores: [] } };
}

/** Each arm's numbers since its own start (ms): [primary, canary]. */
export async function gatherWindow(db: Db, rollout: RolloutRow, since: { primary: number; canary: number }): Promise<[ArmWindow, ArmWindow]> {
  const d1 = db.$client;
  const primary = emptyArm(rollout.primaryVersion);
  const canary = emptyArm(rollout.version);
  const arms = new Map([
    [`${rollout.primaryVersion}|production`, primary],
    [`${rollout.version}|canary`, canary],
  ]);
  const byVersion = new Map([
    [String(rollout.primaryVersion), primary],
    [String(rollout.version), canary],
  ]);
  const iso = (ms: number) => new Date(ms).toISOString();
  // Metric rows are per minute: each arm counts the minutes from the one its window starts in.
  const minuteFor = new Map([
    [String(rollout.primaryVersion), minuteOf(since.primary)],
    [String(rollout.version), minuteOf(since.canary)],
  ]);
  const [metrics, samples, labels] = await d1.batch<Record<string, unknown>>([
    d1
      .prepare(`SELECT minute, name, labels, SUM(value) AS value FROM metric_buckets WHERE minute >= ?1 AND minute <> ?2 AND name IN (?3, ?4) GROUP BY minute, name, labels`)
      .bind(minuteOf(Math.min(since.primary, since.canary)), TOTAL_MINUTE, FAMILIES.predictions.name, LATENCY_BUCKET_NAME),
    d1
      .prepare(
        `SELECT version, arm, probability FROM request_samples WHERE model_name = ?1
           AND ((version = ?2 AND arm = 'production' AND created_at >= ?3) OR (version = ?4 AND arm = 'canary' AND created_at >= ?5))`,
      )
      .bind(rollout.modelName, rollout.primaryVersion, iso(since.primary), rollout.version, iso(since.canary)),
    d1
      .prepare(
        `SELECT version, label, probability FROM prediction_labels WHERE model_name = ?1
           AND ((version = ?2 AND predicted_at >= ?3) OR (version = ?4 AND predicted_at >= ?5))`,
      )
      .bind(rollout.modelName, rollout.primaryVersion, iso(since.primary), rollout.version, iso(since.canary)),
  ]);
  for (const row of metrics!.results) {
    const l = parseLabels(row.labels as string);
    if (l.model !== rollout.modelName || (row.minute as string) < (minuteFor.get(l.version ?? "") ?? "~")) continue;
    const value = row.value as number;
    if (row.name === LATENCY_BUCKET_NAME) {
      // The histogram is per version (its requests on any arm); in a rollout the two versions differ.
      const arm = byVersion.get(l.version ?? "");
      const i = BOUNDS.indexOf(l.le ?? "");
      if (arm && i >= 0) (arm.latencyBuckets as number[])[i]! += value;
    } else if (l.outcome === "server_error") {
      const arm = arms.get(`${l.version}|${l.arm}`);
      if (arm) arm.serverErrors += value;
    }
  }
  for (const arm of [primary, canary]) arm.successes = arm.latencyBuckets.reduce((s, c) => s + c, 0);
  for (const row of samples!.results) {
    const arm = row.arm === "canary" ? canary : primary;
    (arm.scores as number[]).push(row.probability as number);
  }
  for (const row of labels!.results) {
    const arm = byVersion.get(String(row.version));
    if (!arm) continue;
    (arm.labels.labels as number[]).push(row.label as number);
    (arm.labels.scores as number[]).push(row.probability as number);
  }
  return [primary, canary];
}
