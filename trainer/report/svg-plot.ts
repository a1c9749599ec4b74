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

export function unitSquarePlot(options: UnitPlotOptions): string {
  const lines = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(options.title)}</title>`,
    "<style>.grid{stroke:#e5e5e5}.tick,.frame{stroke:#333;fill:none}text{fill:#222}</style>",
    `<rect width="${SIZE}" height="${SIZE}" fill="#fff"/>`,
    `<text x="${SIZE / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
    ...axes(options.xLabel, options.yLabel),
  ];
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
