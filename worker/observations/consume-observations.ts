/**
 * The observation queue's consumer: one delivery (up to max_batch_size messages) becomes one D1
 * batch. Shadow jobs are scored first (those of one shadow version together, in as few ORT runs
 * as fit, traffic/shadow.ts); then every sampled row, shadow sample and shadow pair of the delivery is written
 * in one batch. Every write is keyed (request id, row, arm / shadow version) and skips what is
 * stored, so a redelivered message writes nothing twice.
 *
 * Failure handling: a D1 error retries the whole delivery (nothing of the batch applied); a shadow
 * job whose version cannot score (a broken artifact, rows its schema refuses) is logged and
 * acknowledged, since retrying cannot fix it; a message that is not an observation is logged and
 * acknowledged. After max_retries a delivery's messages go to the dead-letter queue.
 */
import { countSampleWrite, type SampleRecord, sampleWrite } from "../monitoring/sample-store";
import type { Services } from "../services";
import { scoreShadowJobs, type ShadowJob } from "../traffic/shadow";
import { type ShadowPair, shadowPairStatements } from "../traffic/shadow-store";
import type { ObservationMessage } from "./observation-messages";

export interface DeliveryOutcome {
  samples: { written: number; evicted: number };
  pairs: number;
  shadowFailures: number;
  ignored: number;
  /** The D1 write failed and the whole delivery was handed back for redelivery. */
  retried: boolean;
  /** What the delivery's batch cost in D1 (summed meta.rows_written / rows_read). */
  d1: { rowsWritten: number; rowsRead: number };
}

export async function consumeObservations(services: Pick<Services, "db" | "models" | "settings" | "waitUntil">, batch: MessageBatch<unknown>): Promise<DeliveryOutcome> {
  const records: SampleRecord[] = [];
  const pairs: ShadowPair[] = [];
  let shadowFailures = 0;
  let ignored = 0;
  const jobs: ShadowJob[] = [];
  for (const message of batch.messages) {
    const body = message.body as ObservationMessage;
    if (body?.kind === "samples" && Array.isArray(body.records)) {
      records.push(...body.records);
    } else if (body?.kind === "shadows" && Array.isArray(body.jobs)) {
      jobs.push(...body.jobs);
    } else if (body?.kind === "shadow") {
      // One job per message: what deployments before the per-isolate coalescing sent.
      jobs.push(body);
    } else {
      ignored++;
      console.error(JSON.stringify({ level: "error", where: "observations consumer", message_id: message.id, error: "not an observation message; dropped" }));
    }
  }
  for (const { job, output, error } of await scoreShadowJobs(services, jobs)) {
    if (output) {
      records.push(...output.samples);
      pairs.push(...output.pairs);
    } else {
      shadowFailures++;
      logShadowFailure(job, error);
    }
  }
  const d1 = services.db.$client;
  const write = sampleWrite(d1, records, { windowCap: services.settings.sampling.windowCap });
  const pairStatements = shadowPairStatements(d1, pairs);
  const statements = [...write.statements, ...pairStatements];
  let samples = { written: 0, evicted: 0 };
  let pairsWritten = 0;
  const d1Cost = { rowsWritten: 0, rowsRead: 0 };
  if (statements.length) {
    let results: D1Result[];
    try {
      results = await d1.batch(statements);
    } catch (error) {
      countSampleWrite({ failed: records.length });
      console.error(JSON.stringify({ level: "error", where: "observations consumer", messages: batch.messages.length, rows: records.length, pairs: pairs.length, error: String(error) }));
      batch.retryAll();
      return { samples, pairs: 0, shadowFailures, ignored, retried: true, d1: { rowsWritten: 0, rowsRead: 0 } };
    }
    samples = write.outcome(results.slice(0, write.statements.length));
    countSampleWrite(samples);
    pairsWritten = results.slice(write.statements.length).reduce((n, r) => n + (r.meta.changes ?? 0), 0);
    for (const r of results) {
      d1Cost.rowsWritten += r.meta.rows_written ?? 0;
      d1Cost.rowsRead += r.meta.rows_read ?? 0;
    }
  }
  batch.ackAll();
  return { samples, pairs: pairsWritten, shadowFailures, ignored, retried: false, d1: d1Cost };
}

function logShadowFailure(job: ShadowJob, error: unknown): void {
  console.error(
    JSON.stringify({
      level: "error",
      where: "shadow",
      request_id: job.requestId,
      model: job.name,
      primary_version: job.primaryVersion,
      shadow_version: job.shadowVersion,
      error: String(error),
    }),
  );
}
