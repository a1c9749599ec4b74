/**
 * Coalescing per isolate: the observations of requests answered within OBSERVATION_BATCH_MS of
 * each other leave together, in as few messages as the limits allow (observation-messages.ts).
 *
 * Why: a message per sampled request made the queue's per-message costs grow with traffic. On
 * Cloudflare a queue takes 5,000 messages/s, which 10% sampling alone would reach at 50,000
 * predictions/s; coalesced, a busy isolate sends at most about one message per window for all its
 * sampled rows (a message holds ~100 one-row samples). Locally the queue broker runs in the
 * measured workerd process and costs about 1 ms of CPU per message, so the same change is what keeps
 * sampling nearly free in `bench:predict`.
 *
 * Durability is unchanged in kind: each request puts the send that carries its rows in its own
 * waitUntil, so the invocation stays alive until the queue has them (at most batchMs later than an
 * immediate send). What an isolate holds is never waiting for another request to come.
 *
 * The first request of a window arms a timer in its waitUntil; later requests join the window and
 * wait for the same send. A window that reaches MAX_BATCH_CHARS of JSON is sent at once.
 * batchMs 0 sends each request's observations on their own, as before the coalescing.
 */
import type { ObservationQueue } from "../services";
import { MAX_BATCH_CHARS, type Observation, sendObservations } from "./observation-messages";

interface Window {
  observations: Observation[];
  requestIds: string[];
  chars: number;
  sent: Promise<void> | null;
  timer: ReturnType<typeof setTimeout> | null;
  done: Promise<void>;
  release: () => void;
}

export class ObservationBatcher {
  private open: Window | null = null;

  constructor(private readonly queue: ObservationQueue) {}

  /**
   * Hands over one request's observations; the promise resolves once the queue has them (or the
   * failed send was logged). The caller passes it to its waitUntil.
   */
  add(observations: readonly Observation[], context: { requestId: string; batchMs: number }): Promise<void> {
    if (!observations.length) return Promise.resolve();
    if (context.batchMs <= 0) return sendObservations(this.queue, observations, { requestIds: [context.requestId] });
    let window = this.open;
    if (!window) {
      let release!: () => void;
      const done = new Promise<void>((resolve) => {
        release = resolve;
      });
      window = { observations: [], requestIds: [], chars: 0, sent: null, timer: null, done, release };
      this.open = window;
      const armed = window;
      window.timer = setTimeout(() => void this.send(armed), context.batchMs);
    }
    window.observations.push(...observations);
    window.requestIds.push(context.requestId);
    // An estimate to bound the window (the exact cut is packObservations'): records carry most of the size.
    for (const o of observations) window.chars += o.kind === "samples" ? o.records.reduce((n, r) => n + r.features.length + 300, 0) : 300 + o.rows.length * 300;
    if (window.chars >= MAX_BATCH_CHARS) void this.send(window);
    return window.done;
  }

  private send(window: Window): Promise<void> {
    if (window.sent) return window.sent;
    if (this.open === window) this.open = null;
    if (window.timer !== null) clearTimeout(window.timer);
    window.sent = sendObservations(this.queue, window.observations, { requestIds: window.requestIds }).finally(window.release);
    return window.sent;
  }
}

// One batcher per queue binding object (the env is the same object for every request of an isolate).
const batchers = new WeakMap<ObservationQueue, ObservationBatcher>();

export function observationBatcher(queue: ObservationQueue): ObservationBatcher {
  let batcher = batchers.get(queue);
  if (!batcher) {
    batcher = new ObservationBatcher(queue);
    batchers.set(queue, batcher);
  }
  return batcher;
}
