/**
 * The local registry that `wrangler dev` serves from: D1 and R2 state under .wrangler/state/v3,
 * reached from Node through wrangler's platform proxy. Registration goes through the worker's own
 * registerVersion(), so local, test and (later) remote registration share one path.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { getPlatformProxy } from "wrangler";
import { parseManifest } from "../../worker/contract/manifest";
import { registerVersion } from "../../worker/registry/register-version";
import { openDb, resolveVersion } from "../../worker/registry/registry";
import { assertParity } from "../../trainer/onnx/parity";
import { applyOfflineEnv, OFFLINE_ENV } from "./offline-env";


export interface LocalBindings {
  DB: D1Database;
  MODELS: R2Bucket;
  DEFAULT_MODEL: string;
  DEFAULT_ALIAS: string;
}

/** `persistTo` is wrangler's --persist-to (default .wrangler/state); state lives in <persistTo>/v3. */
export function applyLocalMigrations(persistTo?: string): void {
  const where = persistTo ? ["--persist-to", persistTo] : [];
  execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", ...where], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, ...OFFLINE_ENV, CI: "1" },
  });
}

export async function withLocalBindings<T>(fn: (env: LocalBindings) => Promise<T>, persistTo?: string): Promise<T> {
  applyOfflineEnv();
  const proxy = await getPlatformProxy<LocalBindings>({ persist: persistTo ? { path: join(persistTo, "v3") } : true });
  try {
    return await fn(proxy.env);
  } finally {
    await proxy.dispose();
  }
}

/** The version an alias points at locally, or null. */
export async function localAliasVersion(env: LocalBindings, name: string, alias: string): Promise<number | null> {
  try {
    return (await resolveVersion(openDb(env.DB), name, { alias })).row.version;
  } catch {
    return null;
  }
}

export interface RegisterOptions {
  aliases: string[];
  createdBy: string;
  reason?: string;
}

/**
 * Registers an artifact directory (model.onnx, manifest.json, optional model-card.md and
 * reference.json) after replaying the manifest's golden rows through onnxruntime-web: a file that
 * does not reproduce its own goldens is refused.
 */
export async function registerArtifactDir(env: LocalBindings, dir: string, options: RegisterOptions) {
  const manifest = parseManifest(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")));
  const onnx = new Uint8Array(readFileSync(join(dir, "model.onnx")));
  if (manifest.golden.length) {
    await assertParity({
      onnx,
      features: manifest.features,
      rows: manifest.golden.map((g) => g.input),
      expected: Float64Array.from(manifest.golden.map((g) => g.probability)),
      tolerance: 1e-5,
    });
  }
  const optional = (file: string) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), "utf8") : undefined);
  return registerVersion(env, {
    manifest,
    onnx,
    modelCard: optional("model-card.md"),
    reference: optional("reference.json"),
    createdBy: options.createdBy,
    aliases: options.aliases,
    reason: options.reason,
  });
}
