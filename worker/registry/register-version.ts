/**
 * Registers a model version: allocates the next version number in D1, uploads the artifacts to R2
 * under the keys from artifactKey(), marks the version ready and optionally points aliases at it.
 * Used by scripts/register-model.ts (through wrangler's platform proxy), by tests, and later by the
 * publish flow, so there is one registration path.
 */
import { type Manifest, parseManifest } from "../contract/manifest";
import { ApiError } from "../errors";
import { artifactKey } from "./r2-keys";
import { insertVersion, markVersion, openDb, setAlias } from "./registry";
import { sha256Hex } from "./sha256";

export interface RegistryBindings {
  DB: D1Database;
  MODELS: R2Bucket;
}

export interface RegisterInput {
  manifest: Manifest | unknown;
  onnx: Uint8Array;
  modelCard?: string;
  reference?: string;
  createdBy: string;
  source?: string | null;
  aliases?: string[];
  reason?: string;
}

export async function registerVersion(env: RegistryBindings, input: RegisterInput) {
  const manifest = parseManifest(input.manifest);
  const sha256 = await sha256Hex(input.onnx);
  if (sha256 !== manifest.onnx.sha256) {
    throw new ApiError("VALIDATION_FAILED", `model.onnx sha256 ${sha256} does not match the manifest's ${manifest.onnx.sha256}`);
  }
  const db = openDb(env.DB);
  const name = manifest.name;
  const version = await insertVersion(db, {
    name,
    manifest,
    sha256,
    sizeBytes: input.onnx.byteLength,
    createdBy: input.createdBy,
    source: input.source ?? manifest.source.git_commit,
  });
  const onnxKey = artifactKey(name, version, "model.onnx");
  try {
    const meta = { customMetadata: { sha256, model: name, version: String(version) } };
    const json = { httpMetadata: { contentType: "application/json" } };
    await Promise.all([
      env.MODELS.put(onnxKey, input.onnx, { ...meta, sha256 }),
      env.MODELS.put(artifactKey(name, version, "manifest.json"), JSON.stringify(manifest, null, 2), json),
      input.modelCard &&
        env.MODELS.put(artifactKey(name, version, "model-card.md"), input.modelCard, {
          httpMetadata: { contentType: "text/markdown; charset=utf-8" },
        }),
      input.reference && env.MODELS.put(artifactKey(name, version, "reference.json"), input.reference, json),
    ]);
  } catch (error) {
    await markVersion(db, name, version, { status: "failed" });
    throw error;
  }
  await markVersion(db, name, version, { status: "ready", r2Key: onnxKey });
  for (const alias of input.aliases ?? []) {
    await setAlias(db, { name, alias, version, by: input.createdBy, reason: input.reason ?? "registered" });
  }
  return { name, version, sha256, r2Key: onnxKey };
}
