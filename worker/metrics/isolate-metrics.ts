/**
 * This isolate's one metric buffer (module state lives as long as the isolate), fed by the request
 * observer and flushed to D1 in waitUntil; see metric-buffer.ts for the write bound.
 */
import { samplingStats } from "../monitoring/sample-store";
import { MetricBuffer } from "./metric-buffer";

export const isolateMetrics = new MetricBuffer({ samplingStats });

/** A flush whose failure keeps the deltas and is logged, never thrown. */
function flushed(buffer: MetricBuffer, db: D1Database): Promise<unknown> {
  return buffer.flush(db).catch((error: unknown) => {
    console.error(JSON.stringify({ level: "error", where: "metrics flush", pending_series: buffer.size, error: String(error) }));
  });
}

/**
 * After counting: flushes now when due, else arms a flush for the end of METRICS_FLUSH_MS (see
 * MetricBuffer.flushSoon), so every count reaches D1 within the interval.
 */
export function scheduleMetricsFlush(db: D1Database, services: { settings: { metricsFlushMs: number }; waitUntil: (work: Promise<unknown>) => void }, buffer: MetricBuffer = isolateMetrics): void {
  buffer.flushSoon(() => flushed(buffer, db), services.waitUntil, services.settings.metricsFlushMs);
}
