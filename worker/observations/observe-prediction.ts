/**
 * After a prediction answered: decide whether its rows are sampled and whether its shadow runs, and
 * hand both to the isolate's observation batcher, whose send to the queue the request's waitUntil
 * waits for. Nothing here writes to D1 or
 * scores anything; the response never waits for it and never fails because of it.
 */
import { sampleRequest } from "../monitoring/sample-requests";
import type { PredictResult } from "../scoring/predict-rows";
import type { Services } from "../services";
import { planShadow } from "../traffic/shadow";
import { observationBatcher } from "./observation-batcher";
import type { Observation } from "./observation-messages";

export interface ObservedPrediction {
  requestId: string;
  clientRequestId: string | null;
  name: string;
  /** The arm the rows are recorded under (armOf). */
  arm: string;
  rows: readonly unknown[];
  result: PredictResult;
  /** Date.now() just before predictRows. */
  startedAt: number;
  /** The shadow the traffic policy names for this request, if any. */
  shadow: { version: number; sampleRate: number } | null;
}

export function observePrediction(services: Pick<Services, "settings" | "observations" | "waitUntil">, p: ObservedPrediction): void {
  const sample = sampleRequest(services.settings, p);
  const shadow = p.shadow
    ? planShadow(services.settings, {
        requestId: p.requestId,
        clientRequestId: p.clientRequestId,
        name: p.name,
        shadow: p.shadow,
        rows: p.rows,
        primary: p.result,
        sampledRows: sample?.rows ?? null,
        answeredAt: Date.now(),
      })
    : null;
  const observations: Observation[] = [];
  if (sample) observations.push({ kind: "samples", records: sample.records });
  if (shadow) observations.push(shadow);
  if (observations.length) {
    const batchMs = services.settings.observationBatchMs;
    services.waitUntil(observationBatcher(services.observations).add(observations, { requestId: p.requestId, batchMs }));
  }
}
