/**
 * The Worker's settings, parsed from its vars (wrangler.toml `[vars]`, `--var`, test bindings) by one
 * zod schema. A bad value is an error that names the var and what was wrong with it: a typo in a
 * deployment must not quietly become a default.
 */
import { z } from "zod";
import { ALIAS_NAME } from "./registry/version-ref";

function wholeNumber(min: number) {
  return z
    .string()
    .trim()
    .regex(/^[0-9]+$/, { error: (issue) => `expected a whole number, got ${JSON.stringify(issue.input)}` })
    .transform(Number)
    .pipe(z.number().int().min(min, { error: `must be at least ${min}` }).max(Number.MAX_SAFE_INTEGER));
}

function fraction() {
  return z
    .string()
    .trim()
    .regex(/^(0(\.[0-9]+)?|1(\.0+)?|\.[0-9]+)$/, { error: (issue) => `expected a fraction between 0 and 1, got ${JSON.stringify(issue.input)}` })
    .transform(Number);
}

/** "1"/"true" or "0"/"false". */
function flag() {
  return z
    .string()
    .trim()
    .regex(/^(0|1|true|false)$/, { error: (issue) => `expected 1, 0, true or false, got ${JSON.stringify(issue.input)}` })
    .transform((v) => v === "1" || v === "true");
}

const settingsSchema = z
  .object({
    DEFAULT_MODEL: z.string({ error: "required" }).trim().min(1, { error: "must name a model" }),
    DEFAULT_ALIAS: z
      .string()
      .regex(ALIAS_NAME, { error: (issue) => `not a valid alias name: ${JSON.stringify(issue.input)}` })
      .default("production"),
    MAX_BATCH_ROWS: wholeNumber(1).default(1000),
    MAX_BODY_BYTES: wholeNumber(1).default(1_048_576),
    /** Rows one request may ask to explain (?explain); each costs milliseconds of CPU on a deep forest. */
    MAX_EXPLAIN_ROWS: wholeNumber(1).default(100),
    /** After an artifact fails to load, how long that version answers 503 before a retry. */
    LOAD_FAILURE_BACKOFF_MS: wholeNumber(0).default(30_000),
    /** How long an isolate reuses an alias/version resolution; 0 disables the cache. */
    RESOLVE_CACHE_TTL_MS: wholeNumber(0).default(5_000),
    /** ONNX sessions one isolate keeps loaded (least recently used are released past it). */
    MAX_CACHED_SESSIONS: wholeNumber(1).default(8),
    /** Largest admin upload (all multipart parts together), checked against Content-Length before reading. */
    MAX_UPLOAD_BYTES: wholeNumber(1).default(33_554_432),
    /** Share of prediction requests whose rows are written to request_samples (0 turns sampling off). */
    SAMPLE_RATE: fraction().default(0.1),
    /** Rows kept from one sampled batch request, chosen uniformly. */
    SAMPLE_MAX_ROWS_PER_REQUEST: wholeNumber(1).default(10),
    /** Rows kept per model version and UTC hour (a uniform reservoir past it). */
    SAMPLE_WINDOW_CAP: wholeNumber(1).default(4_000),
    /** How often an isolate writes its metric counts to D1 at most, and how soon after a count it writes when no request comes. */
    METRICS_FLUSH_MS: wholeNumber(0).default(10_000),
    /**
     * How long an isolate gathers the observations (sampled rows, shadow jobs) of the requests it
     * answers before sending them to the queue together; 0 sends each request's on its own. At most
     * 10 s: each request's waitUntil waits for the send that carries its rows.
     */
    OBSERVATION_BATCH_MS: wholeNumber(0).pipe(z.number().max(10_000, { error: "must be at most 10000 (the send runs in the request's waitUntil)" })).default(100),
    /**
     * A canary that fails on the server side is answered by the primary (x-canary-fallback: 1); 0
     * lets the canary's error reach the client instead (to see canary failures in client monitoring).
     */
    CANARY_FALLBACK: flag().default(true),
    /** Days of samples the cron keeps. */
    SAMPLE_RETENTION_DAYS: wholeNumber(1).default(30),
    /** Oldest prediction token POST /feedback accepts, in days since it was issued. */
    FEEDBACK_MAX_AGE_DAYS: wholeNumber(1).default(90),
    /** A version still pending this long after its row was written is a dead publish: the cron marks it failed. */
    PENDING_VERSION_TIMEOUT_MINUTES: wholeNumber(1).default(60),
  })
  .transform((v) => ({
    defaultModel: v.DEFAULT_MODEL,
    defaultAlias: v.DEFAULT_ALIAS,
    maxBatchRows: v.MAX_BATCH_ROWS,
    maxBodyBytes: v.MAX_BODY_BYTES,
    maxExplainRows: v.MAX_EXPLAIN_ROWS,
    backoffMs: v.LOAD_FAILURE_BACKOFF_MS,
    resolveTtlMs: v.RESOLVE_CACHE_TTL_MS,
    maxCachedSessions: v.MAX_CACHED_SESSIONS,
    maxUploadBytes: v.MAX_UPLOAD_BYTES,
    metricsFlushMs: v.METRICS_FLUSH_MS,
    observationBatchMs: v.OBSERVATION_BATCH_MS,
    canaryFallback: v.CANARY_FALLBACK,
    sampling: {
      rate: v.SAMPLE_RATE,
      maxRowsPerRequest: v.SAMPLE_MAX_ROWS_PER_REQUEST,
      windowCap: v.SAMPLE_WINDOW_CAP,
      retentionDays: v.SAMPLE_RETENTION_DAYS,
    },
    feedbackMaxAgeDays: v.FEEDBACK_MAX_AGE_DAYS,
    pendingVersionTimeoutMinutes: v.PENDING_VERSION_TIMEOUT_MINUTES,
  }));

export type Settings = z.output<typeof settingsSchema>;

export class SettingsError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`invalid Worker settings: ${problems.map((p) => `${p.variable}: ${p.message}`).join("; ")}`);
    this.name = "SettingsError";
  }
}

/** Vars with an empty string count as unset, so `--var NAME:` falls back to the default. */
function withoutEmpty(vars: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== ""));
}

// The env object is the same for every request an isolate serves, so it is parsed once.
const parsed = new WeakMap<object, Settings>();

export function parseSettings(vars: object): Settings {
  const hit = parsed.get(vars);
  if (hit) return hit;
  const result = settingsSchema.safeParse(withoutEmpty(vars as Record<string, unknown>));
  if (!result.success) {
    throw new SettingsError(result.error.issues.map((i) => ({ variable: String(i.path[0] ?? "vars"), message: i.message })));
  }
  parsed.set(vars, result.data);
  return result.data;
}
