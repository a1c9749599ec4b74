/**
 * One isolate's counters since its last flush to D1.
 *
 * Write bound: a request starts a flush only when `flushIntervalMs` (10 s) has passed since the
 * last attempt, so an isolate writes at most 6 batches a minute from traffic, plus one per /metrics
 * scrape it answers (a scrape flushes its own isolate first, so it sees everything it counted).
 * A batch upserts one row per series touched since the last flush (at most `maxSeries`, 32 rows per
 * statement). Two models behind /predict with canary traffic, errors and sampling touch about 22
 * series: measured in local D1 (scripts/bench-metrics.ts, meta.rows_written), a flush writes 44 rows
 * when it opens a minute (each row and its primary-key entry) and 22 when it adds to that minute
 * again, so at most ~155 rows written per isolate per minute however many requests it serves.
 * D1 load grows with the number of busy isolates, not with traffic.
 *
 * The price: counts reach D1 up to 10 s late. The request that makes the first unwritten count arms
 * a flush for the end of the interval (flushSoon), so a quiet isolate writes without waiting for
 * another request. What can still be lost: counts of an isolate evicted (or killed by an exception
 * in another request) before that flush runs, and counts held while D1 fails (kept for the next
 * flush, which is lost if the isolate goes first). Deltas are stamped with
 * the minute of the flush that writes them, not of the request: an idle isolate's late flush (or a
 * retry) lands in a later minute. Totals, which is what a scrape reads, are unaffected.
 *
 * A failed flush keeps its deltas for the next one (nothing of a D1 batch applies on error). The
 * buffer holds at most `maxSeries` distinct series; increments to new series beyond that are
 * dropped and counted in `droppedIncrements`, so a long D1 outage cannot grow memory unbounded.
 */
import type { SamplingStats } from "../monitoring/sample-store";
import { canonicalLabels, type Labels } from "./exposition";
import { FAMILIES } from "./families";
import { addToMinute, minuteOf, type SeriesDelta } from "./metric-store";

export interface MetricBufferOptions {
  flushIntervalMs?: number;
  maxSeries?: number;
  /** The isolate's cumulative sampling counters; the buffer flushes their growth. */
  samplingStats?: () => SamplingStats;
  now?: () => number;
}

export interface FlushOutcome {
  series: number;
  minute: string;
  rowsWritten: number;
}

export const DEFAULT_FLUSH_INTERVAL_MS = 10_000;
/** The longest flush timer armed inside a waitUntil (which the platform ends 30 s after the response). */
export const MAX_TIMER_MS = 25_000;
export const DEFAULT_MAX_SERIES = 1_000;

const NO_SAMPLING: SamplingStats = { written: 0, dropped: 0, failed: 0 };

export class MetricBuffer {
  readonly flushIntervalMs: number;
  readonly maxSeries: number;
  /** Increments lost because the buffer was full (logged at the next flush). */
  droppedIncrements = 0;
  private droppedLogged = 0;
  /** name → canonical labels → delta: two lookups on strings whose hashes V8 caches, no key built per add. */
  private pending = new Map<string, Map<string, SeriesDelta>>();
  private seriesCount = 0;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private timerArmed = false;
  private inFlight: Promise<FlushOutcome | null> | null = null;
  private samplingSeen: SamplingStats = { ...NO_SAMPLING };
  private readonly sampling: () => SamplingStats;
  private readonly now: () => number;

  constructor(options: MetricBufferOptions = {}) {
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES;
    this.sampling = options.samplingStats ?? (() => NO_SAMPLING);
    this.now = options.now ?? Date.now;
    this.samplingSeen = { ...this.sampling() };
  }

  add(name: string, labels: Labels | string, delta: number): void {
    if (delta === 0 || !Number.isFinite(delta)) return;
    this.addDelta(name, typeof labels === "string" ? labels : canonicalLabels(labels), delta);
  }

  /** What would be flushed now: the buffered deltas (for tests and logs). */
  snapshot(): SeriesDelta[] {
    return [...this.pending.values()].flatMap((byLabels) => [...byLabels.values()].map((d) => ({ ...d })));
  }

  get size(): number {
    return this.seriesCount;
  }

  /** Whether a request should start a flush: something to write and the interval has passed. */
  due(at: number = this.now(), intervalMs: number = this.flushIntervalMs): boolean {
    if (this.inFlight || at - this.lastAttemptAt < intervalMs) return false;
    return this.hasPending();
  }

  /** Something counted that D1 has not seen yet. */
  hasPending(): boolean {
    return this.seriesCount > 0 || this.samplingChanged();
  }

  /**
   * Makes sure what is buffered reaches D1 within `intervalMs` even if no other request comes to
   * this isolate: flushes now when due, else arms one timer (in the caller's waitUntil, which keeps
   * the invocation alive for it) for the moment the interval ends. At most one timer is armed.
   * `flush` does the writing (and its error handling).
   */
  flushSoon(flush: () => Promise<unknown>, waitUntil: (work: Promise<unknown>) => void, intervalMs: number = this.flushIntervalMs): void {
    const at = this.now();
    if (this.due(at, intervalMs)) {
      waitUntil(flush());
      return;
    }
    // waitUntil keeps an invocation alive for 30 s at most: a longer interval waits for traffic.
    if (intervalMs > MAX_TIMER_MS || this.timerArmed || this.inFlight || !this.hasPending()) return;
    this.timerArmed = true;
    const delay = Math.max(0, this.lastAttemptAt + intervalMs - at);
    waitUntil(
      new Promise((resolve) => setTimeout(resolve, Number.isFinite(delay) ? delay : 0))
        .then(flush)
        .finally(() => {
          this.timerArmed = false;
        }),
    );
  }

  /**
   * Writes everything buffered (and the sampling counters' growth) to the current minute in one
   * batch. Concurrent calls wait for the flush in flight and then write what is left, so a scrape
   * that awaits flush() sees every count this isolate made before it. Throws the D1 error after
   * putting the deltas back.
   */
  async flush(db: D1Database): Promise<FlushOutcome | null> {
    while (this.inFlight) await this.inFlight.catch(() => null);
    const attempt = this.write(db);
    this.inFlight = attempt;
    try {
      return await attempt;
    } finally {
      this.inFlight = null;
    }
  }

  private async write(db: D1Database): Promise<FlushOutcome | null> {
    const at = this.now();
    this.lastAttemptAt = at;
    this.takeSampling();
    if (this.seriesCount === 0) return null;
    const deltas = this.snapshot();
    this.pending = new Map();
    this.seriesCount = 0;
    const minute = minuteOf(at);
    if (this.droppedIncrements > this.droppedLogged) {
      const dropped = this.droppedIncrements - this.droppedLogged;
      this.droppedLogged = this.droppedIncrements;
      console.error(JSON.stringify({ level: "warn", where: "metrics", dropped_increments: dropped, max_series: this.maxSeries }));
    }
    try {
      const results = await addToMinute(db, minute, deltas);
      const rowsWritten = results.reduce((n, r) => n + (r.meta.rows_written ?? 0), 0);
      return { series: deltas.length, minute, rowsWritten };
    } catch (error) {
      for (const delta of deltas) this.addDelta(delta.name, delta.labels, delta.value);
      throw error;
    }
  }

  private addDelta(name: string, labels: string, value: number): void {
    let byLabels = this.pending.get(name);
    const held = byLabels?.get(labels);
    if (held) held.value += value;
    else if (this.seriesCount < this.maxSeries) {
      if (!byLabels) this.pending.set(name, (byLabels = new Map()));
      byLabels.set(labels, { name, labels, value });
      this.seriesCount++;
    } else this.droppedIncrements++;
  }

  private samplingChanged(): boolean {
    const now = this.sampling();
    return now.written !== this.samplingSeen.written || now.dropped !== this.samplingSeen.dropped || now.failed !== this.samplingSeen.failed;
  }

  /** Moves the sampling counters' growth since the last flush into the buffer. */
  private takeSampling(): void {
    const current = { ...this.sampling() };
    const seen = this.samplingSeen;
    this.samplingSeen = current;
    this.add(FAMILIES.samplesWritten.name, "", current.written - seen.written);
    this.add(FAMILIES.samplesDropped.name, { reason: "reservoir" }, current.dropped - seen.dropped);
    this.add(FAMILIES.samplesDropped.name, { reason: "write_failed" }, current.failed - seen.failed);
  }
}
