/**
 * The Worker's secrets. wrangler.toml declares none (a `[secrets]` block makes `wrangler dev` ignore
 * every .dev.vars key it does not list), so `wrangler types` cannot know them. Each is optional to
 * the type system: the Worker checks the ones it needs and stays closed without them. Set with
 * `wrangler secret put`, `.dev.vars` locally, or test bindings.
 */
declare namespace Cloudflare {
  interface Env {
    /** Bearer token for /admin/... and POST /feedback; unset or short keeps the admin API closed (500 MISCONFIGURED). */
    ADMIN_TOKEN?: string;
    /** Bearer token for GET /metrics; unset leaves /metrics open. */
    METRICS_TOKEN?: string;
    /** Slack-compatible incoming webhook the drift cron posts alerts to; unset sends none. */
    ALERT_WEBHOOK_URL?: string;
    /** Bearer token for POST /feedback besides the admin token; unset: admin token only. */
    FEEDBACK_TOKEN?: string;
    /** HMAC key for prediction tokens (sent back with labels through /feedback); unset: no tokens. */
    PREDICTION_TOKEN_SECRET?: string;
  }
}
