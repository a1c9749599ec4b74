/**
 * Small hand-written SVG line plots on the unit square (ROC, reliability diagram): no dependency,
 * coordinates rounded to 0.01 px so the same data always gives byte-identical files.
 */

export interface PlotSeries {
  label: string;
  points: readonly (readonly [number, number])[];
  color: string;
  dashed?: boolean;
  /** Draw a circle at every point (for binned data such as calibration). */
  markers?: boolean;
  /** Written as the path's class, so tests and styles can find the series. */
  className: string;
}

export interface UnitPlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly PlotSeries[];
}

const SIZE = 420;
const MARGIN = { left: 58, right: 16, top: 40, bottom: 52 };
const PLOT_W = SIZE - MARGIN.left - MARGIN.right;
const PLOT_H = SIZE - MARGIN.top - MARGIN.bottom;
const TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1];

export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function fmt(n: number): string {
  const r = Math.round(n * 100) / 100;
  return Object.is(r, -0) ? "0" : String(r);
}

const px = (x: number) => MARGIN.left + Math.min(1, Math.max(0, x)) * PLOT_W;
const py = (y: number) => MARGIN.top + (1 - Math.min(1, Math.max(0, y))) * PLOT_H;

/**
 * Path data through the points, in rounded pixels. Points that round onto the previous one, and the
 * middle of three points along one horizontal or vertical run (common on ROC curves), are left out.
 */
export function pathData(points: readonly (readonly [number, number])[]): string {
  const kept: [number, number][] = [];
  for (const [x, y] of points) {
    const p: [number, number] = [Number(fmt(px(x))), Number(fmt(py(y)))];
    const last = kept[kept.length - 1];
    if (last && last[0] === p[0] && last[1] === p[1]) continue;
    const before = kept[kept.length - 2];
    if (last && before && (onRun(before, last, p, 0) || onRun(before, last, p, 1))) kept.pop();
    kept.push(p);
  }
  return kept.map(([x, y], i) => `${i === 0 ? "M" : "L"}${x} ${y}`).join(" ");
}

/** b lies between a and c on a line where coordinate `axis` is constant. */
function onRun(a: [number, number], b: [number, number], c: [number, number], axis: 0 | 1): boolean {
  const other = 1 - axis;
  return a[axis] === b[axis] && b[axis] === c[axis] && (b[other]! - a[other]!) * (c[other]! - b[other]!) >= 0;
}

function axes(xLabel: string, yLabel: string): string[] {
  const out: string[] = [];
  const x0 = MARGIN.left;
  const y0 = MARGIN.top + PLOT_H;
  for (const t of TICKS) {
    out.push(`<line class="grid" x1="${fmt(px(t))}" y1="${MARGIN.top}" x2="${fmt(px(t))}" y2="${y0}"/>`);
    out.push(`<line class="grid" x1="${x0}" y1="${fmt(py(t))}" x2="${x0 + PLOT_W}" y2="${fmt(py(t))}"/>`);
    out.push(`<line class="tick" x1="${fmt(px(t))}" y1="${y0}" x2="${fmt(px(t))}" y2="${y0 + 5}"/>`);
    out.push(`<line class="tick" x1="${x0 - 5}" y1="${fmt(py(t))}" x2="${x0}" y2="${fmt(py(t))}"/>`);
    out.push(`<text x="${fmt(px(t))}" y="${y0 + 18}" text-anchor="middle">${t.toFixed(1)}</text>`);
    out.push(`<text x="${x0 - 9}" y="${fmt(py(t) + 4)}" text-anchor="end">${t.toFixed(1)}</text>`);
  }
  out.push(`<rect class="frame" x="${x0}" y="${MARGIN.top}" width="${PLOT_W}" height="${PLOT_H}"/>`);
  out.push(`<text x="${fmt(x0 + PLOT_W / 2)}" y="${SIZE - 12}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  const cy = fmt(MARGIN.top + PLOT_H / 2);
  out.push(`<text x="16" y="${cy}" text-anchor="middle" transform="rotate(-90 16 ${cy})">${escapeXml(yLabel)}</text>`);
  return out;
}

function legend(series: readonly PlotSeries[]): string[] {
  const out: string[] = [];
  const x = MARGIN.left + PLOT_W - 150;
  series.forEach((s, i) => {
    const y = MARGIN.top + PLOT_H - 14 - (series.length - 1 - i) * 18;
    const dash = s.dashed ? ' stroke-dasharray="5 4"' : "";
    out.push(`<line x1="${x}" y1="${y}" x2="${x + 22}" y2="${y}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${x + 28}" y="${y + 4}">${escapeXml(s.label)}</text>`);
  });
  return out;
}

/** The opening of a plot: root element, title (also as a tooltip), style, white background. */
function svgHead(width: number, height: number, title: string, style: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<style>${style}</style>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${fmt(width / 2)}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
}

export function unitSquarePlot(options: UnitPlotOptions): string {
  const lines = [...svgHead(SIZE, SIZE, options.title, ".grid{stroke:#e5e5e5}.tick,.frame{stroke:#333;fill:none}text{fill:#222}"), ...axes(options.xLabel, options.yLabel)];
  for (const s of options.series) {
    const dash = s.dashed ? ' stroke-dasharray="5 4"' : "";
    lines.push(`<path class="${s.className}" d="${pathData(s.points)}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    if (s.markers)
      for (const [x, y] of s.points)
        lines.push(`<circle class="${s.className}-point" cx="${fmt(px(x))}" cy="${fmt(py(y))}" r="3.5" fill="${s.color}"/>`);
  }
  lines.push(...legend(options.series), "</svg>");
  return `${lines.join("\n")}\n`;
}

export interface HorizontalBar {
  label: string;
  /** At least 0; the longest bar spans the plot. */
  value: number;
}

export interface HorizontalBarOptions {
  title: string;
  xLabel: string;
  bars: readonly HorizontalBar[];
  color: string;
  /** Written as each bar's class, so tests and styles can find them. */
  className: string;
}

const BAR_ROW = 26;
const BAR_MARGIN = { left: 150, right: 70, top: 40, bottom: 48 };
const BAR_PLOT_W = 560 - BAR_MARGIN.left - BAR_MARGIN.right;

/** Bars from a common zero line, one row each in the order given, each with its value written at its end. */
export function horizontalBarPlot(options: HorizontalBarOptions): string {
  const width = BAR_MARGIN.left + BAR_PLOT_W + BAR_MARGIN.right;
  const height = BAR_MARGIN.top + options.bars.length * BAR_ROW + BAR_MARGIN.bottom;
  const max = Math.max(0, ...options.bars.map((b) => b.value));
  const length = (v: number) => (max > 0 ? (Math.max(0, v) / max) * BAR_PLOT_W : 0);
  const x0 = BAR_MARGIN.left;
  const lines = svgHead(width, height, options.title, ".axis{stroke:#333}text{fill:#222}");
  options.bars.forEach((bar, i) => {
    const y = BAR_MARGIN.top + i * BAR_ROW;
    const w = length(bar.value);
    lines.push(`<text x="${x0 - 8}" y="${fmt(y + BAR_ROW / 2 + 4)}" text-anchor="end">${escapeXml(bar.label)}</text>`);
    lines.push(`<rect class="${options.className}" x="${x0}" y="${fmt(y + 4)}" width="${fmt(w)}" height="${BAR_ROW - 8}" fill="${options.color}"/>`);
    lines.push(`<text x="${fmt(x0 + w + 6)}" y="${fmt(y + BAR_ROW / 2 + 4)}">${significant(bar.value)}</text>`);
  });
  const bottom = BAR_MARGIN.top + options.bars.length * BAR_ROW;
  lines.push(`<line class="axis" x1="${x0}" y1="${BAR_MARGIN.top}" x2="${x0}" y2="${bottom}"/>`);
  lines.push(`<text x="${fmt(x0 + BAR_PLOT_W / 2)}" y="${bottom + 30}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  lines.push("</svg>");
  return `${lines.join("\n")}\n`;
}

/** Three significant digits, plain notation down to 1e-4. */
export function significant(v: number): string {
  if (v === 0) return "0";
  return Math.abs(v) >= 1e-4 ? String(Number(v.toPrecision(3))) : v.toExponential(2);
}
