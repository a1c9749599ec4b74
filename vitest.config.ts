import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { applyOfflineEnv } from "./trainer/offline-env";

/**
 * Two projects in one `vitest run`:
 *  - node: trainer and other Node-side code;
 *  - e2e: plain HTTP against a real `wrangler dev` started by the test;
 *  - workers: the edge service inside workerd (real D1 + R2 bindings, migrations applied, real
 *    onnxruntime-web sessions). Fixture models are real ONNX files built here, in Node, by the
 *    trainer's exporter (hand-written trees and coefficients) and by a real training run, and
 *    handed to workerd as a JSON binding.
 */
export default defineConfig(async () => {
  applyOfflineEnv();
  const migrations = await readD1Migrations("migrations");
  const { buildFixtureModels } = await import("./test/fixtures/fixture-models");
  const { trainFixtureModel } = await import("./test/fixtures/trained-model");
  const fixtures = [...(await buildFixtureModels()), await trainFixtureModel()].map((f) => ({
    name: f.name,
    manifest: f.manifest,
    onnx_base64: Buffer.from(f.onnx).toString("base64"),
  }));
  return {
    test: {
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
                },
              },
            }),
          ],
          test: {
            name: "workers",
            include: ["test/workers/**/*.test.ts"],
            setupFiles: ["./test/workers/apply-migrations.ts"],
            testTimeout: 60_000,
            hookTimeout: 60_000,
          },
        },
      ],
    },
  };
});
