/**
 * The local registry that `wrangler dev` serves from: D1 and R2 state under .wrangler/state/v3,
 * reached from Node through wrangler's platform proxy. Versions enter it only through the worker's
 * publishVersion(), with the Node ORT as the session opener, so local, test and remote publishing
 * run the same checks (golden rows included).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { and, eq, sql } from "drizzle-orm";
import { getPlatformProxy } from "wrangler";
import { openNodeSession } from "./onnx/node-runtime";
import { modelVersions } from "../worker/db/schema";
import { publishVersion, type PublishTarget } from "../worker/registry/publish-version";
import { openDb } from "../worker/db/open-db";
import { resolveVersion } from "../worker/registry/versions";
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
  const proxy = await quietly(() => getPlatformProxy<LocalBindings>({ persist: persistTo ? { path: join(persistTo, "v3") } : true }));
  try {
    return await fn(proxy.env);
  } finally {
    await proxy.dispose();
  }
}

/**
 * Runs `start` with wrangler's informational lines off (WRANGLER_LOG=warn) unless the user chose a
 * level. With a .dev.vars present (npm start writes one), starting the platform proxy prints "Using
 * secrets defined in .dev.vars" on stdout, which would corrupt the CLI's --json output; the local
 * registry reads no secret. Warnings and errors still print.
 */
async function quietly<T>(start: () => Promise<T>): Promise<T> {
  if (process.env.WRANGLER_LOG !== undefined) return start();
  process.env.WRANGLER_LOG = "warn";
  try {
    return await start();
  } finally {
    delete process.env.WRANGLER_LOG;
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

export function localPublishTarget(env: LocalBindings): PublishTarget {
  return { db: openDb(env.DB), models: env.MODELS, openSession: openNodeSession };
}

/** The versions published from one training run (manifest source.run_id), oldest first. */
export async function runVersions(env: LocalBindings, name: string, runId: string): Promise<number[]> {
  const rows = await openDb(env.DB)
    .select({ version: modelVersions.version })
    .from(modelVersions)
    .where(and(eq(modelVersions.modelName, name), sql`json_extract(${modelVersions.manifest}, '$.source.run_id') = ${runId}`))
    .orderBy(modelVersions.version)
    .all();
  return rows.map((r) => r.version);
}

/**
 * Publishes an artifact directory (model.onnx, manifest.json, optional model-card.md,
 * reference.json and explainer.json); publishVersion() refuses a file that does not reproduce its own golden rows.
 */
export async function registerArtifactDir(env: LocalBindings, dir: string, options: RegisterOptions) {
  const optional = (file: string) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), "utf8") : undefined);
  return publishVersion(localPublishTarget(env), {
    manifest: JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")),
    onnx: new Uint8Array(readFileSync(join(dir, "model.onnx"))),
    modelCard: optional("model-card.md"),
    reference: optional("reference.json"),
    explainer: optional("explainer.json"),
    createdBy: options.createdBy,
    aliases: options.aliases,
    reason: options.reason,
  });
}
