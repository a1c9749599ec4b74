/**
 * What the observation queue carries, and how it is cut to the queue's limits.
 *
 * A request's observations are its sampled rows (SampleRecord) and its shadow job (ShadowJob,
 * traffic/shadow.ts). They leave after the response, coalesced per isolate with those of other
 * requests answered within OBSERVATION_BATCH_MS (observation-batcher.ts), so one message carries the
 * rows of many requests: "samples" messages hold sample records, "shadows" messages hold shadow
 * jobs. (A "shadow" message, one job, is what deployments before the coalescing sent; the consumer
 * still reads it.) Once the send resolves they are the queue's: durable, retried, dead-lettered
 * after max_retries.
 *
 * Cloudflare's limits (developers.cloudflare.com/queues/platform/limits/): 128 KB per message,
 * 100 messages and 256 KB per sendBatch. Messages are kept under MAX_MESSAGE_CHARS of JSON (at most
 * 2 bytes per character in the serialised form, so under 128 KB); a shadow job too large for one
 * message is split by row; a single row too large for a message of its own is dropped and logged,
 * never sent to fail the whole batch.
 */
import type { SampleRecord } from "../monitoring/sample-store";
import type { ObservationQueue } from "../services";
import type { ShadowJob } from "../traffic/shadow";

export interface SamplesMessage {
  kind: "samples";
  records: SampleRecord[];
}

export interface ShadowsMessage {
  kind: "shadows";
  jobs: ShadowJob[];
}

/** What a request hands over: its sampled rows and its shadow job. */
export type Observation = SamplesMessage | ShadowJob;
/** What a queue message's body is. ShadowJob alone: one job, as sent before the coalescing. */
export type ObservationMessage = SamplesMessage | ShadowsMessage | ShadowJob;

/** Characters of JSON per message: ×2 bytes at most, under the 128 KB message limit with room for framing. */
export const MAX_MESSAGE_CHARS = 60_000;
/** Per sendBatch: 100 messages and 256 KB, so at most 4 full messages (4 × 2 × 60,000 < 256 KB). */
const MAX_BATCH_MESSAGES = 100;
export const MAX_BATCH_CHARS = 120_000;

/** A message with the length of its JSON. */
export interface SizedMessage {
  body: ObservationMessage;
  chars: number;
}

const length = (value: unknown) => JSON.stringify(value).length;

/**
 * The observations of one or many requests as messages of at most `limit` characters each: every
 * sample record in "samples" messages, every shadow job in "shadows" messages, each filled in order
 * up to the limit. Returns the rows that could not fit any message.
 */
export function packObservations(observations: readonly Observation[], limit = MAX_MESSAGE_CHARS): { messages: SizedMessage[]; oversized: number } {
  const records: SampleRecord[] = [];
  const jobs: ShadowJob[] = [];
  for (const o of observations) {
    if (o.kind === "samples") records.push(...o.records);
    else jobs.push(o);
  }
  let oversized = 0;
  const samples = fill(records, length, { kind: "samples", records: [] as SampleRecord[] }, "records", limit);
  oversized += samples.oversized;
  const sizedJobs: { item: ShadowJob; chars: number }[] = [];
  const shadowBase = length({ kind: "shadows", jobs: [] });
  for (const job of jobs) {
    const chars = length(job);
    if (shadowBase + chars + 1 <= limit) {
      sizedJobs.push({ item: job, chars });
      continue;
    }
    const parts = splitShadow(job, limit - shadowBase - 1);
    oversized += parts.oversized;
    for (const part of parts.messages) sizedJobs.push({ item: part, chars: length(part) });
  }
  const shadows = fillSized(sizedJobs, { kind: "shadows", jobs: [] as ShadowJob[] }, "jobs", limit);
  return { messages: [...samples.messages, ...shadows.messages], oversized };
}

function fill<T, M extends ObservationMessage>(items: readonly T[], size: (item: T) => number, empty: M, key: keyof M, limit: number) {
  return fillSized(items.map((item) => ({ item, chars: size(item) })), empty, key, limit);
}

/** Greedy: items in order into messages shaped like `empty`, under `limit` characters; an item too large alone is dropped. */
function fillSized<T, M extends ObservationMessage>(items: readonly { item: T; chars: number }[], empty: M, key: keyof M, limit: number) {
  const messages: SizedMessage[] = [];
  let oversized = 0;
  const base = length(empty);
  let current: T[] = [];
  let size = base;
  const close = () => {
    if (!current.length) return;
    // size counts a comma after every item; the JSON has none after the last.
    messages.push({ body: { ...empty, [key]: current }, chars: size - 1 });
    current = [];
    size = base;
  };
  for (const { item, chars } of items) {
    if (base + chars > limit) {
      oversized++;
      continue;
    }
    if (size + chars > limit) close();
    current.push(item);
    size += chars + 1;
  }
  close();
  return { messages, oversized };
}

/** A shadow job split by request row: each part carries its rows and the pairs and samples of those rows. */
function splitShadow(job: ShadowJob, limit: number) {
  const messages: ShadowJob[] = [];
  let oversized = 0;
  const empty = { ...job, rows: [], rowIndices: [], pairs: [], sampledRows: [] };
  const base = length(empty);
  let current: ShadowJob = structuredClone(empty);
  let size = base;
  job.rowIndices.forEach((row, k) => {
    const pair = job.pairs.find((p) => p.row === row);
    const sampled = job.sampledRows.includes(row);
    const chars = length(job.rows[k] ?? null) + String(row).length + (pair ? length(pair) : 0) + (sampled ? String(row).length : 0) + 4;
    if (base + chars > limit) {
      oversized++;
      return;
    }
    if (size + chars > limit) {
      messages.push(current);
      current = structuredClone(empty);
      size = base;
    }
    current.rows.push(job.rows[k]);
    current.rowIndices.push(row);
    if (pair) current.pairs.push(pair);
    if (sampled) current.sampledRows.push(row);
    size += chars;
  });
  if (current.rows.length) messages.push(current);
  return { messages, oversized };
}

/** The messages grouped into sendBatch calls within the per-call limits. */
export function sendBatches(messages: readonly SizedMessage[]): ObservationMessage[][] {
  const batches: ObservationMessage[][] = [];
  let current: ObservationMessage[] = [];
  let size = 0;
  for (const { body, chars } of messages) {
    if (current.length && (current.length >= MAX_BATCH_MESSAGES || size + chars > MAX_BATCH_CHARS)) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(body);
    size += chars;
  }
  if (current.length) batches.push(current);
  return batches;
}

/**
 * Sends observations (after the responses: call inside waitUntil). Resolves when the queue has
 * them; a failed send is logged with what it carried and resolves anyway, since the answers have
 * gone and there is no one to tell.
 */
export async function sendObservations(queue: ObservationQueue, observations: readonly Observation[], context: { requestIds: readonly string[] }): Promise<void> {
  if (!observations.length) return;
  const requestIds = context.requestIds.length > 10 ? [...context.requestIds.slice(0, 10), `+${context.requestIds.length - 10} more`] : context.requestIds;
  const packed = packObservations(observations);
  if (packed.oversized) {
    console.error(JSON.stringify({ level: "warn", where: "observations", request_ids: requestIds, dropped_rows: packed.oversized, reason: `a row over ${MAX_MESSAGE_CHARS} characters of JSON` }));
  }
  for (const batch of sendBatches(packed.messages)) {
    try {
      await queue.sendBatch(batch.map((body) => ({ body, contentType: "json" as const })));
    } catch (error) {
      console.error(JSON.stringify({ level: "error", where: "observations", request_ids: requestIds, messages: batch.map(describe), error: String(error) }));
    }
  }
}

function describe(m: ObservationMessage): string {
  if (m.kind === "samples") return `samples:${m.records.length}`;
  if (m.kind === "shadows") return `shadows:${m.jobs.length}/${m.jobs.reduce((n, j) => n + j.rows.length, 0)} rows`;
  return `shadow:${m.rows.length}`;
}
