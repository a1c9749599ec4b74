/** One scrape: this isolate's own counts flushed first, then every isolate's totals read from D1. */
import { readDriftStatus } from "./drift-status";
import { isolateMetrics } from "./isolate-metrics";
import type { MetricBuffer } from "./metric-buffer";
import { readTotals } from "./metric-store";
import { renderMetrics } from "./render-metrics";

export async function scrapeMetrics(db: D1Database, buffer: MetricBuffer = isolateMetrics): Promise<string> {
  try {
    await buffer.flush(db);
  } catch (error) {
    // The scrape still answers with what D1 holds; the deltas wait for the next flush.
    console.error(JSON.stringify({ level: "error", where: "metrics flush before scrape", pending_series: buffer.size, error: String(error) }));
  }
  const [totals, drift] = await Promise.all([readTotals(db), readDriftStatus(db)]);
  return renderMetrics(totals, drift);
}
