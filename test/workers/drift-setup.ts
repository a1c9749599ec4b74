/**
 * Drift cron test setup in real D1/R2: a reference.json built by the trainer's own builder from
 * generated customers scored by the served model, sampled rows written through writeSamples, and
 * the Worker's `scheduled` fired with a controller (SELF.scheduled is broken in pool 0.15.1).
 */
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { type ChurnRow, type DriftSpec, generateChurnRows } from "../../trainer/data/synthetic";
import { Rng } from "../../trainer/random";
import { buildDriftReference } from "../../trainer/report/drift-reference";
import { reaches } from "../../worker/contract/decision";
import { type FeatureRow, type Manifest, riskTier } from "../../worker/contract/manifest";
import worker from "../../worker/index";
import { type SampleRecord, sampleWindow, writeSamples } from "../../worker/monitoring/sample-store";
import { artifactKey } from "../../worker/registry/r2-keys";
import { openDb } from "../../worker/db/open-db";
import { observationsSettled, requestApp } from "./helpers";

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** A fixed cron time: 00:05 UTC on 10 Jan 2026, so a 24-hour window is all of 9 Jan. */
export const SCHEDULED = Date.UTC(2026, 0, 10, 0, 5);
export const WINDOW_START = "2026-01-09T00:00:00.000Z";
export const WINDOW_END = "2026-01-10T00:00:00.000Z";

const BATCH = 50;

/** POSTs a request through the Worker with the given vars (sampling off unless asked). */
export function callWorker(path: string, init: RequestInit = {}, vars: Record<string, string> = {}) {
  return requestApp(path, init, { SAMPLE_RATE: "0", ...vars });
}

/** Positive-class probabilities the served model gives the rows, in order. */
export async function scoreRows(name: string, rows: readonly FeatureRow[], vars: Record<string, string> = {}): Promise<number[]> {
  const scores: number[] = [];
  for (let i = 0; i < rows.length; i += BATCH) {
    const res = await callWorker(
      `/models/${name}/predict`,
      { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ instances: rows.slice(i, i + BATCH) }) },
      vars,
    );
    if (res.status !== 200) throw new Error(`predict answered ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { predictions: { churn_probability: number }[] };
    scores.push(...body.predictions.map((p) => p.churn_probability));
  }
  // Sampled rows reach D1 through the observation queue.
  await observationsSettled();
  return scores;
}

/** Generated customers with only the manifest's features (clean cells, as validated requests are). */
export function customers(manifest: Manifest, options: { rows: number; seed: string; drift?: DriftSpec; edit?: (row: ChurnRow) => void }): FeatureRow[] {
  return generateChurnRows({ rows: options.rows, seed: options.seed, drift: options.drift }).map((row) => {
    options.edit?.(row);
    return Object.fromEntries(manifest.features.map((f) => [f.name, row[f.name as keyof ChurnRow] as FeatureRow[string]]));
  });
}

/** Builds reference.json with the trainer's builder from rows the model scores, and stores it in R2. */
export async function putReference(name: string, version: number, manifest: Manifest, rows: FeatureRow[], sampleSize = 1000) {
  const scores = await scoreRows(name, rows);
  const reference = buildDriftReference({
    features: manifest.features,
    rows,
    scores: Float64Array.from(scores),
    sampleSize,
    rng: new Rng("drift-test").fork("drift-reference"),
  });
  await env.MODELS.put(artifactKey(name, version, "reference.json"), JSON.stringify(reference));
  return reference;
}

/**
 * Writes the rows as sampled predictions of the version, spread evenly over [startMs, startMs +
 * spanMs), with the model's own scores and decisions.
 */
export async function writeWindowSamples(
  name: string,
  version: number,
  manifest: Manifest,
  rows: FeatureRow[],
  options: { startMs?: number; spanMs?: number; arm?: string; sampleKey?: (i: number) => number } = {},
) {
  const scores = await scoreRows(name, rows);
  const startMs = options.startMs ?? Date.parse(WINDOW_START);
  const spanMs = options.spanMs ?? DAY_MS;
  const records: SampleRecord[] = rows.map((row, i) => {
    const at = startMs + Math.floor((i * spanMs) / rows.length);
    return {
      modelName: name,
      version,
      arm: options.arm ?? "production",
      requestId: `req-${name}-${at}-${i}`,
      clientRequestId: null,
      rowIndex: 0,
      features: JSON.stringify(row),
      probability: scores[i]!,
      prediction: reaches(scores[i]!, manifest.output.threshold),
      riskTier: riskTier(manifest, scores[i]!),
      latencyMs: 3,
      createdAt: new Date(at).toISOString(),
      window: sampleWindow(at),
      sampleKey: options.sampleKey?.(i) ?? (i + 0.5) / rows.length,
    };
  });
  const db = openDb(env.DB);
  for (let i = 0; i < records.length; i += 200) await writeSamples(db, records.slice(i, i + 200), { windowCap: 10_000 });
}

/** Fires the Worker's cron handler and waits for everything it started. */
export async function fireCron(scheduledTime = SCHEDULED, vars: Record<string, string> = {}) {
  const ctx = createExecutionContext();
  const controller = createScheduledController({ scheduledTime, cron: "5 * * * *" });
  await worker.scheduled(controller, { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
}

export interface StoredReport {
  model_name: string;
  version: number;
  window_start: string;
  window_end: string;
  status: string;
  report: string;
  alert: string | null;
  created_at: string;
  updated_at: string;
}

export async function reportsOf(name: string): Promise<StoredReport[]> {
  const { results } = await env.DB.prepare("SELECT * FROM drift_reports WHERE model_name = ? ORDER BY version, window_start").bind(name).all<StoredReport>();
  return results;
}
