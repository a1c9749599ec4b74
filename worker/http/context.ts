/** What every handler can rely on: bindings, the request id, and settings parsed from vars. */
export interface Settings {
  defaultModel: string;
  defaultAlias: string;
  maxBatchRows: number;
  maxBodyBytes: number;
  backoffMs: number;
  resolveTtlMs: number;
}

export type AppEnv = {
  Bindings: Env;
  Variables: { requestId: string; settings: Settings };
};

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

function nonNegativeInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== "" && Number.isInteger(n) && n >= 0 ? n : fallback;
}

export function readSettings(env: Env): Settings {
  return {
    defaultModel: env.DEFAULT_MODEL,
    defaultAlias: env.DEFAULT_ALIAS || "production",
    maxBatchRows: positiveInt(env.MAX_BATCH_ROWS, 1000),
    maxBodyBytes: positiveInt(env.MAX_BODY_BYTES, 1_048_576),
    backoffMs: positiveInt(env.LOAD_FAILURE_BACKOFF_MS, 30_000),
    resolveTtlMs: nonNegativeInt(env.RESOLVE_CACHE_TTL_MS, 5_000),
  };
}
