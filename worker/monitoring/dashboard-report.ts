/**
 * One drift report on the dashboard: status line, per-feature table, reference vs current
 * distributions, attribution (mean |contribution| per feature, training vs the window), the score
 * histogram and p-values over the report history.
 */
import { attributionDriftSchema } from "./attribution-drift";
import type { LiveScores, StoredReport } from "./dashboard-data";
import { barChart, type BarGroup, CURRENT_COLOR, formatP, h, type Html, pct, pValueChart, type PValueSeries, REFERENCE_COLOR, seriesLegend, significant, windowLabel } from "./dashboard-svg";
import type { BinnedShares, DriftReport, FeatureDrift, PredictionDrift } from "./drift-report-types";

const STATUS_TEXT: Record<string, string> = {
  ok: "no drift",
  drift: "drift",
  insufficient_data: "insufficient data",
  no_samples: "no samples",
  no_reference: "no reference",
  error: "error",
  no_report: "no report yet",
};

export function statusBadge(status: string): Html {
  return h`<span class="badge ${status}" data-status="${status}">${STATUS_TEXT[status] ?? status}</span>`;
}

const key = h`<p class="key"><span class="swatch" style="background:${REFERENCE_COLOR}"></span>reference<span class="swatch" style="background:${CURRENT_COLOR}"></span>current</p>`;

export function renderDriftReport(stored: StoredReport, subject: string): Html {
  const report = stored.report;
  if (!report) return h`<p class="empty">The report for ${windowLabel(stored)} could not be read (status ${stored.status}); the JSON route shows it as stored.</p>`;
  const s = report.settings;
  const arms = Object.entries(report.samples.by_arm ?? {}).map(([arm, n]) => `${arm} ${n}`).join(", ");
  const alert = stored.alert ? h` · alert ${stored.alert.outcome} after ${stored.alert.attempts} attempt${stored.alert.attempts === 1 ? "" : "s"}` : "";
  const head = h`<p>${windowLabel(stored)} · <strong>${report.samples.total}</strong> sampled rows${arms ? ` (${arms})` : ""} · reference: ${report.reference ? `${report.reference.split}, ${report.reference.rows} rows (raw sample ${report.reference.sample_size})` : "none"}${alert}</p>
<p class="muted">alpha ${s.alpha}${s.correction === "benjamini-hochberg" ? " (Benjamini–Hochberg adjusted)" : ""}, PSI threshold ${s.psi_threshold}, at least ${s.min_samples} values per side, ${s.window_hours} h window. Report updated ${stored.updatedAt.slice(0, 16).replace("T", " ")} UTC.</p>`;
  if (report.status === "no_samples" || report.status === "no_reference" || report.status === "error" || !report.features.length) {
    const why = report.reason ?? (report.status === "no_samples" ? "no sampled requests in this window" : "no feature could be compared");
    return h`${head}<p class="empty">${STATUS_TEXT[report.status] ?? report.status}: ${why}</p>`;
  }
  const drifted = report.drifted_features.length ? h`<p>Drifted: <strong>${report.drifted_features.join(", ")}</strong></p>` : "";
  return h`${head}${drifted}<h4>Features</h4>${featureTable(report)}${unseenValues(report)}
<h4>Reference vs current distributions</h4>${key}<div class="charts">${report.features.map((f) => featureFigure(f, subject))}</div>${attribution(report.attribution, subject)}${groundTruth(report.ground_truth)}`;
}

/** Attribution drift (attribution-drift.ts), read defensively: absent for versions without an explainer. */
function attribution(section: unknown, subject: string): Html | string {
  if (section === undefined) return "";
  const parsed = attributionDriftSchema.safeParse(section);
  if (!parsed.success) return h`<h4>Attribution</h4><p class="empty">The report's attribution section could not be read; the JSON route shows it as stored.</p>`;
  const block = parsed.data;
  if (block.status === "error") return h`<h4>Attribution</h4><p class="empty">Attribution drift could not be computed for this window: ${block.reason}</p>`;
  const space = block.space === "probability" ? "probability" : "log-odds";
  const reference = block.reference ? `${block.reference.rows} ${block.reference.split} rows at training` : "none (the manifest has no training-time importance)";
  const skipped = block.skipped_rows ? `, ${block.skipped_rows} that no longer validate left out` : "";
  const chart = barChart({
    title: `${subject} attribution: mean |contribution| per feature, reference vs current`,
    groups: block.features.map((f) => ({ label: f.name, reference: f.reference, current: f.current })),
    className: "attribution",
    scale: "value",
  });
  const change = (f: { reference: number | null; current: number }) => (f.reference === null ? "–" : `${f.current >= f.reference ? "+" : ""}${significant(f.current - f.reference)}`);
  const rows = block.features.map(
    (f) => h`<tr data-feature="${f.name}"><td>${f.name}</td><td class="num">${f.reference === null ? "–" : significant(f.reference)}</td><td class="num">${significant(f.current)}</td><td class="num">${change(f)}</td></tr>`,
  );
  return h`<h4>Attribution: mean |contribution| per feature</h4><p class="muted">${space} space · current: ${block.rows} of the window's ${block.window_rows} sampled rows (the ${block.max_rows} with the smallest sample keys at most${skipped}) · reference: ${reference}</p>${key}<div class="charts"><figure class="attribution-chart">${chart}</figure>
<table class="attribution"><thead><tr><th>Feature</th><th>Reference</th><th>Current</th><th>Change</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** The ground-truth section the cron adds (worker/feedback/realized.ts), read defensively: its shape is owned there. */
interface GroundTruthView {
  labels?: { count?: number; positives?: number };
  min_labels?: number;
  realized?: { status?: string; reason?: string } & Record<string, unknown>;
  expected?: { count?: number } & Record<string, unknown>;
}

function groundTruth(section: unknown): Html | string {
  if (!section || typeof section !== "object") return "";
  const gt = section as GroundTruthView;
  const realized = gt.realized ?? {};
  const expected = gt.expected ?? {};
  const value = (source: Record<string, unknown>, field: string) => {
    const v = source[field];
    return typeof v === "number" && Number.isFinite(v) ? v.toFixed(3) : "–";
  };
  const rows = [
    ["ROC AUC", "roc_auc"],
    ["precision", "precision"],
    ["recall", "recall"],
    ["predicted positive rate", "predicted_positive_rate"],
  ].map(([label, field]) => h`<tr><td>${label}</td><td class="num">${value(realized, field!)}</td><td class="num">${value(expected, field!)}</td></tr>`);
  const status = realized.status === "ok" ? "" : h` <span class="muted">${realized.reason ?? "not enough labels"}</span>`;
  return h`<h4>Ground truth</h4><p>${gt.labels?.count ?? 0} labels (${gt.labels?.positives ?? 0} positive), at least ${gt.min_labels ?? "–"} needed for realized metrics${status}</p>
<table class="ground-truth"><thead><tr><th>Metric</th><th>Realized (labels)</th><th>Expected from scores (${expected.count ?? 0} unlabelled)</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function featureTable(report: DriftReport): Html {
  const adjusted = report.settings.correction === "benjamini-hochberg";
  const num = (v: number | null | undefined, digits = 3) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits));
  const rows = report.features.map(
    (f) =>
      h`<tr class="feature ${f.status}" data-feature="${f.name}"><td>${f.name}</td><td>${f.test === "ks" ? `KS${f.method ? ` (${f.method})` : ""}` : `χ² (dof ${f.dof ?? "–"})`}</td><td class="num">${num(f.statistic)}</td><td class="num">${formatP(f.p_value)}</td>${adjusted ? h`<td class="num">${formatP(f.p_value_adjusted)}</td>` : ""}<td class="num">${num(f.psi)}</td><td class="num">${f.reference_n} / ${f.current_n}</td><td class="num">${f.current_missing}</td><td>${statusBadge(f.status)}${f.note ? h` <span class="muted">${f.note}</span>` : ""}</td></tr>`,
  );
  return h`<table class="features"><thead><tr><th>Feature</th><th>Test</th><th>Statistic</th><th>p</th>${adjusted ? h`<th>p (BH)</th>` : ""}<th>PSI</th><th>n ref / current</th><th>Missing</th><th>Flag</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function unseenValues(report: DriftReport): Html | string {
  const lines = report.features.flatMap((f) =>
    f.kind === "categorical" && f.unseen_values.length ? [h`<li>${f.name}: ${f.unseen_values.map((u, i) => h`${i ? ", " : ""}<q>${u.value}</q> (${u.count})`)}</li>`] : [],
  );
  return lines.length ? h`<p>Values outside the training categories (counted as <code>__other__</code>):</p><ul class="unseen">${lines}</ul>` : "";
}

function featureFigure(f: FeatureDrift, subject: string): Html {
  const groups: BarGroup[] =
    f.kind === "categorical"
      ? f.categories.map((c) => ({ label: c.value, reference: c.reference_share, current: f.current_n ? c.current_share : null }))
      : binGroups(f.bins, f.current_n > 0);
  const means = f.kind === "numeric" ? h` <span class="muted">mean ${fmt(f.reference_mean)} → ${fmt(f.current_mean)}</span>` : "";
  return h`<figure class="feature-chart ${f.status === "drift" ? "flagged" : ""}" data-feature="${f.name}"><figcaption><strong>${f.name}</strong> ${statusBadge(f.status)}${means}</figcaption>${barChart({ title: `${subject} ${f.name}: reference vs current shares`, groups, className: "distribution" })}</figure>`;
}

/** Bars over the reference's bins, labelled "≤ a", "a–b", "> z". */
export function binGroups(bins: BinnedShares, hasCurrent: boolean): BarGroup[] {
  const { edges } = bins;
  return bins.reference_shares.map((share, i) => ({
    label: edges.length === 0 ? "all" : i === 0 ? `≤ ${fmt(edges[0]!)}` : i === edges.length ? `> ${fmt(edges[i - 1]!)}` : `${fmt(edges[i - 1]!)}–${fmt(edges[i]!)}`,
    reference: share,
    current: hasCurrent ? (bins.current_shares[i] ?? 0) : null,
  }));
}

/** Scores: the report's histogram, or the newest sampled hour's before any report has one. */
export function renderScores(predictions: PredictionDrift | null, live: LiveScores | null, edges: readonly number[], subject: string): Html | string {
  if (predictions) {
    const ks = predictions.ks ? `KS ${predictions.ks.statistic.toFixed(3)}, p ${formatP(predictions.ks.p_value)}` : "KS –";
    const rate = predictions.positive_rate;
    const tiers = predictions.risk_tiers;
    const scoreChart = barChart({ title: `${subject} scores: reference vs current`, groups: binGroups(predictions.histogram, predictions.current_n > 0), className: "score-histogram" });
    const tierChart = barChart({
      title: `${subject} risk tiers: reference vs current`,
      groups: tiers.tiers.map((t) => ({ label: t.name, reference: t.reference_share, current: predictions.current_n ? t.current_share : null })),
      className: "risk-tiers",
    });
    return h`<h4>Scores</h4>${key}<div class="charts"><figure class="score-chart ${predictions.status === "drift" ? "flagged" : ""}"><figcaption><strong>Score histogram</strong> ${statusBadge(predictions.status)} <span class="muted">n ${predictions.reference_n} / ${predictions.current_n} · ${ks} · PSI ${predictions.psi === null ? "–" : predictions.psi.toFixed(3)}</span></figcaption>${scoreChart}</figure>
<figure class="score-chart"><figcaption><strong>Risk tiers</strong> <span class="muted">χ² p ${formatP(tiers.p_value)} · predicted positive (p ≥ ${rate.threshold}) ${rate.reference === null ? "–" : pct(rate.reference)} → ${rate.current === null ? "–" : pct(rate.current)}</span></figcaption>${tierChart}</figure></div>`;
  }
  if (!live) return "";
  const groups = binGroups({ edges: [...edges], reference_shares: live.counts.map(() => 0), current_shares: live.counts.map((c) => c / live.total) }, true).map((g) => ({ ...g, reference: null }));
  return h`<h4>Scores</h4><div class="charts"><figure class="score-chart"><figcaption><strong>Score histogram</strong> <span class="muted">current only, sampled hour ${live.window.slice(0, 16).replace("T", " ")} UTC, n ${live.total}; the reference appears with the first report</span></figcaption>${barChart({ title: `${subject} scores in the newest sampled hour`, groups, className: "score-histogram" })}</figure></div>`;
}

/** p-values per feature (adjusted ones when the report used a correction) and the scores' KS, oldest to newest. */
export function renderPValueHistory(reports: readonly StoredReport[], subject: string): Html {
  const usable = reports.filter((r) => r.report?.features.length).reverse();
  if (!usable.length) return h`<h4>p-values over time</h4><p class="empty">No report with tested features yet: the chart starts with the first window that has samples and a reference.</p>`;
  const names = [...new Set(usable.flatMap((r) => r.report!.features.map((f) => f.name)))];
  const series: PValueSeries[] = names.map((name) => ({
    label: name,
    points: usable.map((r) => {
      const f = r.report!.features.find((x) => x.name === name);
      return { time: Date.parse(r.windowStart), window: r.windowStart.slice(0, 16), p: f ? (f.p_value_adjusted ?? f.p_value) : null };
    }),
  }));
  if (usable.some((r) => r.report!.predictions?.ks)) {
    series.push({
      label: "scores (KS)",
      points: usable.map((r) => ({ time: Date.parse(r.windowStart), window: r.windowStart.slice(0, 16), p: r.report!.predictions?.ks?.p_value ?? null })),
    });
  }
  const alpha = usable.at(-1)!.report!.settings.alpha;
  const span = usable.length === 1 ? "one report so far" : `${usable.length} reports, ${usable[0]!.windowStart.slice(0, 16).replace("T", " ")} to ${usable.at(-1)!.windowStart.slice(0, 16).replace("T", " ")} UTC`;
  return h`<h4>p-values over time</h4><p class="muted">${span}; log scale, values under 1e-8 drawn on the floor.</p>${seriesLegend(series.map((s) => s.label))}${pValueChart({ title: `${subject}: p-values per window`, series, alpha, className: "p-values" })}`;
}

function fmt(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "–";
  const abs = Math.abs(v);
  return abs >= 1000 ? v.toFixed(0) : abs >= 10 ? String(Math.round(v * 10) / 10) : String(Math.round(v * 100) / 100);
}
