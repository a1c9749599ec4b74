/**
 * This isolate's one metric buffer (module state lives as long as the isolate), fed by the request
 * observer and flushed to D1 in waitUntil; see metric-buffer.ts for the write bound.
 */
import { samplingStats } from "../monitoring/sample-store";
import { MetricBuffer } from "./metric-buffer";

export const isolateMetrics = new MetricBuffer({ samplingStats });

/** Flushes after the response; a failure keeps the deltas and is logged, never thrown. */
export function flushLater(buffer: MetricBuffer, db: D1Database, waitUntil: (work: Promise<unknown>) => void): void {
  waitUntil(
    buffer.flush(db).catch((error: unknown) => {
      console.error(JSON.stringify({ level: "error", where: "metrics flush", pending_series: buffer.size, error: String(error) }));
    }),
  );
}
