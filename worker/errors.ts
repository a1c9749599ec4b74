/**
 * One error type and one envelope for the whole service. Handlers throw ApiError; only the app's
 * onError turns it into `{ error: { code, message, request_id, details? } }`. The Open Inference
 * Protocol routes (/v2/) answer `{ error: "..." }` instead, and every client error there other than
 * 404 and 413 is a 400, because KServe and Triton clients expect that shape and status.
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  /** An admin route called without `Authorization: Bearer <token>`. */
  UNAUTHORIZED: 401,
  /** An admin token that is not the configured ADMIN_TOKEN. */
  FORBIDDEN: 403,
  /** Unknown model, version or alias, and an `archived` version (retired: it no longer serves). */
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  /** An upload without Content-Length (R2 cannot store a stream of unknown length). */
  LENGTH_REQUIRED: 411,
  PAYLOAD_TOO_LARGE: 413,
  VALIDATION_FAILED: 422,
  /** `explain` asked of a version trained without an explainer (explainer.json); the message names the version. */
  EXPLANATION_UNAVAILABLE: 422,
  /** Too many failed admin authentications from one client; retry-after says when to try again. */
  RATE_LIMITED: 429,
  /**
   * The version cannot serve now: still `pending` (retry-after 1), `failed` registration, an
   * artifact that failed to load or verify (retried after the backoff), or a stored manifest that no
   * longer parses. Other versions keep serving.
   */
  MODEL_UNAVAILABLE: 503,
  INTERNAL: 500,
  /** The graph answered NaN or Infinity for valid rows: a model defect, never a 200 (logged). */
  NON_FINITE_OUTPUT: 500,
  /** A Worker var failed validation (see settings.ts), ADMIN_TOKEN is unset or too short, or METRICS_TOKEN is set but too short; the message names it. */
  MISCONFIGURED: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** One failing field: where (a JSON path like `instances[3].tenure`) and why. */
export interface FieldIssue {
  field: string;
  message: string;
  code?: string;
}

export class ApiError extends Error {
  readonly status: (typeof ERROR_STATUS)[ErrorCode];

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
    this.status = ERROR_STATUS[code];
  }
}

export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; request_id: string; details?: unknown };
}

export function errorEnvelope(error: ApiError, requestId: string): ErrorEnvelope {
  const body: ErrorEnvelope["error"] = { code: error.code, message: error.message, request_id: requestId };
  if (error.details !== undefined) body.details = error.details;
  return { error: body };
}
