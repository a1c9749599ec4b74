/**
 * The dashboard's inline SVG charts: grouped bars (reference vs current shares) and p-values over
 * time on a log scale with the alpha line. Hand-written, no script, no external asset; every label
 * goes through Hono's html helper, so a category or model name cannot inject markup. Coordinates
 * are rounded to 0.1 px; each chart carries width, height and viewBox attributes, and a <title>.
 */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

export type Html = HtmlEscapedString;

/** Colours for reference and current, and for up to ten p-value lines (Tableau 10, readable on white). */
export const REFERENCE_COLOR = "#8da0b6";
export const CURRENT_COLOR = "#e8772e";
export const SERIES_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#ff7f0e", "#7f7f7f"];

/** The html helper only returns a promise when given one; the dashboard never does. */
export const h = (strings: TemplateStringsArray, ...values: unknown[]): Html => html(strings, ...values) as Html;

const r1 = (n: number) => Math.round(n * 10) / 10;

export interface BarGroup {
  label: string;
  /** Shares in [0, 1] (any values >= 0 on a "value" scale); null when that side has no data. */
  reference: number | null;
  current: number | null;
}

export interface BarChartOptions {
  title: string;
  groups: readonly BarGroup[];
  /** Written as the svg's class, so tests and the browser check can find the chart. */
  className: string;
  height?: number;
  /** share (the default): an axis of percentages up to at most 100%. value: plain numbers up to a round one above the largest. */
  scale?: "share" | "value";
}

const BAR_MARGIN = { left: 40, right: 8, top: 10, bottom: 46 };

/** Grouped bars, one group per category or bin (or feature): reference (grey-blue) beside current (orange). */
export function barChart({ title, groups, className, height = 180, scale = "share" }: BarChartOptions): Html {
  const slot = groups.length > 8 ? 26 : 40;
  const width = Math.max(220, BAR_MARGIN.left + BAR_MARGIN.right + groups.length * slot);
  const plotH = height - BAR_MARGIN.top - BAR_MARGIN.bottom;
  const largest = Math.max(0, ...groups.flatMap((g) => [g.reference ?? 0, g.current ?? 0]));
  const yMax = scale === "value" ? roundAbove(largest) : Math.min(1, Math.ceil(Math.max(0.05, largest) * 10) / 10);
  const text = scale === "value" ? (v: number) => significant(v) : (v: number, digits?: number) => pct(v, digits);
  const y = (share: number) => BAR_MARGIN.top + plotH * (1 - Math.min(share, yMax) / yMax);
  const barW = (slot - 6) / 2;
  const ticks = [0, yMax / 2, yMax];
  const bars = groups.map((g, i) => {
    const x0 = BAR_MARGIN.left + i * slot + 3;
    const bar = (share: number | null, dx: number, color: string, side: string) =>
      share === null
        ? ""
        : h`<rect class="bar ${side}" x="${r1(x0 + dx)}" y="${r1(y(share))}" width="${r1(barW)}" height="${r1(Math.max(0.5, BAR_MARGIN.top + plotH - y(share)))}" fill="${color}"><title>${g.label}: ${side} ${text(share)}</title></rect>`;
    const label = g.label.length > 12 ? `${g.label.slice(0, 11)}…` : g.label;
    const lx = r1(x0 + barW);
    const ly = BAR_MARGIN.top + plotH + 12;
    return h`${bar(g.reference, 0, REFERENCE_COLOR, "reference")}${bar(g.current, barW, CURRENT_COLOR, "current")}<text x="${lx}" y="${ly}" font-size="9" text-anchor="end" transform="rotate(-35 ${lx} ${ly})">${label}<title>${g.label}</title></text>`;
  });
  const grid = ticks.map(
    (t) =>
      h`<line x1="${BAR_MARGIN.left}" x2="${width - BAR_MARGIN.right}" y1="${r1(y(t))}" y2="${r1(y(t))}" stroke="#e3e3e3"/><text x="${BAR_MARGIN.left - 4}" y="${r1(y(t) + 3)}" font-size="9" text-anchor="end">${text(t, 0)}</text>`,
  );
  return h`<svg class="chart ${className}" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg"><title>${title}</title>${grid}${bars}</svg>`;
}

export interface PValueSeries {
  label: string;
  points: readonly { time: number; p: number | null; window: string }[];
}

export interface PValueChartOptions {
  title: string;
  series: readonly PValueSeries[];
  alpha: number;
  className: string;
  width?: number;
  height?: number;
}

/** Smallest p drawn: anything below sits on the floor line (the table shows the exact value). */
export const P_FLOOR = 1e-8;
const LINE_MARGIN = { left: 46, right: 10, top: 10, bottom: 28 };

/** p-values over time, one line per feature, log10 y axis from 1 down to P_FLOOR, alpha dashed. */
export function pValueChart({ title, series, alpha, className, width = 560, height = 220 }: PValueChartOptions): Html {
  const plotW = width - LINE_MARGIN.left - LINE_MARGIN.right;
  const plotH = height - LINE_MARGIN.top - LINE_MARGIN.bottom;
  const times = series.flatMap((s) => s.points.map((p) => p.time));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const x = (t: number) => LINE_MARGIN.left + (t1 === t0 ? plotW / 2 : ((t - t0) / (t1 - t0)) * plotW);
  const decades = -Math.log10(P_FLOOR);
  const y = (p: number) => LINE_MARGIN.top + (Math.min(decades, -Math.log10(Math.max(p, P_FLOOR))) / decades) * plotH;
  const ticks = [1, 1e-2, 1e-4, 1e-6, 1e-8];
  const grid = ticks.map(
    (t) =>
      h`<line x1="${LINE_MARGIN.left}" x2="${width - LINE_MARGIN.right}" y1="${r1(y(t))}" y2="${r1(y(t))}" stroke="#e3e3e3"/><text x="${LINE_MARGIN.left - 4}" y="${r1(y(t) + 3)}" font-size="9" text-anchor="end">${t === 1 ? "1" : `1e${Math.log10(t)}`}</text>`,
  );
  const lines = series.map((s, i) => {
    const color = SERIES_COLORS[i % SERIES_COLORS.length]!;
    const drawn = s.points.filter((p): p is { time: number; p: number; window: string } => p.p !== null && Number.isFinite(p.p));
    const path = drawn.map((p, j) => `${j === 0 ? "M" : "L"}${r1(x(p.time))},${r1(y(p.p))}`).join(" ");
    const dots = drawn.map(
      (p) => h`<circle cx="${r1(x(p.time))}" cy="${r1(y(p.p))}" r="2.5" fill="${color}"><title>${s.label} ${p.window}: p = ${formatP(p.p)}</title></circle>`,
    );
    return h`<g class="series" data-feature="${s.label}">${path ? h`<path d="${path}" fill="none" stroke="${color}" stroke-width="1.5"/>` : ""}${dots}</g>`;
  });
  const axis = [t0, t1].filter((t, i, all) => all.indexOf(t) === i);
  const timeLabels = axis.map(
    (t) => h`<text x="${r1(x(t))}" y="${height - 10}" font-size="9" text-anchor="${t === t0 && t1 !== t0 ? "start" : t === t1 && t1 !== t0 ? "end" : "middle"}">${shortTime(t)}</text>`,
  );
  const ay = r1(y(alpha));
  return h`<svg class="chart ${className}" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg"><title>${title}</title>${grid}<line class="alpha" x1="${LINE_MARGIN.left}" x2="${width - LINE_MARGIN.right}" y1="${ay}" y2="${ay}" stroke="#b00020" stroke-dasharray="4 3"><title>alpha = ${alpha}</title></line><text x="${width - LINE_MARGIN.right}" y="${r1(ay - 3)}" font-size="9" text-anchor="end" fill="#b00020">alpha ${alpha}</text>${lines}${timeLabels}</svg>`;
}

/** A colour key for the p-value chart, in the same order as its series. */
export function seriesLegend(labels: readonly string[]): Html {
  return h`<ul class="legend">${labels.map((l, i) => h`<li><span class="swatch" style="background:${SERIES_COLORS[i % SERIES_COLORS.length]}"></span>${l}</li>`)}</ul>`;
}

/** The smallest 1, 2, 2.5 or 5 times a power of ten at or above v (1 for nothing to show). */
export function roundAbove(v: number): number {
  if (!(v > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= v * (1 - 1e-12)) return m * power;
  return 10 * power;
}

/** Three significant digits, plain notation down to 1e-4. */
export function significant(v: number): string {
  if (v === 0) return "0";
  return Math.abs(v) >= 1e-4 ? String(Number(v.toPrecision(3))) : v.toExponential(2);
}

export function pct(share: number, digits = 1): string {
  return `${(share * 100).toFixed(digits)}%`;
}

export function formatP(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return "–";
  if (p === 0) return "0";
  return p < 1e-3 ? p.toExponential(1) : p.toFixed(3);
}

/** "11-30 14:00" in UTC: enough to tell hourly windows apart on an axis. */
export function shortTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

export function windowLabel(r: { windowStart: string; windowEnd: string }): string {
  const sameDay = r.windowStart.slice(0, 10) === r.windowEnd.slice(0, 10);
  return `window ${shortIso(r.windowStart)}–${sameDay ? r.windowEnd.slice(11, 16) : shortIso(r.windowEnd)} UTC`;
}

export function shortIso(iso: string): string {
  return iso.length >= 16 ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : iso;
}
