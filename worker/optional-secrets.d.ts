/**
 * Secrets the Worker reads when they are set and does without otherwise, so `wrangler types` (which
 * only types `[secrets] required`) cannot know them. Set with `wrangler secret put`, `.dev.vars`
 * locally, or test bindings.
 */
declare namespace Cloudflare {
  interface Env {
    /** Bearer token for GET /metrics; unset leaves /metrics open. */
    METRICS_TOKEN?: string;
    /** Slack-compatible incoming webhook the drift cron posts alerts to; unset sends none. */
    ALERT_WEBHOOK_URL?: string;
    /** Bearer token for POST /feedback besides the admin token; unset: admin token only. */
    FEEDBACK_TOKEN?: string;
    /** HMAC key for prediction tokens (sent back with labels through /feedback). */
    PREDICTION_TOKEN_SECRET?: string;
  }
}
