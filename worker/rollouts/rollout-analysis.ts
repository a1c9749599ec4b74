/**
 * Judging one rollout step: the canary against the primary on the same window of live traffic.
 * Pure functions over the window's numbers (rollout-window.ts gathers them from D1), so every rule
 * is unit-tested on hand-computed windows.
 *
 * Checks (each with both arms' numbers in the evidence):
 *  - requests: fewer than `min_requests` answered on either arm is "wait", never a pass;
 *  - error_rate: server errors (5xx, NON_FINITE_OUTPUT included) per request; the canary may exceed
 *    the primary by at most `max_error_rate_increase` percentage points;
 *  - latency_p95: from each version's latency histogram (linear within a bucket, as Prometheus'
 *    histogram_quantile); canary ≤ primary × `max_latency_ratio`, judged once each arm has
 *    `min_latency_requests` successes (a new canary's first requests load its session);
 *  - score_psi: PSI of the canary's sampled scores against the primary's on the window, over the
 *    primary's score deciles. It fails only when the PSI exceeds `max_score_psi` AND the two-sample
 *    KS test rejects equal distributions at `score_alpha` (significant and material, as in the drift
 *    report): two samples of 100 scores from one model already differ by a PSI of about 0.18 by
 *    chance alone. Below `min_scores` sampled rows on either arm it waits (null disables the check). Both arms are scored on the same window's traffic; with an
 *    entity-sticky split the two populations are different customers, so a legitimate model can
 *    still differ: the check compares what each arm served, which is what a client sees;
 *  - realized_auc: only when at least `min_labels` labels of both classes have arrived on both arms;
 *    canary ≥ primary − `auc_margin`. Until then it neither passes nor blocks.
 * A failed check is "fail" whatever else; otherwise any check still waiting is "wait"; else "pass".
 */
import { histogramBin } from "../contract/drift-reference";
import { rocAuc } from "../contract/classification-metrics";
import { LATENCY_BUCKETS } from "../metrics/families";
import { ksTwoSample, psiCategorical } from "../monitoring/drift-stats";

export interface RolloutChecks {
  /** Percentage points. */
  max_error_rate_increase: number;
  max_latency_ratio: number;
  /** Successful requests each arm needs before its p95 is judged (a handful of cold-start requests would decide it). */
  min_latency_requests: number;
  /** null: no score check. */
  max_score_psi: number | null;
  score_alpha: number;
  min_scores: number;
  auc_margin: number;
  min_labels: number;
}

export const DEFAULT_CHECKS: RolloutChecks = {
  max_error_rate_increase: 0.5,
  max_latency_ratio: 1.5,
  min_latency_requests: 100,
  max_score_psi: 0.2,
  score_alpha: 0.01,
  min_scores: 100,
  auc_margin: 0.02,
  min_labels: 100,
};

export interface ArmWindow {
  version: number;
  /** Requests answered with success (latency observations). */
  successes: number;
  /** Requests that failed on the server side (5xx). */
  serverErrors: number;
  /** Successful requests per latency bucket: LATENCY_BUCKETS bounds, then +Inf. */
  latencyBuckets: readonly number[];
  /** Sampled probabilities. */
  scores: readonly number[];
  /** Labels that arrived for the arm's predictions of the window. */
  labels: { labels: readonly number[]; scores: readonly number[] };
}

export interface CheckResult {
  name: "requests" | "error_rate" | "latency_p95" | "score_psi" | "realized_auc";
  primary: number | null;
  canary: number | null;
  /** The value the canary's figure is held to (or the check's own statistic, for score_psi). */
  limit: number | null;
  /** true passed, false failed, null: not enough data (see `blocking`). */
  pass: boolean | null;
  /** A null pass that keeps the step from passing. */
  blocking: boolean;
  /** score_psi: the two-sample KS test's p-value. */
  p_value?: number;
  note?: string;
}

export type StepDecision = "wait" | "pass" | "fail";

export interface StepEvaluation {
  decision: StepDecision;
  checks: CheckResult[];
}

const requestsOf = (arm: ArmWindow) => arm.successes + arm.serverErrors;

/**
 * `stepEnded`: the step has run its step_minutes. The statistical checks (score_psi, realized_auc)
 * only fail then, once per step on the step's whole window: judged every minute on a growing window
 * they would be tested again and again, and a good candidate would sooner or later fail one by
 * chance. Until then a failing figure is reported as pending. Error rate and latency abort at once.
 */
export function evaluateStep(primary: ArmWindow, canary: ArmWindow, checks: RolloutChecks, minRequests: number, stepEnded = true): StepEvaluation {
  const results: CheckResult[] = [];
  const enough = requestsOf(primary) >= minRequests && requestsOf(canary) >= minRequests;
  results.push({
    name: "requests",
    primary: requestsOf(primary),
    canary: requestsOf(canary),
    limit: minRequests,
    pass: enough ? true : null,
    blocking: !enough,
    ...(enough ? {} : { note: `fewer than ${minRequests} requests on ${requestsOf(primary) < minRequests ? "the primary" : "the canary"}: waiting` }),
  });
  if (enough) {
    const rate = (arm: ArmWindow) => arm.serverErrors / requestsOf(arm);
    const limit = rate(primary) + checks.max_error_rate_increase / 100;
    results.push({ name: "error_rate", primary: rate(primary), canary: rate(canary), limit, pass: rate(canary) <= limit + 1e-12, blocking: false });
    const p95 = (arm: ArmWindow) => histogramQuantile(0.95, arm.latencyBuckets);
    const [pp, cp] = [p95(primary), p95(canary)];
    if (pp === null || cp === null) {
      results.push({ name: "latency_p95", primary: pp, canary: cp, limit: null, pass: null, blocking: true, note: "no successful request on an arm yet" });
    } else if (Math.min(primary.successes, canary.successes) < checks.min_latency_requests) {
      // A new canary's first requests load its session: on a few requests those decide the p95.
      results.push({ name: "latency_p95", primary: pp, canary: cp, limit: null, pass: null, blocking: false, note: `fewer than ${checks.min_latency_requests} successful requests on an arm: not judged` });
    } else {
      const latencyLimit = pp * checks.max_latency_ratio;
      results.push({ name: "latency_p95", primary: pp, canary: cp, limit: latencyLimit, pass: cp <= latencyLimit, blocking: false });
    }
  }
  if (!enough) return { decision: "wait", checks: results };
  for (const check of [scoreCheck(primary, canary, checks), aucCheck(primary, canary, checks)]) {
    results.push(check.pass === false && !stepEnded ? { ...check, pass: null, blocking: true, note: "over its limit so far: judged when the step's minutes are up" } : check);
  }
  const decision: StepDecision = results.some((r) => r.pass === false) ? "fail" : results.some((r) => r.pass === null && r.blocking) ? "wait" : "pass";
  return { decision, checks: results };
}

function scoreCheck(primary: ArmWindow, canary: ArmWindow, checks: RolloutChecks): CheckResult {
  const base = { name: "score_psi" as const, primary: null, canary: null };
  if (checks.max_score_psi === null) return { ...base, limit: null, pass: null, blocking: false, note: "disabled" };
  if (primary.scores.length < checks.min_scores || canary.scores.length < checks.min_scores) {
    return {
      ...base,
      limit: checks.max_score_psi,
      pass: null,
      blocking: true,
      note: `${primary.scores.length} primary and ${canary.scores.length} canary sampled scores; ${checks.min_scores} of each needed: waiting`,
    };
  }
  const value = scorePsi(primary.scores, canary.scores);
  const pValue = ksTwoSample(primary.scores, canary.scores).pValue;
  const shifted = value > checks.max_score_psi && pValue < checks.score_alpha;
  return { name: "score_psi", primary: 0, canary: value, limit: checks.max_score_psi, pass: !shifted, blocking: false, p_value: pValue };
}

function aucCheck(primary: ArmWindow, canary: ArmWindow, checks: RolloutChecks): CheckResult {
  const auc = (arm: ArmWindow) => (arm.labels.labels.length >= checks.min_labels ? rocAuc({ labels: Uint8Array.from(arm.labels.labels), scores: arm.labels.scores }) : null);
  const [pa, ca] = [auc(primary), auc(canary)];
  if (pa === null || ca === null) {
    return { name: "realized_auc", primary: pa, canary: ca, limit: null, pass: null, blocking: false, note: `fewer than ${checks.min_labels} labels of both classes on an arm: not judged` };
  }
  return { name: "realized_auc", primary: pa, canary: ca, limit: pa - checks.auc_margin, pass: ca >= pa - checks.auc_margin, blocking: false };
}

/**
 * PSI of `current` against `reference` over the reference's decile edges (ties collapse bins), as
 * categorical bin counts, with the drift report's epsilon for empty bins.
 */
export function scorePsi(reference: readonly number[], current: readonly number[]): number {
  const sorted = [...reference].sort((a, b) => a - b);
  const edges = [...new Set(Array.from({ length: 9 }, (_, i) => sorted[Math.min(sorted.length - 1, Math.floor(((i + 1) * sorted.length) / 10))]!))];
  const counts = (values: readonly number[]) => {
    const out: Record<string, number> = {};
    for (let b = 0; b <= edges.length; b++) out[String(b)] = 0;
    for (const v of values) out[String(histogramBin(edges, v))]! += 1;
    return out;
  };
  return psiCategorical(counts(reference), counts(current)).statistic;
}

/**
 * The q-quantile of a histogram of counts per LATENCY_BUCKETS bound (then +Inf), linear within the
 * bucket it falls in (from the previous bound, 0 for the first), as Prometheus' histogram_quantile;
 * a quantile in the +Inf bucket is the largest finite bound. Null for an empty histogram.
 */
export function histogramQuantile(q: number, counts: readonly number[]): number | null {
  const total = counts.reduce((s, c) => s + c, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (below + c >= rank && c > 0) {
      if (i >= LATENCY_BUCKETS.length) return LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1]!;
      const lower = i === 0 ? 0 : LATENCY_BUCKETS[i - 1]!;
      const upper = LATENCY_BUCKETS[i]!;
      return lower + ((upper - lower) * (rank - below)) / c;
    }
    below += c;
  }
  return LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1]!;
}
