/**
 * The scrape's text: every family's HELP and TYPE, counters as summed in D1, the latency
 * histogram made cumulative (stored per bucket), and the drift gauge.
 */
import { canonicalLabels, escapeHelp, type Labels, parseLabels, sampleLine } from "./exposition";
import type { DriftStatusSample } from "./drift-status";
import { FAMILIES, LATENCY_BUCKETS, LATENCY_BUCKET_NAME, LATENCY_SUM_NAME, type MetricFamily } from "./families";
import type { SeriesDelta } from "./metric-store";

const COUNTERS = [FAMILIES.predictions, FAMILIES.highRisk, FAMILIES.errors, FAMILIES.samplesWritten, FAMILIES.samplesDropped];
/** Series that print 0 before their first increment, so they exist from the first scrape (rate() needs a start). */
const ALWAYS_PRESENT: ReadonlyMap<string, readonly string[]> = new Map([
  [FAMILIES.samplesWritten.name, [""]],
  [FAMILIES.samplesDropped.name, [canonicalLabels({ reason: "reservoir" }), canonicalLabels({ reason: "write_failed" })]],
]);

export function renderMetrics(totals: readonly SeriesDelta[], drift: readonly DriftStatusSample[]): string {
  const byName = new Map<string, SeriesDelta[]>();
  for (const total of totals) {
    const list = byName.get(total.name) ?? [];
    list.push(total);
    byName.set(total.name, list);
  }
  const lines: string[] = [];
  for (const family of COUNTERS) {
    header(lines, family);
    const series = [...(byName.get(family.name) ?? [])];
    for (const labels of ALWAYS_PRESENT.get(family.name) ?? []) {
      if (!series.some((s) => s.labels === labels)) series.push({ name: family.name, labels, value: 0 });
    }
    series.sort((a, b) => (a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0));
    for (const s of series) lines.push(sampleLine(family.name, s.labels, s.value));
  }
  header(lines, FAMILIES.latency);
  renderHistogram(lines, byName.get(LATENCY_BUCKET_NAME) ?? [], byName.get(LATENCY_SUM_NAME) ?? []);
  header(lines, FAMILIES.drift);
  for (const d of drift) {
    lines.push(sampleLine(FAMILIES.drift.name, canonicalLabels({ model: d.model, version: String(d.version), feature: d.feature }), d.value));
  }
  return lines.join("\n") + "\n";
}

function header(lines: string[], family: MetricFamily): void {
  lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
}

const BOUNDS = [...LATENCY_BUCKETS.map(String), "+Inf"];

/** A stored bound no longer in LATENCY_BUCKETS still counts, under the next bound above it. */
function knownBound(le: string): string {
  if (BOUNDS.includes(le)) return le;
  return BOUNDS.find((b) => Number(b) >= Number(le)) ?? "+Inf";
}

/** Buckets are stored non-cumulative (one row per bucket an observation fell in); printed cumulative with every bound. */
function renderHistogram(lines: string[], buckets: readonly SeriesDelta[], sums: readonly SeriesDelta[]): void {
  const series = new Map<string, { labels: Labels; counts: Map<string, number>; sum: number }>();
  const entry = (labels: Record<string, string>) => {
    const key = canonicalLabels(labels);
    let found = series.get(key);
    if (!found) series.set(key, (found = { labels, counts: new Map(), sum: 0 }));
    return found;
  };
  for (const b of buckets) {
    const { le, ...rest } = parseLabels(b.labels);
    if (le === undefined) continue;
    const found = entry(rest);
    const bound = knownBound(le);
    found.counts.set(bound, (found.counts.get(bound) ?? 0) + b.value);
  }
  for (const s of sums) {
    const key = s.labels;
    // A sum without buckets cannot be (both are written by the same observation); skip it.
    if (series.has(key)) series.get(key)!.sum += s.value;
  }
  const name = FAMILIES.latency.name;
  for (const [key, s] of [...series].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    let cumulative = 0;
    for (const le of BOUNDS) {
      cumulative += s.counts.get(le) ?? 0;
      lines.push(sampleLine(`${name}_bucket`, `${key}${key ? "," : ""}le="${le}"`, cumulative));
    }
    lines.push(sampleLine(`${name}_sum`, key, s.sum), sampleLine(`${name}_count`, key, cumulative));
  }
}
