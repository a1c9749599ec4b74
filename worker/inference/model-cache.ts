/**
 * Per-isolate caches, keyed by model version and artifact checksum, each bounded (least recently
 * used go first) so that touching every version, e.g. looping over every version's /ready, cannot
 * push an isolate toward its 128 MB:
 *  - compiled manifests (parsed manifest, request schema, decision rule), needed for validation;
 *  - ONNX sessions, loaded from R2 once, checksum verified, shared by concurrent requests. An
 *    evicted session is released once no inference is running on it (in-flight runs are counted).
 *    Sessions live in two pools: pinned ones (versions the operator put in front of traffic: an
 *    alias, a canary, a shadow), bounded by MAX_CACHED_SESSIONS, and ad-hoc ones (a version asked
 *    for by number on the public per-version routes), bounded by MAX_ADHOC_SESSIONS. Anyone can
 *    name any version, so cycling through them must not evict production's session and make its
 *    next request reload (~85-125 ms): ad-hoc requests only ever evict other ad-hoc sessions, and
 *    reuse a pinned session when their version has one;
 *  - load failures with their reason, for a backoff period: requests to that version get 503 at
 *    once instead of re-downloading on every call, while every other version keeps serving.
 * A version's status is checked on every request before any cache is consulted, and a refusal on
 * status is never remembered: a `pending` version serves the moment it is marked ready.
 */
import { decisionRule, type Decision } from "../contract/decision";
import { type Manifest, manifestSchema } from "../contract/manifest";
import { buildRowSchema, type RowSchema } from "../contract/row-schema";
import type { ModelVersionRow } from "../db/schema";
import { storedJson } from "../db/stored-json";
import { ApiError } from "../errors";
import { sha256Hex } from "../contract/sha256";
import { LruCache } from "./lru-cache";
import type { OnnxSession } from "../contract/onnx-session";

export interface CompiledVersion {
  key: string;
  name: string;
  version: number;
  manifest: Manifest;
  rowSchema: RowSchema;
  /** Threshold and tiers applied to one probability (worker/contract/decision.ts). */
  decide: (p: number) => Decision;
}

export interface SessionOptions {
  backoffMs: number;
  /** Pinned sessions kept loaded; past it the least recently used is released. Unset: the last value given. */
  maxCachedSessions?: number;
  /**
   * The version is in front of traffic (reached through an alias, or the model's canary or shadow),
   * so its session goes in the pinned pool. False for a version a request named by number: its
   * session goes in the small ad-hoc pool, unless its version is already pinned. The caller decides
   * (scoring knows how the request named its version); unset counts as pinned.
   */
  pinned?: boolean;
  /** The clock the failure backoff reads; tests drive it instead of sleeping. */
  now?: () => number;
}

interface LoadFailure {
  reason: string;
  until: number;
}

interface SessionEntry {
  loading: Promise<OnnxSession>;
  session: OnnxSession | null;
  /** Requests holding the session: waiting for it to load, or running inference on it. */
  users: number;
  evicted: boolean;
  released: boolean;
}

const DEFAULT_MAX_SESSIONS = 8;
/**
 * Sessions kept for versions requested by number alone. Small, since anyone can fill it; 2 lets a
 * client compare two versions without reloading each time. A constant rather than a var: each
 * session can take tens of MiB of the isolate's 128 MB, so it is sized against that, not tuned.
 */
export const MAX_ADHOC_SESSIONS = 2;
/** Compiled manifests and failure records are small; keep several per session slot. */
const ENTRIES_PER_SESSION = 8;

let releasedSessions = 0;
const onEvict = (_key: string, entry: SessionEntry) => {
  entry.evicted = true;
  releaseIfIdle(entry);
};
const sessions = new LruCache<string, SessionEntry>(DEFAULT_MAX_SESSIONS, onEvict);
const adhocSessions = new LruCache<string, SessionEntry>(MAX_ADHOC_SESSIONS, onEvict);
const compiled = new LruCache<string, CompiledVersion>(DEFAULT_MAX_SESSIONS * ENTRIES_PER_SESSION);
const failures = new LruCache<string, LoadFailure>(DEFAULT_MAX_SESSIONS * ENTRIES_PER_SESSION);

function cacheKey(row: Pick<ModelVersionRow, "modelName" | "version" | "sha256">): string {
  return `${row.modelName}@${row.version}#${row.sha256}`;
}

function resize(maxSessions: number | undefined): void {
  if (maxSessions === undefined) return;
  sessions.resize(maxSessions);
  compiled.resize(maxSessions * ENTRIES_PER_SESSION);
  failures.resize(maxSessions * ENTRIES_PER_SESSION);
}

/** Refuses a version whose status does not serve: pending and failed 503, archived 404. */
export function assertServable(row: ModelVersionRow): void {
  const who = { model: row.modelName, version: row.version, status: row.status };
  const named = `model ${row.modelName} version ${row.version}`;
  switch (row.status) {
    case "ready":
      return;
    case "pending":
      throw new ApiError("MODEL_UNAVAILABLE", `${named} is still being registered; retry shortly`, { ...who, retry_after_seconds: 1 });
    case "failed":
      evictSession(cacheKey(row));
      throw new ApiError("MODEL_UNAVAILABLE", `${named} failed registration and does not serve`, who);
    case "archived":
      evictSession(cacheKey(row));
      throw new ApiError("NOT_FOUND", `${named} is archived and no longer serves`, who);
    default:
      throw new ApiError("MODEL_UNAVAILABLE", `${named} has unknown status ${JSON.stringify(row.status)}`, who);
  }
}

function evictSession(key: string): void {
  sessions.evict(key);
  adhocSessions.evict(key);
}

export function compileVersion(row: ModelVersionRow): CompiledVersion {
  const key = cacheKey(row);
  let hit = compiled.get(key);
  if (!hit) {
    const manifest = storedManifest(row);
    hit = { key, name: row.modelName, version: row.version, manifest, rowSchema: buildRowSchema(manifest), decide: decisionRule(manifest.output) };
    compiled.set(key, hit);
  }
  return hit;
}

/** A stored manifest that no longer parses is the registry's fault, not the client's: 503, not 422. */
function storedManifest(row: ModelVersionRow): Manifest {
  const json = storedJson(row.manifest);
  const result = json.ok ? manifestSchema.safeParse(json.value) : null;
  if (result?.success) return result.data;
  let reason: string;
  if (!result) reason = `its stored manifest is not JSON (${json.ok ? "" : json.error})`;
  else {
    const issues = result.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "manifest"}: ${i.message}`);
    const more = result.error.issues.length > issues.length ? `; and ${result.error.issues.length - issues.length} more` : "";
    reason = `its stored manifest does not parse (${issues.join("; ")}${more})`;
  }
  throw new ApiError("MODEL_UNAVAILABLE", `model ${row.modelName} version ${row.version} cannot serve: ${reason}`, {
    model: row.modelName,
    version: row.version,
    reason,
  });
}

/**
 * Runs `use` on the version's session, loading it on first use. The session is held for the whole
 * run: if the cache evicts it meanwhile, it is released only after `use` settles.
 */
export async function runWithSession<T>(
  models: R2Bucket,
  row: ModelVersionRow,
  options: SessionOptions,
  use: (session: OnnxSession) => Promise<T>,
): Promise<T> {
  const now = options.now ?? Date.now;
  const key = cacheKey(row);
  const entry = acquire(models, row, options, now);
  try {
    let session: OnnxSession;
    try {
      session = await entry.loading;
    } catch {
      throw unavailable(row, failures.peek(key) ?? { reason: "artifact failed to load", until: now() + options.backoffMs }, now());
    }
    return await use(session);
  } finally {
    entry.users--;
    releaseIfIdle(entry);
  }
}

/** Readiness: the version's session is loaded (or loads now) and verified. */
export async function getSession(models: R2Bucket, row: ModelVersionRow, options: SessionOptions): Promise<void> {
  await runWithSession(models, row, options, async () => {});
}

function acquire(models: R2Bucket, row: ModelVersionRow, options: SessionOptions, now: () => number): SessionEntry {
  assertServable(row);
  resize(options.maxCachedSessions);
  const key = cacheKey(row);
  const failure = failures.get(key);
  if (failure) {
    if (failure.until > now()) throw unavailable(row, failure, now());
    failures.delete(key);
  }
  const pinned = options.pinned ?? true;
  // An ad-hoc request reads the pinned pool without touching its recency; a pinned request takes
  // its version's session over from the ad-hoc pool (delete, not evict: the session lives on).
  let entry = pinned ? sessions.get(key) : sessions.peek(key);
  if (!entry) {
    entry = pinned ? adhocSessions.peek(key) : adhocSessions.get(key);
    if (entry && pinned) {
      adhocSessions.delete(key);
      sessions.set(key, entry);
    }
  }
  if (!entry) {
    const created: SessionEntry = { loading: loadSession(models, row), session: null, users: 0, evicted: false, released: false };
    const pool = pinned ? sessions : adhocSessions;
    pool.set(key, created);
    created.loading.then(
      (session) => {
        created.session = session;
        releaseIfIdle(created);
      },
      (error: unknown) => {
        if (sessions.peek(key) === created) sessions.delete(key);
        if (adhocSessions.peek(key) === created) adhocSessions.delete(key);
        failures.set(key, { reason: error instanceof Error ? error.message : String(error), until: now() + options.backoffMs });
      },
    );
    entry = created;
  }
  entry.users++;
  return entry;
}

function releaseIfIdle(entry: SessionEntry): void {
  if (!entry.evicted || entry.users > 0 || !entry.session || entry.released) return;
  entry.released = true;
  releasedSessions++;
  entry.session.release().catch((error: unknown) => {
    console.error(JSON.stringify({ level: "error", where: "model-cache", message: "session release failed", error: String(error) }));
  });
}

function unavailable(row: ModelVersionRow, failure: LoadFailure, now: number): ApiError {
  const retryAfter = Math.max(1, Math.ceil((failure.until - now) / 1000));
  return new ApiError("MODEL_UNAVAILABLE", `model ${row.modelName} version ${row.version} cannot serve: ${failure.reason}`, {
    model: row.modelName,
    version: row.version,
    reason: failure.reason,
    retry_after_seconds: retryAfter,
  });
}

async function loadSession(models: R2Bucket, row: ModelVersionRow): Promise<OnnxSession> {
  const object = await models.get(row.r2Key);
  if (!object) throw new Error(`artifact ${row.r2Key} is missing from storage`);
  const bytes = new Uint8Array(await object.arrayBuffer());
  const actual = await sha256Hex(bytes);
  if (actual !== row.sha256) throw new Error(`checksum mismatch: artifact sha256 ${actual}, registry expects ${row.sha256}`);
  // Loaded lazily so requests that never reach inference (validation errors, registry reads) do not
  // pay for instantiating the 14 MB WASM module.
  const { createOnnxSession } = await import("./onnx-runtime");
  try {
    return await createOnnxSession(bytes);
  } catch (error) {
    throw new Error(`onnxruntime could not load the model: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Sizes and limits of the caches, and how many sessions were released since the isolate began. */
export function modelCacheStats() {
  let inUse = 0;
  for (const pool of [sessions, adhocSessions]) for (const key of pool.keys()) if ((pool.peek(key)?.users ?? 0) > 0) inUse++;
  return {
    /** Pinned sessions (aliases, canary, shadow) and their bound, MAX_CACHED_SESSIONS. */
    sessions: sessions.size,
    maxSessions: sessions.limit,
    /** Sessions of versions requested by number alone, and their bound. */
    adhocSessions: adhocSessions.size,
    maxAdhocSessions: adhocSessions.limit,
    sessionsInUse: inUse,
    compiled: compiled.size,
    failures: failures.size,
    releasedSessions,
  };
}

/** Which pool holds the version's session, if it is loaded or loading: for tests and diagnostics. */
export function cachedSessionPool(row: Pick<ModelVersionRow, "modelName" | "version" | "sha256">): "pinned" | "adhoc" | null {
  const key = cacheKey(row);
  if (sessions.peek(key)) return "pinned";
  return adhocSessions.peek(key) ? "adhoc" : null;
}

/** For tests and the readiness probe: forget cached sessions (releasing them once idle) and failures. */
export function clearModelCaches(): void {
  compiled.clear();
  sessions.clear();
  adhocSessions.clear();
  failures.clear();
}
