/**
 * Per-isolate caches, keyed by model version and artifact checksum:
 *  - compiled manifests (parsed manifest + request schema), cheap, needed for validation;
 *  - ONNX sessions, loaded from R2 once, checksum verified, shared by concurrent requests.
 * A version whose artifact fails to load or to verify is remembered with its reason for a backoff
 * period: requests to it get 503 at once instead of re-downloading on every call, while every other
 * version keeps serving.
 */
import { type Manifest, parseManifest } from "../contract/manifest";
import type { ModelVersionRow } from "../db/schema";
import { ApiError } from "../errors";
import { buildRowSchema, type RowSchema } from "../contract/row-schema";
import { sha256Hex } from "../registry/sha256";
import type { OnnxSession } from "./onnx-session";

export interface CompiledVersion {
  key: string;
  name: string;
  version: number;
  manifest: Manifest;
  rowSchema: RowSchema;
  /** Risk tiers, highest lower bound first. */
  tiers: Manifest["output"]["risk_tiers"];
}

interface LoadFailure {
  reason: string;
  until: number;
}

const compiled = new Map<string, CompiledVersion>();
const sessions = new Map<string, Promise<OnnxSession>>();
const failures = new Map<string, LoadFailure>();

function cacheKey(row: ModelVersionRow): string {
  return `${row.modelName}@${row.version}#${row.sha256}`;
}

export function compileVersion(row: ModelVersionRow): CompiledVersion {
  const key = cacheKey(row);
  let hit = compiled.get(key);
  if (!hit) {
    const manifest = parseManifest(row.manifest);
    const tiers = [...manifest.output.risk_tiers].sort((a, b) => b.min - a.min);
    hit = { key, name: row.modelName, version: row.version, manifest, rowSchema: buildRowSchema(manifest), tiers };
    compiled.set(key, hit);
  }
  return hit;
}

export async function getSession(models: R2Bucket, row: ModelVersionRow, backoffMs: number): Promise<OnnxSession> {
  const key = cacheKey(row);
  const failure = failures.get(key);
  if (failure && failure.until > Date.now()) throw unavailable(row, failure);
  let pending = sessions.get(key);
  if (!pending) {
    pending = loadSession(models, row);
    sessions.set(key, pending);
    pending.catch((error: unknown) => {
      sessions.delete(key);
      failures.set(key, { reason: error instanceof Error ? error.message : String(error), until: Date.now() + backoffMs });
    });
  }
  try {
    return await pending;
  } catch {
    throw unavailable(row, failures.get(key) ?? { reason: "artifact failed to load", until: Date.now() + backoffMs });
  }
}

function unavailable(row: ModelVersionRow, failure: LoadFailure): ApiError {
  const retryAfter = Math.max(1, Math.ceil((failure.until - Date.now()) / 1000));
  return new ApiError("MODEL_UNAVAILABLE", `model ${row.modelName} version ${row.version} cannot serve: ${failure.reason}`, {
    model: row.modelName,
    version: row.version,
    reason: failure.reason,
    retry_after_seconds: retryAfter,
  });
}

async function loadSession(models: R2Bucket, row: ModelVersionRow): Promise<OnnxSession> {
  if (row.status !== "ready") throw new Error(`version status is ${row.status}`);
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

/** For tests and the readiness probe: forget cached sessions and failures. */
export function clearModelCaches(): void {
  compiled.clear();
  sessions.clear();
  failures.clear();
}
