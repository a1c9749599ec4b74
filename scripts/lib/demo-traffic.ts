/**
 * Traffic and cron over plain HTTP against a running Worker (`npm start` or a wrangler dev the
 * script started), shared by `npm run demo:drift` and `npm run test:browser`: the served model's
 * manifest, prediction batches, the cron fired through wrangler dev's scheduled handler, and the
 * drift report read back from GET /monitoring/models/:name/drift.
 */
import type { ChurnRow } from "../../trainer/data/synthetic";
import type { DriftReport } from "../../worker/monitoring/drift-report-types";

/** wrangler.toml's cron expression; the job reports the last complete window before `time`. */
export const CRON = "5 * * * *";
const HOUR_MS = 3_600_000;

export interface ServedModel {
  name: string;
  version: number;
  features: string[];
  /** monitoring.window_hours of the version's manifest (24 when absent). */
  windowHours: number;
  /** monitoring.sample_rate of the manifest, or null when the Worker's SAMPLE_RATE applies. */
  sampleRate: number | null;
  minSamples: number;
  psiThreshold: number;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return (await res.json()) as T;
}

/** The version the alias serves and what its manifest says about features and monitoring. */
export async function servedModel(base: string, name: string, alias = "production"): Promise<ServedModel> {
  const model = await getJson<{ aliases: Record<string, number> }>(`${base}/models/${encodeURIComponent(name)}`);
  const version = model.aliases[alias];
  if (version === undefined) throw new Error(`model ${name} has no ${alias} alias (aliases: ${JSON.stringify(model.aliases)})`);
  const detail = await getJson<{ manifest: { features: { name: string }[]; monitoring?: Record<string, number | undefined> } }>(
    `${base}/models/${encodeURIComponent(name)}/versions/${version}`,
  );
  const monitoring = detail.manifest.monitoring ?? {};
  return {
    name,
    version,
    features: detail.manifest.features.map((f) => f.name),
    windowHours: monitoring.window_hours ?? 24,
    sampleRate: monitoring.sample_rate ?? null,
    minSamples: monitoring.min_samples ?? 100,
    psiThreshold: monitoring.psi_threshold ?? 0.1,
  };
}

/** The generator's rows reduced to the model's features (no label), as a client sends them. */
export function requestRows(rows: readonly ChurnRow[], features: readonly string[]): Record<string, unknown>[] {
  return rows.map((row) => Object.fromEntries(features.map((f) => [f, (row as unknown as Record<string, unknown>)[f] ?? null])));
}

/**
 * POSTs the rows in batches of `batch` to /models/:name/predict, `concurrency` requests at a time.
 * Batches of SAMPLE_MAX_ROWS_PER_REQUEST (10) rows are sampled whole, so the sampled share of rows
 * equals the sampling rate.
 */
export async function sendRows(base: string, name: string, rows: readonly Record<string, unknown>[], options: { batch?: number; concurrency?: number } = {}): Promise<number> {
  const { batch = 10, concurrency = 4 } = options;
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < rows.length; i += batch) batches.push(rows.slice(i, i + batch));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const body = JSON.stringify({ instances: batches[next++] });
      const res = await fetch(`${base}/models/${encodeURIComponent(name)}/predict`, { method: "POST", headers: { "content-type": "application/json" }, body });
      if (res.status !== 200) throw new Error(`predict answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return batches.length;
}

/** End of the window holding `now`: windows are window_hours long, aligned to the epoch (UTC). */
export function currentWindow(now: number, windowHours: number): { startMs: number; endMs: number } {
  const length = windowHours * HOUR_MS;
  const startMs = Math.floor(now / length) * length;
  return { startMs, endMs: startMs + length };
}

/**
 * Fires the Worker's `scheduled` in wrangler dev (with or without --test-scheduled) as if the cron
 * ran at `time`; the handler awaits the whole job, so the reports are written when this returns.
 */
export async function fireCron(base: string, time: number): Promise<void> {
  const url = `${base}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(CRON)}&time=${time}`;
  const res = await fetch(url);
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${text.slice(0, 300)}`);
}

/** The version's report for the window starting at `windowStart`, from the JSON route. */
export async function reportFor(base: string, name: string, version: number, windowStart: number): Promise<DriftReport> {
  const listing = await getJson<{ history: { version: number; window_start: string; report: DriftReport | null }[] }>(
    `${base}/monitoring/models/${encodeURIComponent(name)}/drift?version=${version}&limit=5`,
  );
  const start = new Date(windowStart).toISOString();
  const row = listing.history.find((r) => r.version === version && r.window_start === start);
  if (!row?.report) throw new Error(`no drift report for ${name} v${version} window ${start} (reports: ${listing.history.map((r) => r.window_start).join(", ") || "none"})`);
  return row.report;
}

/** The per-feature table as plain text, as the dashboard shows it. */
export function formatReport(report: DriftReport): string {
  const p = (v: number | null | undefined) => (v === null || v === undefined ? "–" : v < 1e-3 ? v.toExponential(1) : v.toFixed(3));
  const n = (v: number | null) => (v === null ? "–" : v.toFixed(3));
  const lines = [
    `${report.model} v${report.version}  window ${report.window.start} → ${report.window.end}  status ${report.status}${report.reason ? ` (${report.reason})` : ""}`,
    `samples ${report.samples.total} (${Object.entries(report.samples.by_arm).map(([a, c]) => `${a} ${c}`).join(", ") || "none"}); alpha ${report.settings.alpha}, PSI threshold ${report.settings.psi_threshold}, correction ${report.settings.correction}`,
    "",
    `${"feature".padEnd(18)} ${"test".padEnd(5)} ${"statistic".padStart(9)} ${"p".padStart(8)} ${"p adj".padStart(8)} ${"PSI".padStart(6)} ${"n ref/cur".padStart(11)}  flag`,
  ];
  for (const f of report.features) {
    lines.push(
      `${f.name.padEnd(18)} ${f.test.padEnd(5)} ${n(f.statistic).padStart(9)} ${p(f.p_value).padStart(8)} ${p(f.p_value_adjusted).padStart(8)} ${n(f.psi).padStart(6)} ${`${f.reference_n}/${f.current_n}`.padStart(11)}  ${f.status === "drift" ? "DRIFT" : f.status}`,
    );
  }
  const s = report.predictions;
  if (s) lines.push("", `scores: KS p ${p(s.ks?.p_value)}, PSI ${n(s.psi)}, positive rate ${s.positive_rate.reference?.toFixed(3) ?? "–"} → ${s.positive_rate.current?.toFixed(3) ?? "–"}, ${s.status}`);
  const a = report.attribution;
  if (a?.status === "error") lines.push("", `attribution: not computed (${a.reason})`);
  if (a?.status === "ok") {
    const m = (v: number | null) => (v === null ? "–" : v.toFixed(4));
    lines.push("", `attribution: mean |contribution| (${a.space}), reference ${a.reference ? `${a.reference.rows} ${a.reference.split} rows` : "none"} → current ${a.rows} of ${a.window_rows} sampled rows`);
    for (const f of a.features) lines.push(`  ${f.name.padEnd(18)} ${m(f.reference).padStart(8)} → ${m(f.current)}`);
  }
  return lines.join("\n");
}

/**
 * Fires the cron and reads its report until two reports a second apart count the same sampled
 * rows: sampled rows reach D1 through the observation queue (deliveries of up to 1 s), so the
 * first report after the traffic may miss the last of them. Throws after `tries` seconds.
 */
export async function settledReport(fire: () => Promise<void>, read: () => Promise<DriftReport>, tries = 20): Promise<DriftReport> {
  let last: DriftReport | null = null;
  for (let i = 0; i < tries; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    await fire();
    const current = await read();
    if (last && current.samples.total === last.samples.total) return current;
    last = current;
  }
  throw new Error(`sampled rows were still arriving ${tries} s after the traffic stopped: is the queue consumer running?`);
}
