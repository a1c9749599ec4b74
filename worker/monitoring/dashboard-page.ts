/**
 * GET /monitoring as one HTML document: inline CSS, inline SVG, no script, no external asset.
 * Every value from the registry or a report (model names, reasons, categories, unseen values sent
 * by clients) is interpolated through the html helper, which escapes it.
 */
import { raw } from "hono/html";
import type { AliasMoveView, DashboardData, ModelDashboard, ServingVersion, VersionSummary } from "./dashboard-data";
import { DASHBOARD_LIMITS, SCORE_EDGES } from "./dashboard-data";
import { renderDriftReport, renderPValueHistory, renderScores, statusBadge } from "./dashboard-report";
import { h, type Html, shortIso, windowLabel } from "./dashboard-svg";

export interface PageContext {
  /** The request's origin, for copy-paste commands. */
  origin: string;
  /** ?model= when given. */
  only?: string;
  sampleRate: number;
  now: Date;
  /** Per model name, a panel rendered by a layer above this one (the rollout panel, worker/rollouts/rollout-panel.ts). */
  panels?: ReadonlyMap<string, Html>;
}

/** wrangler.toml's cron; the job reports the last complete window before `time`. */
export const CRON_HINT = "5 * * * *";

export function renderDashboard(data: DashboardData, ctx: PageContext): Html {
  const title = ctx.only ? `${ctx.only} · monitoring` : "Model monitoring";
  return h`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="icon" href="data:,">${raw(STYLE)}</head>
<body><header><h1>${title}</h1>
<p class="muted">Rendered ${ctx.now.toISOString().slice(0, 16).replace("T", " ")} UTC. Drift reports come from the hourly cron (one per serving version and window); p-values below the dashed alpha line are significant, and a feature is flagged only when its PSI is material too. Sampling rate: ${(ctx.sampleRate * 100).toFixed(0)}% of prediction requests.</p>
${modelNav(data, ctx)}</header>
<main>${data.models.length ? data.models.map((m) => renderModel(m, ctx)) : emptyRegistry()}</main>
</body></html>`;
}

function modelNav(data: DashboardData, ctx: PageContext): Html | string {
  if (data.allModels.length < 2 && !ctx.only) return "";
  const links = data.allModels.map((name) => h`<a href="/monitoring?model=${encodeURIComponent(name)}"${name === ctx.only ? raw(' aria-current="page"') : ""}>${name}</a>`);
  const all = ctx.only ? h`<a href="/monitoring">all models</a> · ` : "";
  const omitted = data.omitted > 0 && !ctx.only ? h` <span class="muted">(${data.omitted} not shown: pick one)</span>` : "";
  return h`<nav class="models">${all}${links}${omitted}</nav>`;
}

function emptyRegistry(): Html {
  return h`<p class="empty">No models registered yet. <code>npm start</code> trains and publishes one locally; <code>npm run publish</code> adds versions to a deployed registry.</p>`;
}

function renderModel(model: ModelDashboard, ctx: PageContext): Html {
  return h`<section class="model" id="model-${model.name}" data-model="${model.name}">
<h2>${model.name}</h2>${model.description ? h`<p class="muted">${model.description}</p>` : ""}
<div class="summary">${model.serving.length ? model.serving.map(servingSummary) : h`<span class="muted">no version is production, canary or shadow</span>`}</div>
${ctx.panels?.get(model.name) ?? ""}
<h3>Versions and aliases</h3>${versionsTable(model)}
${model.serving.length ? model.serving.map((s) => renderServing(model.name, s, ctx)) : noServing(model.name)}
<h3>Recent alias moves</h3>${movesTable(model.moves)}
</section>`;
}

function servingSummary(s: ServingVersion): Html {
  const latest = s.reports[0];
  const window = latest ? h` <span class="muted">${windowLabel(latest)}, ${latest.report?.samples.total ?? 0} samples</span>` : "";
  return h`<span class="pill"><strong>${s.arms.join(" + ")}</strong> v${s.version} ${statusBadge(latest?.status ?? "no_report")}${window}</span>`;
}

function versionsTable(model: ModelDashboard): Html {
  const aliasCells = (v: VersionSummary) => (v.aliases.length ? v.aliases.map((a) => h`<span class="alias alias-${a}">${a}</span>`) : h`<span class="muted">–</span>`);
  const rows = model.versions.map(
    (v) =>
      h`<tr><td>v${v.version}</td><td>${aliasCells(v)}</td><td>${v.status}</td><td>${v.rocAuc === null ? "–" : v.rocAuc.toFixed(3)}</td><td>${shortIso(v.createdAt)}</td><td>${v.createdBy}</td></tr>`,
  );
  const more = model.versionCount > model.versions.length ? h`<p class="muted">Newest ${model.versions.length} of ${model.versionCount} versions; every version: <code>GET /models/${model.name}</code>.</p>` : "";
  const otherAliases = model.aliases.filter((a) => !model.versions.some((v) => v.version === a.version));
  const others = otherAliases.length ? h`<p class="muted">Also: ${otherAliases.map((a) => h`${a.alias} → v${a.version} `)}</p>` : "";
  return h`<table class="versions"><thead><tr><th>Version</th><th>Aliases</th><th>Status</th><th>ROC AUC</th><th>Created</th><th>By</th></tr></thead><tbody>${rows}</tbody></table>${more}${others}`;
}

function renderServing(model: string, s: ServingVersion, ctx: PageContext): Html {
  const latest = s.reports[0];
  const heading = h`<h3>v${s.version} · ${s.arms.join(" + ")} ${statusBadge(latest?.status ?? "no_report")}</h3>`;
  if (!latest) {
    return h`<article class="serving" data-version="${s.version}">${heading}${noReport(ctx, s.windowHours)}${renderScores(null, s.liveScores, SCORE_EDGES, `${model} v${s.version}`)}${s.liveScores ? "" : noSamples(ctx)}</article>`;
  }
  return h`<article class="serving" data-version="${s.version}">${heading}
${renderDriftReport(latest, `${model} v${s.version}`)}
${renderScores(latest.report?.predictions ?? null, s.liveScores, SCORE_EDGES, `${model} v${s.version}`)}
${renderPValueHistory(s.reports, `${model} v${s.version}`)}
</article>`;
}

function noServing(model: string): Html {
  return h`<p class="empty">No version of ${model} is production, canary or shadow, so the cron has nothing to report on. Point an alias at a version: <code>npm run promote -- ${model} &lt;version&gt;</code>.</p>`;
}

/** The hint fires the cron as just after the current window, so that window (holding today's samples) is reported. */
function noReport(ctx: PageContext, windowHours: number): Html {
  const length = windowHours * 3_600_000;
  const start = Math.floor(ctx.now.getTime() / length) * length;
  const time = start + length + 60_000;
  const url = `${ctx.origin}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(CRON_HINT).replace(/%20/g, "+")}&time=${time}`;
  const window = windowLabel({ windowStart: new Date(start).toISOString(), windowEnd: new Date(start + length).toISOString() });
  return h`<p class="empty">No drift report yet: the cron runs hourly and reports each ${windowHours} h window once it has ended. Fire it locally (wrangler dev) for the current ${window} with <code>curl '${url}'</code>, or run <code>npm run demo:drift</code>.</p>`;
}

function noSamples(ctx: PageContext): Html {
  return h`<p class="empty">No sampled requests for this version yet: ${(ctx.sampleRate * 100).toFixed(0)}% of prediction requests are written to D1 (SAMPLE_RATE)${ctx.sampleRate === 0 ? ", so sampling is off" : ""}.</p>`;
}

function movesTable(moves: readonly AliasMoveView[]): Html {
  if (!moves.length) return h`<p class="empty">No alias moves recorded.</p>`;
  const from = (v: number | null) => (v === null ? "new" : `v${v}`);
  const rows = moves.map(
    (m) =>
      h`<tr><td>${shortIso(m.changedAt)}</td><td><span class="alias alias-${m.alias}">${m.alias}</span></td><td>${from(m.fromVersion)} → ${m.toVersion === null ? "removed" : `v${m.toVersion}`}</td><td>${m.changedBy}</td><td class="reason">${m.reason || h`<span class="muted">no reason given</span>`}</td></tr>`,
  );
  const note = moves.length === DASHBOARD_LIMITS.moves ? h`<p class="muted">The last ${DASHBOARD_LIMITS.moves}; the full history is in the admin API.</p>` : "";
  return h`<table class="moves"><thead><tr><th>When (UTC)</th><th>Alias</th><th>Move</th><th>Who</th><th>Why</th></tr></thead><tbody>${rows}</tbody></table>${note}`;
}

const STYLE = `<style>
:root{--ok:#1b7f3b;--drift:#b00020;--warn:#9a6700;--grey:#5f6b76;--ref:#8da0b6;--cur:#e8772e}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2329;background:#f6f7f9;margin:0}
header{background:#fff;border-bottom:1px solid #dde1e6;padding:1rem 1.5rem}
h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.25rem;margin:0 0 .2rem}h3{font-size:1.05rem;margin:1.4rem 0 .5rem}h4{font-size:.95rem;margin:1rem 0 .4rem}
main{padding:1rem 1.5rem;max-width:90rem}
.model{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:1rem 1.25rem;margin-bottom:1.5rem}
.serving{border-top:2px solid #eef0f3;margin-top:1rem}
.muted{color:var(--grey)}.empty{background:#fff8e1;border-left:4px solid #e0b000;padding:.5rem .75rem;margin:.5rem 0}
table{border-collapse:collapse;margin:.25rem 0;font-variant-numeric:tabular-nums}th,td{text-align:left;padding:.25rem .6rem;border-bottom:1px solid #e6e9ed;vertical-align:top}th{font-weight:600;background:#f2f4f7}
td.num{text-align:right}td.reason{max-width:40rem;overflow-wrap:anywhere}
.badge{display:inline-block;border-radius:999px;padding:0 .55rem;font-size:.8rem;font-weight:600;color:#fff;background:var(--grey);vertical-align:middle}
.badge.ok{background:var(--ok)}.badge.drift,.badge.error{background:var(--drift)}.badge.insufficient_data{background:var(--warn)}
.pill{display:inline-block;border:1px solid #dde1e6;border-radius:6px;padding:.2rem .5rem;margin:.2rem .4rem .2rem 0}
.alias{display:inline-block;border-radius:4px;padding:0 .35rem;margin-right:.25rem;background:#e8edf3;font-size:.85rem}
.alias-production{background:#d7f0de}.alias-canary{background:#fde7c8}.alias-shadow{background:#e4defa}
.charts{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0;border:1px solid #eef0f3;border-radius:6px;padding:.4rem}figcaption{font-size:.85rem;margin-bottom:.2rem}
figure.flagged{border-color:var(--drift)}
.key{font-size:.8rem;color:var(--grey)}.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin:0 .25rem 0 .6rem;vertical-align:-1px}
.legend{list-style:none;padding:0;margin:.2rem 0;display:flex;flex-wrap:wrap;font-size:.85rem}
nav.models a{margin-right:.6rem}nav.models a[aria-current]{font-weight:700}
.rollout.active{border-left:4px solid var(--cur);padding-left:.75rem}.rollout.ended summary{cursor:pointer;margin:.5rem 0}
ol.steps{list-style:none;display:flex;gap:2px;padding:0;margin:.4rem 0}ol.steps li{flex:1;max-width:8rem;text-align:center;padding:.15rem 0;background:#e8edf3;font-size:.85rem}
ol.steps li.done{background:#d7f0de}ol.steps li.current{background:var(--cur);color:#fff;font-weight:700}
.verdict{font-weight:600}.verdict.pass{color:var(--ok)}.verdict.fail{color:var(--drift)}.verdict.waiting{color:var(--warn)}.verdict.not-judged{color:var(--grey)}
code{background:#f0f2f5;padding:0 .25rem;border-radius:3px;overflow-wrap:anywhere}
</style>`;
