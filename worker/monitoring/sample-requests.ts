/**
 * Request sampling for monitoring: after a prediction answered, decide once per request whether its
 * rows go to request_samples, and write them after the response (`waitUntil`). Sampling never
 * delays a response and never fails one: a D1 error is counted (samplingStats) and logged.
 */
import { normalizeCategory } from "../contract/category-value";
import type { Manifest } from "../contract/manifest";
import type { PredictResult } from "../predict/predict-rows";
import type { VersionRef } from "../registry/version-ref";
import type { Services } from "../services";
import type { Settings } from "../settings";
import { type SampleRecord, sampleWindow, writeSamples } from "./sample-store";

export interface PredictionToSample {
  requestId: string;
  ref: VersionRef;
  /** The request's rows as sent (they passed validation, or there would be no result). */
  rows: readonly unknown[];
  result: PredictResult;
  /** Date.now() taken just before predictRows. */
  startedAt: number;
}

/**
 * The sampling rate for a model version. The hook for a per-model rate: the manifest's coming
 * `monitoring:` section overrides the Worker-wide SAMPLE_RATE here, and nowhere else.
 */
export function sampleRateFor(settings: Settings, _manifest: Manifest): number {
  return settings.sampling.rate;
}

/**
 * Until traffic splitting exists, the arm is what the request asked for: "production" for the
 * default alias, the alias name for another alias, "version" for an explicit version.
 */
export function armOf(ref: VersionRef, defaultAlias: string): string {
  if ("version" in ref) return "version";
  return ref.alias === defaultAlias ? "production" : ref.alias;
}

/**
 * Call right after predictRows. Latency is Date.now() wall time around the prediction; workerd
 * stands its clocks still during CPU work, so it covers I/O (D1, R2) and not inference compute.
 */
export function recordSample(services: Pick<Services, "db" | "settings" | "waitUntil">, input: PredictionToSample): void {
  const now = Date.now();
  const { settings } = services;
  const rate = sampleRateFor(settings, input.result.manifest);
  if (rate <= 0 || randomUnits(1)[0]! >= rate) return;
  const records = buildRecords(input, settings, now);
  services.waitUntil(
    writeSamples(services.db, records, { windowCap: settings.sampling.windowCap }).catch((error: unknown) => {
      console.error(
        JSON.stringify({
          level: "error",
          where: "request_samples",
          request_id: input.requestId,
          model: input.result.name,
          version: input.result.version,
          rows: records.length,
          error: String(error),
        }),
      );
    }),
  );
}

function buildRecords(input: PredictionToSample, settings: Settings, now: number): SampleRecord[] {
  const { result } = input;
  const chosen = chooseRows(result.predictions.length, settings.sampling.maxRowsPerRequest);
  const keys = randomUnits(chosen.length);
  const arm = armOf(input.ref, settings.defaultAlias);
  const createdAt = new Date(now).toISOString();
  const window = sampleWindow(now);
  const latencyMs = Math.max(0, now - input.startedAt);
  return chosen.map((i, k) => ({
    modelName: result.name,
    version: result.version,
    arm,
    requestId: input.requestId,
    rowIndex: i,
    features: JSON.stringify(featuresOf(result.manifest, input.rows[i])),
    probability: result.probabilities[i * 2 + 1]!,
    prediction: result.predictions[i]!.prediction,
    riskTier: result.predictions[i]!.risk_tier,
    latencyMs,
    createdAt,
    window,
    sampleKey: keys[k]!,
  }));
}

/**
 * The values the model saw: only the manifest's features (stray client fields never land in D1),
 * categories normalised by the serving rule so drift counts " One year" as "One year", absent as null.
 */
function featuresOf(manifest: Manifest, row: unknown): Record<string, unknown> {
  const values = row as Record<string, unknown>;
  return Object.fromEntries(
    manifest.features.map((f) => {
      const value = Object.hasOwn(values, f.name) ? values[f.name] : null;
      return [f.name, typeof value === "string" ? normalizeCategory(value) : value];
    }),
  );
}

/** Up to `max` distinct row indices out of `n`, uniformly (partial Fisher–Yates), ascending. */
export function chooseRows(n: number, max: number): number[] {
  const indices = Array.from({ length: n }, (_, i) => i);
  if (n <= max) return indices;
  const u = randomUnits(max);
  for (let i = 0; i < max; i++) {
    const j = i + Math.floor(u[i]! * (n - i));
    [indices[i], indices[j]] = [indices[j]!, indices[i]!];
  }
  return indices.slice(0, max).sort((a, b) => a - b);
}

/** Uniform numbers in [0, 1) with 53 random bits each, from the platform's CSPRNG. */
function randomUnits(count: number): number[] {
  const words = crypto.getRandomValues(new Uint32Array(count * 2));
  return Array.from({ length: count }, (_, i) => (words[2 * i]! * 2 ** 21 + (words[2 * i + 1]! >>> 11)) / 2 ** 53);
}
