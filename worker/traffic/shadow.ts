/**
 * Shadow scoring, off the request path. The request only plans a job (which rows, the primary's
 * outputs for them) and sends it through the observation queue after the response; the queue
 * consumer scores the rows with the shadow version and writes what the job asks for. So a shadow
 * never delays or changes an answer, shares no CPU with the request, and a broken shadow artifact
 * only logs.
 *
 * With probability shadow_sample_rate a request's paired outputs go to shadow_pairs (at most
 * SAMPLE_MAX_ROWS_PER_REQUEST rows of a batch); when the request was sampled for monitoring, the
 * shadow's scores of the same rows go to request_samples under arm "shadow", beside the primary's
 * row of the same (request id, row). A request whose shadow output would be recorded nowhere sends
 * no job at all, so the sample rate bounds the shadow's CPU as well as its storage.
 */
import { chooseRows, type PredictionToSample, sampleRecords } from "../monitoring/sample-requests";
import type { SampleRecord } from "../monitoring/sample-store";
import { type FieldPath, type PredictResult, predictRows } from "../scoring/predict-rows";
import type { Services } from "../services";
import type { Settings } from "../settings";
import type { ShadowPair } from "./shadow-store";
import { randomUnit } from "./split";

/** What the queue carries for one request's shadow: plain JSON, no functions or typed arrays. */
export interface ShadowJob {
  kind: "shadow";
  requestId: string;
  clientRequestId: string | null;
  name: string;
  shadowVersion: number;
  primaryVersion: number;
  /** The request's rows the shadow scores, as the client sent them, and each one's row index in the request. */
  rows: unknown[];
  rowIndices: number[];
  /** The rows whose pair is stored, with what the primary answered for each. */
  pairs: { row: number; probability: number; prediction: boolean }[];
  /** The rows whose shadow scores go to request_samples (the request's sampled rows). */
  sampledRows: number[];
  /** When the request was answered: the shadow's rows belong to the same sample window. */
  answeredAt: number;
}

export interface ShadowRequest {
  requestId: string;
  clientRequestId: string | null;
  name: string;
  shadow: { version: number; sampleRate: number };
  rows: readonly unknown[];
  /** What answered the client. */
  primary: PredictResult;
  /** The rows sampleRequest sampled from this request, or null. */
  sampledRows: readonly number[] | null;
  answeredAt: number;
}

/** The job for this request's shadow, or null when nothing of its output would be recorded. */
export function planShadow(settings: Settings, request: ShadowRequest): ShadowJob | null {
  const { primary } = request;
  if (primary.version === request.shadow.version) return null;
  const storePairs = request.shadow.sampleRate > 0 && randomUnit() < request.shadow.sampleRate;
  if (!storePairs && request.sampledRows === null) return null;
  const chosen = storePairs ? chooseRows(primary.predictions.length, settings.sampling.maxRowsPerRequest) : [];
  const needed = [...new Set([...chosen, ...(request.sampledRows ?? [])])].sort((a, b) => a - b);
  return {
    kind: "shadow",
    requestId: request.requestId,
    clientRequestId: request.clientRequestId,
    name: request.name,
    shadowVersion: request.shadow.version,
    primaryVersion: primary.version,
    rows: needed.map((row) => request.rows[row]),
    rowIndices: needed,
    pairs: chosen.map((row) => ({ row, probability: primary.probabilities[row * 2 + 1]!, prediction: primary.predictions[row]!.prediction })),
    sampledRows: [...(request.sampledRows ?? [])],
    answeredAt: request.answeredAt,
  };
}

/** What scoring one job produced, for the consumer to write with the rest of its delivery. */
export interface ShadowOutput {
  pairs: ShadowPair[];
  samples: SampleRecord[];
}

/** What scoring needs of the services (the queue consumer has no request around it). */
type ScoringServices = Pick<Services, "db" | "models" | "settings">;

/** Rows one shadow run scores at most: a delivery's jobs for one shadow version share runs up to this. */
export const MAX_SHADOW_RUN_ROWS = 1_000;

export interface ScoredJob {
  job: ShadowJob;
  output?: ShadowOutput;
  error?: unknown;
}

/**
 * Scores a delivery's shadow jobs: the jobs of one shadow version are scored together, in runs of
 * up to MAX_SHADOW_RUN_ROWS rows (one ORT run per run rather than one per job; a 100-row run costs
 * a fraction of 100 one-row runs), yielding to other work between runs. When a run fails (one job's
 * rows the shadow's schema refuses, say), its jobs are scored one by one, so only the failing job
 * is lost. The shadow is pinned: it is reached through the shadow alias, so its session stays cached.
 */
export async function scoreShadowJobs(services: ScoringServices, jobs: readonly ShadowJob[]): Promise<ScoredJob[]> {
  const groups = new Map<string, ShadowJob[]>();
  for (const job of jobs) {
    const key = JSON.stringify([job.name, job.shadowVersion]);
    groups.set(key, [...(groups.get(key) ?? []), job]);
  }
  const scored: ScoredJob[] = [];
  for (const group of groups.values()) {
    for (const run of runsOf(group)) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      const rows = run.flatMap((job) => job.rows);
      const owners = run.flatMap((job, j) => job.rows.map((_, k) => [j, k] as const));
      const path: FieldPath = (i, field) => `${run[owners[i]![0]]!.requestId} row ${run[owners[i]![0]]!.rowIndices[owners[i]![1]]}${field ? `.${field}` : ""}`;
      const first = run[0]!;
      const startedAt = Date.now();
      let result: PredictResult;
      try {
        result = await predictRows(services, { name: first.name, ref: { version: first.shadowVersion }, pinned: true }, rows, { path, maxRows: rows.length });
      } catch {
        for (const job of run) {
          try {
            scored.push({ job, output: await scoreShadowJob(services, job) });
          } catch (error) {
            scored.push({ job, error });
          }
        }
        continue;
      }
      const latencyMs = Date.now() - startedAt;
      let offset = 0;
      for (const job of run) {
        scored.push({ job, output: outputsOf(job, sliceResult(result, offset, job.rows.length), latencyMs) });
        offset += job.rows.length;
      }
    }
  }
  return scored;
}

/** Consecutive jobs whose rows add up to at most MAX_SHADOW_RUN_ROWS (a larger job runs alone). */
function runsOf(jobs: readonly ShadowJob[]): ShadowJob[][] {
  const runs: ShadowJob[][] = [];
  let current: ShadowJob[] = [];
  let size = 0;
  for (const job of jobs) {
    if (current.length && size + job.rows.length > MAX_SHADOW_RUN_ROWS) {
      runs.push(current);
      current = [];
      size = 0;
    }
    current.push(job);
    size += job.rows.length;
  }
  if (current.length) runs.push(current);
  return runs;
}

/** Rows [start, start + count) of a result, as if they had been scored alone. */
function sliceResult(result: PredictResult, start: number, count: number): PredictResult {
  return {
    ...result,
    predictions: result.predictions.slice(start, start + count),
    probabilities: result.probabilities.subarray(start * 2, (start + count) * 2),
  };
}

/** Scores one job alone with the shadow version. Throws what predictRows throws. */
export async function scoreShadowJob(services: ScoringServices, job: ShadowJob): Promise<ShadowOutput> {
  const path: FieldPath = (k, field) => `${job.requestId} row ${job.rowIndices[k]}${field ? `.${field}` : ""}`;
  const startedAt = Date.now();
  const shadow = await predictRows(services, { name: job.name, ref: { version: job.shadowVersion }, pinned: true }, job.rows, { path, maxRows: job.rows.length });
  return outputsOf(job, shadow, Date.now() - startedAt);
}

/** A job's pairs and shadow samples from the shadow's result for exactly the job's rows. */
function outputsOf(job: ShadowJob, shadow: PredictResult, latencyMs: number): ShadowOutput {
  const position = new Map(job.rowIndices.map((row, k) => [row, k]));
  const createdAt = new Date(job.answeredAt).toISOString();
  const pairs = job.pairs.map(({ row, probability, prediction }): ShadowPair => {
    const k = position.get(row)!;
    const shadowPrediction = shadow.predictions[k]!.prediction;
    return {
      modelName: job.name,
      requestId: job.requestId,
      rowIndex: row,
      primaryVersion: job.primaryVersion,
      shadowVersion: shadow.version,
      primaryProbability: probability,
      shadowProbability: shadow.probabilities[k * 2 + 1]!,
      primaryPrediction: prediction,
      shadowPrediction,
      agree: prediction === shadowPrediction,
      createdAt,
    };
  });
  const sample: PredictionToSample = {
    requestId: job.requestId,
    clientRequestId: job.clientRequestId,
    arm: "shadow",
    rows: job.rows,
    result: shadow,
    startedAt: job.answeredAt,
    latencyMs,
    rowIndices: job.rowIndices,
  };
  const samples = sampleRecords(
    sample,
    job.sampledRows.map((row) => position.get(row)!),
    job.answeredAt,
  );
  return { pairs, samples };
}
