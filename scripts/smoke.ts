/** `npm run smoke -- --url <base>`: the post-deploy smoke test (scripts/lib/smoke-checks.ts); exit 1 naming the failed step. */
import { defineCommand, runMain } from "citty";
import { runSmoke, SmokeFailure } from "./lib/smoke-checks";

const main = defineCommand({
  meta: { name: "smoke", description: "Check /health, /ready, /openapi.json and one /predict against a deployed Worker" },
  args: {
    url: { type: "string", description: "Base URL of the Worker, e.g. https://edge-mlops.example.workers.dev", required: true },
    "expect-version": { type: "string", description: "Fail unless the default model serves this version" },
  },
  async run({ args }) {
    const expected = args["expect-version"];
    if (expected !== undefined && !/^[1-9][0-9]*$/.test(expected)) {
      console.error(`--expect-version must be a positive integer, got ${JSON.stringify(expected)}`);
      process.exit(2);
    }
    try {
      await runSmoke(args.url, {
        expectVersion: expected === undefined ? undefined : Number(expected),
        log: (s) => console.log(`✓ ${s.step}: ${s.detail}`),
      });
      console.log(`smoke passed: ${args.url}`);
    } catch (error) {
      if (!(error instanceof SmokeFailure)) throw error;
      console.error(`✗ ${error.message}`);
      process.exit(1);
    }
  },
});

runMain(main);
