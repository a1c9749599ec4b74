import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { applyOfflineEnv } from "./trainer/offline-env";
import { cachedFixtures } from "./test/fixtures/fixture-cache";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Three projects:
 *  - node: trainer, scripts and other Node-side code;
 *  - workers: the edge service inside workerd (real D1 + R2 bindings, migrations applied, real
 *    onnxruntime-web sessions). Fixture models are real ONNX files built in Node by the trainer's
 *    exporter (hand-written trees and coefficients) and by a real training run, cached on disk by
 *    test/fixtures/fixture-cache.ts (rebuilt when their sources change), and handed to workerd as
 *    a JSON binding;
 *  - e2e: real `wrangler dev` processes (and wrangler's own migrations and platform proxies)
 *    driven over HTTP and through the CLIs, as a user runs them.
 * `npm test` runs node and workers, `npm run test:e2e` runs e2e, `npm run test:all` all three.
 */
/**
 * The workers files first (vitest sorts projects by name, so they came last): both slots start a
 * workerd at once, and the node files fill each slot as its workerd runs out of files.
 */
class WorkersFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    return [...sorted.filter((f) => f.project.name === "workers"), ...sorted.filter((f) => f.project.name !== "workers")];
  }
}

export default defineConfig(async () => {
  applyOfflineEnv();
  const migrations = await readD1Migrations("migrations");
  const fixtures = await cachedFixtures();
  return {
    test: {
      // Two test files at once (vitest's default here is one per core minus one: one on 2 cores).
      maxWorkers: 2,
      sequence: { sequencer: WorkersFirst },
      projects: [
        {
          test: {
            name: "node",
            include: ["test/node/**/*.test.ts"],
            environment: "node",
            testTimeout: 120_000,
            hookTimeout: 120_000,
          },
        },
        {
          test: {
            name: "e2e",
            include: ["test/e2e/**/*.test.ts"],
            environment: "node",
            // After node and workers (in `npm run test:all`), one file at a time: each starts its
            // own wrangler dev (a workerd) and CLI processes, which need the machine to themselves.
            sequence: { groupOrder: 1 },
            maxWorkers: 1,
            testTimeout: 120_000,
            hookTimeout: 180_000,
          },
        },
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                // Deliver observations as soon as they are sent (the deployed consumer waits up to
                // max_batch_timeout to fill a batch), and retry a failed delivery after 1 s.
                queueConsumers: { "edge-mlops-observations": { maxBatchTimeout: 0, retryDelay: 1 } },
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  TEST_FIXTURES: fixtures,
                  // Long, so a remembered load failure never expires during a test; the backoff
                  // test drives its own clock (predict.test.ts).
                  LOAD_FAILURE_BACKOFF_MS: "60000",
                  MAX_BODY_BYTES: "65536",
                  MAX_BATCH_ROWS: "50",
                  // Alias moves must show at once in tests; resolve-cache.test.ts covers the cache,
                  // also through the routes (settings are parsed per env object).
                  RESOLVE_CACHE_TTL_MS: "0",
                  // A test secret, so the suite needs no .dev.vars (bindings beat .dev.vars in the pool).
                  ADMIN_TOKEN: "test-admin-token-0123456789abcdef",
                  // Tokens are on in the suite, as under `npm start` (43+ characters, see prediction-token.ts).
                  PREDICTION_TOKEN_SECRET: "test-prediction-token-secret-0123456789abcdef",
                  // Small, so the over-limit upload test sends megabytes, not the production 32 MiB.
                  MAX_UPLOAD_BYTES: "2097152",
                  // Other tests must not write samples behind their backs; sampling.test.ts turns
                  // it on per request with its own env.
                  SAMPLE_RATE: "0",
                  // Every request writes its metric counts at once, so no test waits on the flush
                  // timer (metrics.test.ts covers the interval and the quiet isolate's timer).
                  METRICS_FLUSH_MS: "0",
                  // Each request sends its own observations, so observationsSettled's marker never
                  // overtakes rows still gathering in a window (observation-batcher.test.ts covers windows).
                  OBSERVATION_BATCH_MS: "0",
                },
              },
            }),
          ],
          test: {
            name: "workers",
            include: ["test/workers/**/*.test.ts"],
            // A workerd (one per slot, so two) runs file after file, keeping its modules: a workerd
            // per file (the default) spent 10-15 s per file starting up and loading the 14 MB ORT
            // module again. empty-storage.ts gives each file an empty registry, as its own workerd did.
            isolate: false,
            setupFiles: ["./test/workers/apply-migrations.ts", "./test/workers/empty-storage.ts"],
            testTimeout: 60_000,
            hookTimeout: 60_000,
          },
        },
      ],
    },
  };
});
