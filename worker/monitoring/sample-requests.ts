/**
 * Request sampling for monitoring: after a prediction answered, decide once per request whether its
 * rows go to request_samples. The rows leave through the observation queue in the request's
 * waitUntil (observation-messages.ts) and the queue consumer writes them, so sampling never delays
 * or fails a response, and a quiet or evicted isolate holds nothing back.
 */
import { normalizeCategory } from "../contract/category-value";
import { type Manifest, monitoringOf } from "../contract/manifest";
import type { PredictResult } from "../scoring/predict-rows";
import type { VersionRef } from "../registry/version-ref";
import type { Settings } from "../settings";
import { type SampleRecord, sampleWindow } from "./sample-store";

export interface PredictionToSample {
  requestId: string;
  /** The client's own x-request-id, stored beside the Worker's id (never a join key by itself). */
  clientRequestId?: string | null;
  /** Which traffic arm answered (armOf): production, canary, shadow, version or another alias. */
  arm: string;
  /** The request's rows as sent (they passed validation, or there would be no result). */
  rows: readonly unknown[];
  result: PredictResult;
  /** Date.now() taken just before predictRows. */
  startedAt: number;
  /** Overrides now − startedAt (a shadow scored later in the queue consumer records its own scoring time). */
  latencyMs?: number;
  /** The request's row index of each of `rows` when they are a subset (a shadow scores only what it stores); default: the position. */
  rowIndices?: readonly number[];
}

/**
 * The sampling rate for a model version: the manifest's `monitoring.sample_rate` (from config.yaml
 * at training) when it sets one, else the Worker's SAMPLE_RATE. SAMPLE_RATE=0 switches sampling off
 * for every model whatever its manifest says, so an operator has one switch when D1 is in trouble.
 */
export function sampleRateFor(settings: Settings, manifest: Manifest): number {
  if (settings.sampling.rate === 0) return 0;
  let own = manifestRates.get(manifest);
  if (own === undefined) {
    own = monitoringOf(manifest).sample_rate ?? null;
    manifestRates.set(manifest, own);
  }
  return own ?? settings.sampling.rate;
}

// A compiled version keeps its manifest object, so its own rate is parsed once per isolate.
const manifestRates = new WeakMap<Manifest, number | null>();

/**
 * The arm a request is recorded under: an explicit version is "version", another alias its name
 * (`alias:shadow` for the names below);
 * a request through the default alias is "production", or "canary" when the traffic split sent it
 * to the canary version (the shadow's own scores are recorded as "shadow", see worker/traffic).
 */
export function armOf(ref: VersionRef, defaultAlias: string, routed: "primary" | "canary" | null = null): string {
  if ("version" in ref) return "version";
  if (ref.alias !== defaultAlias) return OTHER_ARMS.has(ref.alias) ? `alias:${ref.alias}` : ref.alias;
  return routed === "canary" ? "canary" : "production";
}

/**
 * Arm names that mean something else: the shadow's own scores, requests by version number, the
 * default alias's primary. An explicit ?alias= with one of these names (the traffic policy keeps
 * its shadow as the alias "shadow") is recorded as `alias:<name>`, so its rows never mix with that arm's.
 */
const OTHER_ARMS = new Set(["shadow", "version", "production"]);

/**
 * Call right after predictRows: decides once per request whether its rows are sampled. Returns the
 * sampled row indices and their records (the caller sends them through the observation queue with
 * whatever else the request produced, in one sendBatch), or null when the request was not sampled.
 * Latency is Date.now() wall time around the prediction; workerd stands its clocks still during
 * CPU work, so it covers I/O (D1, R2) and not inference compute.
 */
export function sampleRequest(settings: Settings, input: PredictionToSample): { rows: number[]; records: SampleRecord[] } | null {
  const rate = sampleRateFor(settings, input.result.manifest);
  // Math.random for the per-request draw: crypto.getRandomValues costs ~10 µs a call in workerd,
  // paid by every request; the sampled rows' reservoir keys still come from the CSPRNG.
  if (rate <= 0 || Math.random() >= rate) return null;
  const rows = chooseRows(input.result.predictions.length, settings.sampling.maxRowsPerRequest);
  return { rows, records: sampleRecords(input, rows) };
}

/** The request_samples rows of `chosen` (indices into input.rows), stamped now. */
export function sampleRecords(input: PredictionToSample, chosen: readonly number[], now = Date.now()): SampleRecord[] {
  return buildRecords(input, chosen, now);
}

function buildRecords(input: PredictionToSample, chosen: readonly number[], now: number): SampleRecord[] {
  const { result } = input;
  const keys = randomUnits(chosen.length);
  const createdAt = new Date(now).toISOString();
  const window = sampleWindow(now);
  const latencyMs = input.latencyMs ?? Math.max(0, now - input.startedAt);
  return chosen.map((i, k) => ({
    modelName: result.name,
    version: result.version,
    arm: input.arm,
    requestId: input.requestId,
    clientRequestId: input.clientRequestId ?? null,
    rowIndex: input.rowIndices?.[i] ?? i,
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
