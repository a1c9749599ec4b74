/**
 * Rows an isolate gathers and writes to D1 in one batch per interval instead of one batch per
 * request (request samples, shadow pairs). `add` queues rows and hands back everything queued once
 * the interval has passed since the last write, or `maxPending` rows wait; the caller writes them
 * in the waitUntil of the request that found them due. Rows an isolate still holds when it is
 * evicted are lost, and a quiet isolate's rows wait for its next request.
 */
export class GatheredWrites<T> {
  private pending: T[] = [];
  private lastWriteAt = 0;

  constructor(readonly maxPending: number) {}

  /** Queues `rows`; returns every queued row when a write is due (the queue is then empty), else null. */
  add(rows: readonly T[], now: number, intervalMs: number): T[] | null {
    this.pending.push(...rows);
    if (now - this.lastWriteAt < intervalMs && this.pending.length < this.maxPending) return null;
    return this.take(now);
  }

  /** Every queued row, now, whatever the interval. */
  take(now: number): T[] {
    const rows = this.pending;
    this.pending = [];
    this.lastWriteAt = now;
    return rows;
  }
}
