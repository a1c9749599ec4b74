/**
 * What a request sends to the observation queue, and how it is cut to the queue's limits.
 *
 * A request sends at most two kinds of message, together in one sendBatch inside its waitUntil:
 * its sampled rows ("samples") and its shadow job ("shadow", traffic/shadow.ts). Once the send
 * resolves they are the queue's: durable, retried, dead-lettered after max_retries.
 *
 * Cloudflare's limits (developers.cloudflare.com/queues/platform/limits/): 128 KB per message,
 * 100 messages and 256 KB per sendBatch. Messages are kept under MAX_MESSAGE_CHARS of JSON (at most
 * 2 bytes per character in the serialised form, so under 128 KB) by splitting a large request's
 * rows over several messages; a single row too large for a message of its own is dropped and
 * logged, never sent to fail the whole batch.
 */
import type { SampleRecord } from "../monitoring/sample-store";
import type { ObservationQueue } from "../services";
import type { ShadowJob } from "../traffic/shadow";

export interface SamplesMessage {
  kind: "samples";
  records: SampleRecord[];
}

export type ObservationMessage = SamplesMessage | ShadowJob;

/** Characters of JSON per message: ×2 bytes at most, under the 128 KB message limit with room for framing. */
export const MAX_MESSAGE_CHARS = 60_000;
/** Per sendBatch: 100 messages and 256 KB, so at most 4 full messages (4 × 2 × 60,000 < 256 KB). */
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_CHARS = 120_000;

/** A message with the length of its JSON, measured once. */
export interface SizedMessage {
  body: ObservationMessage;
  chars: number;
}

const sized = (body: ObservationMessage): SizedMessage => ({ body, chars: JSON.stringify(body).length });

/** The messages cut to MAX_MESSAGE_CHARS each, and the rows that could not fit any message. */
export function packObservations(messages: readonly ObservationMessage[], limit = MAX_MESSAGE_CHARS): { messages: SizedMessage[]; oversized: number } {
  const out: SizedMessage[] = [];
  let oversized = 0;
  for (const message of messages) {
    const whole = sized(message);
    if (whole.chars <= limit) {
      out.push(whole);
      continue;
    }
    const parts = message.kind === "samples" ? splitSamples(message, limit) : splitShadow(message, limit);
    out.push(...parts.messages.map(sized));
    oversized += parts.oversized;
  }
  return { messages: out, oversized };
}

function splitSamples(message: SamplesMessage, limit: number) {
  const messages: SamplesMessage[] = [];
  let oversized = 0;
  let current: SampleRecord[] = [];
  let size = JSON.stringify({ kind: "samples", records: [] }).length;
  const base = size;
  for (const record of message.records) {
    const length = JSON.stringify(record).length + 1;
    if (base + length > limit) {
      oversized++;
      continue;
    }
    if (size + length > limit) {
      messages.push({ kind: "samples", records: current });
      current = [];
      size = base;
    }
    current.push(record);
    size += length;
  }
  if (current.length) messages.push({ kind: "samples", records: current });
  return { messages, oversized };
}

/** A shadow job split by request row: each part carries its rows and the pairs and samples of those rows. */
function splitShadow(job: ShadowJob, limit: number) {
  const messages: ShadowJob[] = [];
  let oversized = 0;
  const empty = { ...job, rows: [], rowIndices: [], pairs: [], sampledRows: [] };
  const base = JSON.stringify(empty).length;
  let current: ShadowJob = structuredClone(empty);
  let size = base;
  job.rowIndices.forEach((row, k) => {
    const pair = job.pairs.find((p) => p.row === row);
    const sampled = job.sampledRows.includes(row);
    const length = JSON.stringify(job.rows[k] ?? null).length + String(row).length + (pair ? JSON.stringify(pair).length : 0) + (sampled ? String(row).length : 0) + 4;
    if (base + length > limit) {
      oversized++;
      return;
    }
    if (size + length > limit) {
      messages.push(current);
      current = structuredClone(empty);
      size = base;
    }
    current.rows.push(job.rows[k]);
    current.rowIndices.push(row);
    if (pair) current.pairs.push(pair);
    if (sampled) current.sampledRows.push(row);
    size += length;
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
 * Sends a request's observations (after its response: call inside waitUntil). Resolves when the
 * queue has them; a failed send is logged with what it carried and resolves anyway, since the
 * answer has gone and there is no one to tell.
 */
export async function sendObservations(queue: ObservationQueue, messages: readonly ObservationMessage[], context: { requestId: string }): Promise<void> {
  if (!messages.length) return;
  const packed = packObservations(messages);
  if (packed.oversized) {
    console.error(JSON.stringify({ level: "warn", where: "observations", request_id: context.requestId, dropped_rows: packed.oversized, reason: `a row over ${MAX_MESSAGE_CHARS} characters of JSON` }));
  }
  for (const batch of sendBatches(packed.messages)) {
    try {
      await queue.sendBatch(batch.map((body) => ({ body, contentType: "json" as const })));
    } catch (error) {
      console.error(
        JSON.stringify({
          level: "error",
          where: "observations",
          request_id: context.requestId,
          messages: batch.map((m) => (m.kind === "samples" ? `samples:${m.records.length}` : `shadow:${m.rows.length}`)),
          error: String(error),
        }),
      );
    }
  }
}
