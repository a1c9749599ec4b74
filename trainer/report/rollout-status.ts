/**
 * A rollout as `npm run rollout` prints it: where it stands, the latest evaluation's checks with
 * both arms' figures and the limit the canary is held to, and the timeline of its steps. Figures
 * are shown in the unit people read them in (error rates in %, latency in ms); --json keeps the
 * worker's own numbers.
 */
import type { RolloutHistory, RolloutView } from "../registry-client";

type Evaluation = NonNullable<RolloutView["last_evaluation"]>;
type Check = Evaluation["checks"][number];

const fixed = (digits: number) => (x: number) => x.toFixed(digits);
/** How each check's figures read, and which way its limit points. */
const UNITS: Record<Check["name"], { show: (x: number) => string; bound: "≥" | "≤" }> = {
  requests: { show: String, bound: "≥" },
  error_rate: { show: (x) => `${(x * 100).toFixed(2)}%`, bound: "≤" },
  latency_p95: { show: (x) => `${(x * 1000).toFixed(1)} ms`, bound: "≤" },
  score_psi: { show: fixed(3), bound: "≤" },
  realized_auc: { show: fixed(4), bound: "≥" },
};

function verdict(check: Check): string {
  if (check.pass === true) return "pass";
  if (check.pass === false) return "FAIL";
  return check.blocking ? "wait" : "not judged";
}

/** One row per check; score_psi's primary figure is the reference itself (0), so it is left out. */
export function checkRows(checks: readonly Check[]): string[] {
  const cells = checks.map((c) => {
    const unit = UNITS[c.name];
    const figure = (x: number | null) => (x === null ? "n/a" : unit.show(x));
    const extra = [c.p_value === undefined ? null : `KS p ${c.p_value.toPrecision(2)}`, c.note ?? null].filter((x) => x !== null).join("; ");
    return [c.name, c.name === "score_psi" ? "-" : figure(c.primary), figure(c.canary), c.limit === null ? "-" : `${unit.bound} ${unit.show(c.limit)}`, verdict(c), extra];
  });
  const header = ["check", "primary", "canary", "limit", "result", ""];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  return [header, ...cells].map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
}

export function describeRollout(r: RolloutView): string {
  const lines = [`${r.name}: rollout ${r.id} of version ${r.version} against version ${r.primary_version}, ${r.status}`];
  const step = `step ${r.step} of ${r.steps.length} (${r.steps.join(" → ")}%)`;
  if (r.status === "active") lines.push(`  ${step}: ${r.percent}% of the default alias's requests since ${r.step_started_at}`);
  else lines.push(`  ${r.status} at ${step}, ${r.ended_at}: ${r.end_reason}`);
  lines.push(`  each step: at least ${r.step_minutes} min and ${r.min_requests} requests per arm`);
  lines.push(`  started ${r.started_at} by ${r.started_by}: ${r.reason}`);
  const evaluation = r.last_evaluation;
  if (evaluation) {
    lines.push(`  latest evaluation ${evaluation.at}: ${evaluation.decision}`);
    lines.push(...checkRows(evaluation.checks).map((row) => `    ${row}`));
  } else if (r.status === "active") lines.push("  not evaluated yet (the minute cron judges each step)");
  lines.push("  timeline:");
  for (const event of r.timeline) {
    const failed = event.evaluation?.checks.filter((c) => c.pass === false).map((c) => c.name) ?? [];
    const why = [event.reason, failed.length ? `failed ${failed.join(", ")}` : null, event.decision === "advanced" ? `step ${event.step - 1} passed` : null].filter(Boolean).join("; ");
    lines.push(`    ${event.at}  step ${event.step} (${event.percent}%)  ${event.decision}${why ? `: ${why}` : ""}`);
  }
  return lines.join("\n");
}

export function describeRolloutHistory(h: RolloutHistory): string {
  if (!h.rollouts.length) return `${h.name}: no rollout yet`;
  return [
    `${h.name}: ${h.rollouts.length} rollout${h.rollouts.length === 1 ? "" : "s"}, latest first`,
    ...h.rollouts.map(
      (r) => `  ${r.id}  version ${r.version} against ${r.primary_version}  ${r.status} at step ${r.step} (${r.percent}%)  started ${r.started_at} by ${r.started_by}${r.end_reason ? `; ended: ${r.end_reason}` : ""}`,
    ),
  ].join("\n");
}
