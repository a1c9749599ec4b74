/**
 * What one prediction request adds to the counters: rows by outcome, high-risk rows, latency, and
 * for a failure its error code. Plain functions over a MetricBuffer, no HTTP.
 */
import { sortTiers } from "../contract/decision";
import type { Manifest } from "../contract/manifest";
import type { ErrorCode } from "../errors";
import type { RowPrediction } from "../scoring/predict-rows";
import { canonicalLabels } from "./exposition";
import { FAMILIES, LATENCY_BUCKETS, LATENCY_BUCKET_NAME, LATENCY_SUM_NAME } from "./families";
import type { MetricBuffer } from "./metric-buffer";

export interface ServedMetrics {
  name: string;
  version: number;
  arm: string;
  manifest: Manifest;
  predictions: readonly RowPrediction[];
  latencySeconds: number;
}

const highestTier = new WeakMap<Manifest, string>();

/** The manifest's highest risk tier (largest lower bound), computed once per compiled manifest. */
export function highestTierOf(manifest: Manifest): string {
  let tier = highestTier.get(manifest);
  if (tier === undefined) {
    tier = sortTiers(manifest.output.risk_tiers)[0]!.name;
    highestTier.set(manifest, tier);
  }
  return tier;
}

const BUCKET_BOUNDS = [...LATENCY_BUCKETS.map(String), "+Inf"];

/** Index into BUCKET_BOUNDS of the one bucket an observation falls in (stored per bucket, summed cumulatively on a scrape). */
export function latencyBucket(seconds: number): number {
  for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= LATENCY_BUCKETS[i]!) return i;
  return LATENCY_BUCKETS.length;
}

interface ServedLabels {
  success: string;
  modelVersion: string;
  /** Per BUCKET_BOUNDS index. */
  buckets: string[];
}

/**
 * Canonical label text per (model, version, arm), built once: building and escaping it was most of
 * the observer's per-request cost (scripts/bench-metrics.ts). Bounded; cleared when full.
 */
const servedLabels = new Map<string, ServedLabels>();
const MAX_MEMO = 256;

function labelsOf(model: string, version: string, arm: string): ServedLabels {
  const key = `${model}\u0000${version}\u0000${arm}`;
  let hit = servedLabels.get(key);
  if (!hit) {
    if (servedLabels.size >= MAX_MEMO) servedLabels.clear();
    hit = {
      success: canonicalLabels({ model, version, arm, outcome: "success" }),
      modelVersion: canonicalLabels({ model, version }),
      buckets: BUCKET_BOUNDS.map((le) => canonicalLabels({ model, version, le })),
    };
    servedLabels.set(key, hit);
  }
  return hit;
}

export function recordServed(buffer: MetricBuffer, served: ServedMetrics): void {
  const labels = labelsOf(served.name, String(served.version), served.arm);
  const tier = highestTierOf(served.manifest);
  let high = 0;
  for (const p of served.predictions) if (p.risk_tier === tier) high++;
  buffer.add(FAMILIES.predictions.name, labels.success, served.predictions.length);
  buffer.add(FAMILIES.highRisk.name, labels.modelVersion, high);
  const seconds = Math.max(0, served.latencySeconds);
  buffer.add(LATENCY_BUCKET_NAME, labels.buckets[latencyBucket(seconds)]!, 1);
  // A zero sum adds nothing; the scrape prints _sum 0 for a series that has buckets.
  buffer.add(LATENCY_SUM_NAME, labels.modelVersion, seconds);
}

export interface FailedTarget {
  name: string;
  version: number;
  arm: string;
}

/** A failed prediction request: its code always, and its model's outcome when the target resolved. */
export function recordFailure(buffer: MetricBuffer, code: ErrorCode, status: number, target?: FailedTarget): void {
  buffer.add(FAMILIES.errors.name, { code }, 1);
  if (target) recordFailedTarget(buffer, status, target);
}

export function recordFailedTarget(buffer: MetricBuffer, status: number, target: FailedTarget): void {
  const outcome = status >= 500 ? "server_error" : "client_error";
  buffer.add(FAMILIES.predictions.name, { model: target.name, version: String(target.version), arm: target.arm, outcome }, 1);
}
