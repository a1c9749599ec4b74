/**
 * What a request (or, later, a cron run) works with, built once from the bindings and handed to
 * domain functions: the registry database, the artifact bucket, validated settings, and a way to
 * keep work running after the response (`waitUntil`). Domain code never reads `c.env` itself.
 */
import { openDb, type Db } from "./db/open-db";
import { parseSettings, type Settings } from "./settings";

/** What producers use of a Queue binding (structural, like the rest of this file). */
export interface ObservationQueue {
  sendBatch(messages: Iterable<{ body: unknown; contentType?: "json" }>): Promise<unknown>;
}

export interface Services {
  db: Db;
  models: R2Bucket;
  /** The observation queue (sampled rows, shadow jobs); its consumer writes them to D1. */
  observations: ObservationQueue;
  settings: Settings;
  /** Work that must finish after the response is sent; failures are logged, never thrown. */
  waitUntil: (work: Promise<unknown>) => void;
}

/**
 * Typed structurally (not by the Workers globals Env and ExecutionContext) so Node scripts that
 * import prediction code for benchmarks typecheck without the Workers types.
 */
export function createServices(
  env: { DB: D1Database; MODELS: R2Bucket; OBSERVATIONS: ObservationQueue },
  ctx: { waitUntil(work: Promise<unknown>): void } | undefined,
): Services {
  const settings = parseSettings(env);
  return {
    db: openDb(env.DB),
    models: env.MODELS,
    observations: env.OBSERVATIONS,
    settings,
    waitUntil: (work) => {
      const logged = work.catch((error: unknown) => console.error(JSON.stringify({ level: "error", where: "waitUntil", error: String(error) })));
      if (ctx) ctx.waitUntil(logged);
    },
  };
}
