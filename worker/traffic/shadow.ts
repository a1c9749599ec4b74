/**
 * Shadow scoring: after the response, the shadow version scores the same rows (inside waitUntil, so
 * it never delays or changes the answer, and its failures are only logged). With probability
 * shadow_sample_rate a request's paired outputs go to shadow_pairs (at most
 * SAMPLE_MAX_ROWS_PER_REQUEST rows of a batch); when the request was sampled for monitoring, the
 * shadow's scores of the same rows go to request_samples under arm "shadow". A request whose
 * shadow output would be recorded nowhere is not scored at all, so the sample rate bounds the
 * shadow's CPU as well as its storage.
 */
import { chooseRows, writeSampledRows } from "../monitoring/sample-requests";
import { type FieldPath, type PredictResult, predictRows } from "../scoring/predict-rows";
import type { Services } from "../services";
import { type ShadowPair, queueShadowPairs } from "./shadow-store";
import { randomUnit } from "./split";

export interface ShadowRequest {
  requestId: string;
  clientRequestId: string | null;
  name: string;
  shadow: { version: number; sampleRate: number };
  rows: readonly unknown[];
  path: FieldPath;
  /** What answered the client. */
  primary: PredictResult;
  /** The rows recordSample sampled from this request, or null. */
  sampledRows: readonly number[] | null;
}

/** Starts the shadow's scoring after the response, when its output will be recorded somewhere. */
export function startShadow(services: Services, request: ShadowRequest): void {
  if (request.primary.version === request.shadow.version) return;
  const storePairs = request.shadow.sampleRate > 0 && randomUnit() < request.shadow.sampleRate;
  if (!storePairs && request.sampledRows === null) return;
  services.waitUntil(scoreShadow(services, request, storePairs));
}

async function scoreShadow(services: Services, request: ShadowRequest, storePairs: boolean): Promise<void> {
  // Yield first, so the response leaves before the shadow's validation and inference take the CPU.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const { primary } = request;
  try {
    // Only the rows whose shadow output is stored are scored (at most SAMPLE_MAX_ROWS_PER_REQUEST
    // of a batch, not all 1,000): `needed[k]` is the request's row index of the k-th scored row.
    const chosen = storePairs ? chooseRows(primary.predictions.length, services.settings.sampling.maxRowsPerRequest) : [];
    const needed = [...new Set([...chosen, ...(request.sampledRows ?? [])])].sort((a, b) => a - b);
    const position = new Map(needed.map((row, k) => [row, k]));
    const startedAt = Date.now();
    const shadow = await predictRows(
      services,
      { name: request.name, ref: { version: request.shadow.version }, pinned: true },
      needed.map((row) => request.rows[row]),
      { path: (k, field) => request.path(needed[k]!, field) },
    );
    const writes: Promise<unknown>[] = [];
    if (storePairs) {
      const now = Date.now();
      const pairs = pairsOf(request.requestId, primary, shadow, chosen, new Date(now).toISOString(), (row) => position.get(row)!);
      writes.push(queueShadowPairs(services.db, pairs, { intervalMs: services.settings.sampling.flushMs, now }));
    }
    if (request.sampledRows) {
      const rows = needed.map((row) => request.rows[row]);
      const sample = { requestId: request.requestId, clientRequestId: request.clientRequestId, arm: "shadow", rows, result: shadow, startedAt, rowIndices: needed };
      writes.push(writeSampledRows(services, sample, request.sampledRows.map((row) => position.get(row)!)));
    }
    await Promise.all(writes);
  } catch (error) {
    console.error(
      JSON.stringify({
        level: "error",
        where: "shadow",
        request_id: request.requestId,
        model: request.name,
        primary_version: primary.version,
        shadow_version: request.shadow.version,
        error: String(error),
      }),
    );
  }
}

/**
 * Each version's probability and its decision by its own manifest's threshold, for the request's
 * rows `rows`; `shadowPosition` maps a request row to its position in the shadow's result (the
 * shadow scored only the rows it needed).
 */
export function pairsOf(
  requestId: string,
  primary: PredictResult,
  shadow: PredictResult,
  rows: readonly number[],
  createdAt: string,
  shadowPosition: (row: number) => number = (row) => row,
): ShadowPair[] {
  return rows.map((i) => {
    const k = shadowPosition(i);
    const primaryPrediction = primary.predictions[i]!.prediction;
    const shadowPrediction = shadow.predictions[k]!.prediction;
    return {
      modelName: primary.name,
      requestId,
      rowIndex: i,
      primaryVersion: primary.version,
      shadowVersion: shadow.version,
      primaryProbability: primary.probabilities[i * 2 + 1]!,
      shadowProbability: shadow.probabilities[k * 2 + 1]!,
      primaryPrediction,
      shadowPrediction,
      agree: primaryPrediction === shadowPrediction,
      createdAt,
    };
  });
}

