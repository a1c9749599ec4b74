/**
 * Drift alerts: a Slack-compatible message ({text, blocks}) POSTed to ALERT_WEBHOOK_URL, with a
 * bounded number of attempts, exponential backoff and a timeout per attempt. Network errors,
 * timeouts, 429 and 5xx are retried; any other 4xx is final (the request itself is wrong). The
 * delivery never throws: its outcome is returned for the report's `alert` column.
 */
import type { AlertAttempt, AlertDelivery, DriftReport, FeatureDrift } from "./drift-report-types";

export interface AlertOptions {
  /** globalThis.fetch by default; tests pass their own webhook. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Waits between attempts; tests pass one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
  attempts?: number;
  /** Per attempt. */
  timeoutMs?: number;
  /** Wait before the second attempt; doubled before each next one. */
  baseDelayMs?: number;
  /** Clock for the attempt times. */
  now?: () => number;
}

export const ALERT_DEFAULTS = { attempts: 3, timeoutMs: 5_000, baseDelayMs: 1_000 } as const;
/** A 429's Retry-After is honoured up to this; beyond it the normal backoff applies. */
const MAX_RETRY_AFTER_MS = 30_000;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined) return "n/a";
  return Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(3) : x.toExponential(2);
}

function describeFeature(f: FeatureDrift): string {
  const test = f.test === "ks" ? "KS D" : "chi2";
  const p = f.p_value_adjusted ?? f.p_value;
  const pName = f.p_value_adjusted === undefined || f.p_value_adjusted === null ? "p" : "p (BH)";
  return `*${f.name}*: ${test} = ${formatNumber(f.statistic)}, ${pName} = ${formatNumber(p)}, PSI = ${formatNumber(f.psi)}`;
}

/** The Slack-compatible payload: `text` is the notification fallback, `blocks` the rich message. */
export function driftAlertMessage(report: DriftReport): { text: string; blocks: unknown[] } {
  const drifted = report.features.filter((f) => f.status === "drift");
  const window = `${report.window.start} – ${report.window.end}`;
  const lines = drifted.map(describeFeature);
  const scores = report.predictions?.status === "drift" ? report.predictions : null;
  if (scores?.ks)
    lines.push(`*prediction scores*: KS D = ${formatNumber(scores.ks.statistic)}, p = ${formatNumber(scores.ks.p_value)}, PSI = ${formatNumber(scores.psi)}`);
  const names = drifted.map((f) => f.name).join(", ") || "prediction scores";
  const link = `/monitoring#${encodeURIComponent(report.model)}`;
  const text = `Drift in ${report.model} version ${report.version} (${window}): ${names}. Dashboard: ${link}`;
  return {
    text,
    blocks: [
      { type: "header", text: { type: "plain_text", text: `Drift: ${report.model} v${report.version}` } },
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `Window ${window}, ${report.samples.total} sampled rows (alpha ${report.settings.alpha}, PSI threshold ${report.settings.psi_threshold}, correction ${report.settings.correction}).`,
        },
      },
      { type: "section", text: { type: "mrkdwn", text: lines.join("\n") } },
      { type: "context", elements: [{ type: "mrkdwn", text: `Dashboard: ${link} · JSON: /monitoring/models/${encodeURIComponent(report.model)}/drift?version=${report.version}` }] },
    ],
  };
}

function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

function retryAfterMs(response: Response): number | null {
  const header = response.headers.get("retry-after");
  if (!header || !/^[0-9]+$/.test(header.trim())) return null;
  return Math.min(Number(header) * 1000, MAX_RETRY_AFTER_MS);
}

/** POSTs the alert; returns every attempt and the outcome, never throws. */
export async function sendDriftAlert(url: string, report: DriftReport, options: AlertOptions = {}): Promise<AlertDelivery> {
  return postWebhook(url, driftAlertMessage(report), options);
}

/** Any Slack-compatible message ({text, blocks?}), with the same attempts, backoff and timeout as drift alerts. */
export async function postWebhook(url: string, message: { text: string; blocks?: unknown[] }, options: AlertOptions = {}): Promise<AlertDelivery> {
  const send = options.fetch ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init));
  const sleep = options.sleep ?? defaultSleep;
  const attempts = Math.max(1, options.attempts ?? ALERT_DEFAULTS.attempts);
  const timeoutMs = options.timeoutMs ?? ALERT_DEFAULTS.timeoutMs;
  const baseDelayMs = options.baseDelayMs ?? ALERT_DEFAULTS.baseDelayMs;
  const now = options.now ?? Date.now;
  const body = JSON.stringify(message);
  const made: AlertAttempt[] = [];
  const finish = (outcome: AlertDelivery["outcome"]): AlertDelivery => ({ outcome, attempts: made, finished_at: new Date(now()).toISOString() });
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const at = new Date(now()).toISOString();
    let wait = baseDelayMs * 2 ** (attempt - 1);
    try {
      const response = await send(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      // The body is not needed; releasing it frees the connection.
      await response.body?.cancel().catch(() => undefined);
      made.push({ at, status: response.status });
      if (response.ok) return finish("delivered");
      if (!retryable(response.status)) return finish("failed");
      wait = retryAfterMs(response) ?? wait;
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      made.push({ at, error: timedOut ? `timed out after ${timeoutMs} ms` : String(error).slice(0, 300) });
    }
    if (attempt < attempts) await sleep(wait);
  }
  return finish("failed");
}
