/**
 * The dashboard's rollout panel (issue 15): per model its active rollout in full (current step and
 * percent, the steps as a progress strip, the ramp over time as an inline SVG, every check of the
 * latest evaluation with both arms' numbers, the timeline) and its most recent ended rollout in
 * brief. It lives here rather than in monitoring/, which sits below rollouts/; api/dashboard.ts
 * hands the rendered panels to the page. Every reason is user input and goes through the html
 * helper, which escapes it.
 */
import type { Db } from "../db/open-db";
import { sql } from "drizzle-orm";
import { rollouts } from "../db/schema";
import { h, type Html, shortIso, shortTime } from "../monitoring/dashboard-svg";
import type { CheckResult, StepEvaluation } from "./rollout-analysis";
import { type RolloutEvent, type RolloutView, rolloutView } from "./rollouts";

export interface ModelRollouts {
  active: RolloutView | null;
  /** The newest promoted or aborted rollout. */
  ended: RolloutView | null;
}

/** Each named model's active rollout and newest ended one, in one query; models without any are absent. */
export async function loadModelRollouts(db: Db, names: readonly string[]): Promise<Map<string, ModelRollouts>> {
  const out = new Map<string, ModelRollouts>();
  if (!names.length) return out;
  const list = JSON.stringify(names);
  // json_each keeps a dashboard of many models to one bound parameter (D1 allows 100).
  const rows = await db
    .select()
    .from(rollouts)
    .where(
      sql`${rollouts.modelName} IN (SELECT value FROM json_each(${list}))
        AND (${rollouts.status} = 'active' OR ${rollouts.id} IN (SELECT max(id) FROM rollouts WHERE status <> 'active' AND model_name IN (SELECT value FROM json_each(${list})) GROUP BY model_name))`,
    )
    .all();
  for (const row of rows) {
    const view = rolloutView(row);
    const entry = out.get(view.name) ?? { active: null, ended: null };
    if (view.status === "active") entry.active = view;
    else entry.ended = view;
    out.set(view.name, entry);
  }
  return out;
}

/** The panels as api/dashboard.ts passes them to the page: model name → HTML. */
export function renderRolloutPanels(rollouts: ReadonlyMap<string, ModelRollouts>, now: Date): Map<string, Html> {
  return new Map([...rollouts].map(([name, r]) => [name, renderRolloutPanel(r, now)]));
}

export function renderRolloutPanel({ active, ended }: ModelRollouts, now: Date): Html {
  return h`<div class="rollouts"><h3>Rollout</h3>${active ? activePanel(active, now) : h`<p class="muted">No active rollout.</p>`}${ended ? endedSummary(ended) : ""}</div>`;
}

function activePanel(r: RolloutView, now: Date): Html {
  return h`<article class="rollout active" data-rollout="${r.id}">
<p><strong>v${r.version}</strong> against v${r.primary_version}: step ${r.step} of ${r.steps.length}, <strong class="percent">${r.percent ?? 0}%</strong> of traffic on the canary since ${shortIso(r.step_started_at)} UTC (at least ${r.step_minutes} min a step, ${r.min_requests} requests an arm). Started ${shortIso(r.started_at)} by ${r.started_by}: <span class="reason">${r.reason}</span></p>
${stepStrip(r)}
${rampChart(r, now.getTime())}
<h4>Latest evaluation</h4>${evaluationTable(r.last_evaluation)}
<h4>Timeline</h4>${timelineTable(r.timeline)}
</article>`;
}

function endedSummary(r: RolloutView): Html {
  return h`<details class="rollout ended" data-rollout="${r.id}"><summary>Last ended: rollout ${r.id}, v${r.version} against v${r.primary_version}, <span class="verdict ${r.status === "promoted" ? "pass" : "fail"}">${r.status}</span> ${r.ended_at ? shortIso(r.ended_at) : ""} UTC at step ${r.step} (${r.percent ?? 0}%): <span class="reason">${r.end_reason ?? ""}</span></summary>${timelineTable(r.timeline)}</details>`;
}

function stepStrip(r: RolloutView): Html {
  const state = (i: number) => (i + 1 < r.step ? "done" : i + 1 === r.step ? "current" : "todo");
  return h`<ol class="steps">${r.steps.map((p, i) => h`<li class="${state(i)}"${i + 1 === r.step ? h` aria-current="step"` : ""}>${p}%</li>`)}</ol>`;
}

const CHECK_LABELS: Record<CheckResult["name"], string> = {
  requests: "requests",
  error_rate: "server error rate",
  latency_p95: "latency p95",
  score_psi: "score PSI",
  realized_auc: "realized ROC AUC",
};

function formatFigure(name: CheckResult["name"], v: number | null): string {
  if (v === null) return "–";
  if (name === "requests") return String(v);
  if (name === "error_rate") return `${(v * 100).toFixed(2)}%`;
  if (name === "latency_p95") return `${(v * 1000).toFixed(1)} ms`;
  return v.toFixed(3);
}

function verdictOf(c: CheckResult): "pass" | "fail" | "waiting" | "not judged" {
  if (c.pass === true) return "pass";
  if (c.pass === false) return "fail";
  return c.blocking ? "waiting" : "not judged";
}

function evaluationTable(evaluation: (StepEvaluation & { at: string }) | null): Html {
  if (!evaluation) return h`<p class="empty">Not evaluated yet: the minute cron judges the step once it runs.</p>`;
  const rows = evaluation.checks.map((c) => {
    const verdict = verdictOf(c);
    const p = c.p_value === undefined ? "" : ` (KS p = ${c.p_value < 1e-3 ? c.p_value.toExponential(1) : c.p_value.toFixed(3)})`;
    const limit = c.limit === null ? "–" : `${c.name === "requests" || c.name === "realized_auc" ? "≥" : "≤"} ${formatFigure(c.name, c.limit)}`;
    return h`<tr data-check="${c.name}"><td>${CHECK_LABELS[c.name]}</td><td class="num">${formatFigure(c.name, c.primary)}</td><td class="num">${formatFigure(c.name, c.canary)}</td><td class="num">${limit}</td><td><span class="verdict ${verdict.replace(" ", "-")}">${verdict}</span>${p}${c.note ? h` <span class="muted">${c.note}</span>` : ""}</td></tr>`;
  });
  return h`<p class="muted">${shortIso(evaluation.at)} UTC: the step ${evaluation.decision === "pass" ? "passed" : evaluation.decision === "fail" ? "failed" : "waits"}.</p><table class="checks"><thead><tr><th>Check</th><th>Primary</th><th>Canary</th><th>Limit</th><th>Verdict</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function timelineTable(timeline: readonly RolloutEvent[]): Html {
  if (!timeline.length) return h`<p class="empty">No events recorded.</p>`;
  const rows = timeline.map((e) => {
    const failed = e.evaluation?.checks.filter((c) => c.pass === false).map((c) => CHECK_LABELS[c.name]) ?? [];
    const why = e.reason ?? (e.decision === "advanced" ? `step ${e.step - 1} passed` : "");
    return h`<tr data-decision="${e.decision}"><td>${shortIso(e.at)}</td><td>${e.decision}</td><td>${e.step}</td><td class="num">${e.percent}%</td><td class="reason">${why}${failed.length ? h` <span class="muted">(failed: ${failed.join(", ")})</span>` : ""}</td></tr>`;
  });
  return h`<table class="timeline"><thead><tr><th>When (UTC)</th><th>Event</th><th>Step</th><th>Canary</th><th>Why</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const RAMP = { width: 560, height: 150, left: 40, right: 12, top: 10, bottom: 24 };
const r1 = (n: number) => Math.round(n * 10) / 10;

/** The canary's percent over time as a step line: each event a point, drawn on to `now` while active (to 0 on an abort). */
export function rampChart(r: RolloutView, now: number): Html {
  const { width, height, left, right, top, bottom } = RAMP;
  const events = r.timeline.map((e) => ({ ...e, time: Date.parse(e.at) }));
  const level = (e: RolloutEvent) => (e.decision === "aborted" ? 0 : e.percent);
  const end = r.status === "active" ? Math.max(now, ...events.map((e) => e.time)) : Math.max(...events.map((e) => e.time));
  const t0 = events.length ? Math.min(...events.map((e) => e.time)) : end;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const x = (t: number) => left + (end === t0 ? plotW / 2 : ((t - t0) / (end - t0)) * plotW);
  const y = (p: number) => top + plotH * (1 - p / 100);
  let path = "";
  events.forEach((e, i) => {
    path += i === 0 ? `M${r1(x(e.time))},${r1(y(level(e)))}` : ` H${r1(x(e.time))} V${r1(y(level(e)))}`;
  });
  if (events.length && r.status === "active") path += ` H${r1(x(end))}`;
  const dots = events.map(
    (e) => h`<circle cx="${r1(x(e.time))}" cy="${r1(y(level(e)))}" r="3" fill="#e8772e"><title>${shortIso(e.at)} ${e.decision}: step ${e.step}, ${e.percent}%</title></circle>`,
  );
  const grid = [0, 50, 100].map(
    (p) => h`<line x1="${left}" x2="${width - right}" y1="${r1(y(p))}" y2="${r1(y(p))}" stroke="#e3e3e3"/><text x="${left - 4}" y="${r1(y(p) + 3)}" font-size="9" text-anchor="end">${p}%</text>`,
  );
  const axis = [t0, end].filter((t, i, all) => all.indexOf(t) === i);
  const labels = axis.map((t) => h`<text x="${r1(x(t))}" y="${height - 8}" font-size="9" text-anchor="${axis.length === 1 ? "middle" : t === t0 ? "start" : "end"}">${shortTime(t)}</text>`);
  return h`<svg class="chart rollout-ramp" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg"><title>Rollout ${r.id} of v${r.version}: canary percent over time</title>${grid}<g class="series" data-rollout="${r.id}">${path ? h`<path d="${path}" fill="none" stroke="#e8772e" stroke-width="2"/>` : ""}${dots}</g>${labels}</svg>`;
}
