/**
 * Prepares a persisted local registry (D1 + R2) for the benchmark in a temp dir laid out the way
 * wrangler lays out `--persist-to`: `<dir>/v3/d1` and `<dir>/v3/r2`. The same state then serves the
 * direct Miniflare path and `wrangler dev --persist-to <dir>`.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { type Manifest, parseManifest } from "../../worker/contract/manifest";
import { openNodeSession } from "../../trainer/onnx/node-runtime";
import { publishVersion } from "../../worker/registry/publish-version";
import { openDb } from "../../worker/db/open-db";
import { COMPATIBILITY_DATE } from "./process";

export interface RegistryConfig {
  /** D1 database id and R2 bucket name exactly as wrangler.toml declares them (wrangler dev keys state by them). */
  d1DatabaseId: string;
  r2BucketName: string;
  /** Plain-text vars from wrangler.toml. */
  /** The observation queue the worker sends to and consumes (wrangler.toml's OBSERVATIONS producer). */
  observationQueue: string;
  vars: Record<string, string>;
}

export function persistPaths(stateDir: string) {
  return { d1Persist: join(stateDir, "v3", "d1"), r2Persist: join(stateDir, "v3", "r2") };
}

/** Miniflare options for the worker's DB and MODELS bindings over the persisted state. */
export function registryBindings(stateDir: string, config: RegistryConfig) {
  return { d1Databases: { DB: config.d1DatabaseId }, r2Buckets: { MODELS: config.r2BucketName }, ...persistPaths(stateDir) };
}

/**
 * Miniflare options for the worker itself: its registry bindings and the observation queue it
 * produces to and consumes, batched as wrangler.toml batches it (up to 100 messages, 1 s).
 */
export function workerBindings(stateDir: string, config: RegistryConfig, options: { consumer: boolean } = { consumer: true }) {
  return {
    ...registryBindings(stateDir, config),
    queueProducers: { OBSERVATIONS: config.observationQueue },
    ...(options.consumer ? { queueConsumers: { [config.observationQueue]: { maxBatchSize: 100, maxBatchTimeout: 1 } } } : {}),
  };
}

/**
 * Runs `fn` with the D1 and R2 bindings of a persisted state, through a bindings-only Miniflare
 * (no server of ours may be running on that state meanwhile), and disposes it.
 */
export async function withStateBindings<T>(stateDir: string, config: RegistryConfig, fn: (DB: D1Database, MODELS: R2Bucket) => Promise<T>): Promise<T> {
  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response(null, { status: 204 }); } };",
    compatibilityDate: COMPATIBILITY_DATE,
    ...registryBindings(stateDir, config),
  });
  try {
    return await fn((await mf.getD1Database("DB")) as unknown as D1Database, (await mf.getR2Bucket("MODELS")) as unknown as R2Bucket);
  } finally {
    await mf.dispose();
  }
}

export interface BenchModel {
  manifest: Manifest;
  onnx: Uint8Array;
  /** reference.json as written by the trainer, when the artifact dir has one (drift reports need it). */
  reference?: string;
  /** explainer.json, when the artifact dir has one (the manifest then names it, and publishing needs it). */
  explainer?: string;
}

export function readBenchModel(dir: string): BenchModel {
  const referencePath = join(dir, "reference.json");
  const explainerPath = join(dir, "explainer.json");
  return {
    manifest: parseManifest(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"))),
    onnx: new Uint8Array(readFileSync(join(dir, "model.onnx"))),
    ...(existsSync(referencePath) ? { reference: readFileSync(referencePath, "utf8") } : {}),
    ...(existsSync(explainerPath) ? { explainer: readFileSync(explainerPath, "utf8") } : {}),
  };
}

/** migrations/*.sql in order, each split into statements on drizzle-kit's breakpoint marker. */
export function migrationStatements(migrationsDir: string): string[] {
  return readdirSync(migrationsDir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .flatMap((f) => readFileSync(join(migrationsDir, f), "utf8").split("--> statement-breakpoint"))
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface PublishSpec {
  model: BenchModel;
  aliases: string[];
}

/**
 * Applies the migrations, then publishes each spec in order through the worker's own
 * publishVersion() (with the Node ORT as opener), into a bindings-only Miniflare whose D1/R2 proxies
 * are the bindings. Publishing one artifact twice gives two versions. Returns what was published.
 */
export async function publishModels(
  stateDir: string,
  config: RegistryConfig,
  migrationsDir: string,
  specs: readonly PublishSpec[],
): Promise<{ name: string; version: number; sha256: string }[]> {
  return withStateBindings(stateDir, config, async (DB, MODELS) => {
    for (const sql of migrationStatements(migrationsDir)) await DB.prepare(sql).run();
    const published = [];
    for (const spec of specs) {
      published.push(
        await publishVersion(
          { db: openDb(DB), models: MODELS, openSession: openNodeSession },
          {
            manifest: spec.model.manifest,
            onnx: spec.model.onnx,
            ...(spec.model.reference === undefined ? {} : { reference: spec.model.reference }),
            ...(spec.model.explainer === undefined ? {} : { explainer: spec.model.explainer }),
            createdBy: "bench",
            aliases: spec.aliases,
            reason: "benchmark",
          },
        ),
      );
    }
    return published;
  });
}

/** The bench model published once, alias production. */
export async function prepareRegistry(
  stateDir: string,
  config: RegistryConfig,
  migrationsDir: string,
  model: BenchModel,
): Promise<{ name: string; version: number; sha256: string }> {
  const [published] = await publishModels(stateDir, config, migrationsDir, [{ model, aliases: ["production"] }]);
  return published!;
}

/** Runs one read-only query on a persisted state's D1 (no server running on it), e.g. to count what a run wrote. */
export async function queryState<T>(stateDir: string, config: RegistryConfig, sql: string): Promise<T[]> {
  return withStateBindings(stateDir, config, async (DB) => (await DB.prepare(sql).all<T>()).results);
}
