/**
 * Measures what Cloudflare limits a deployment of this Worker against, and prints it beside them
 * (a measurement, not a test):
 *  1. the bundle `wrangler deploy --dry-run --outdir` builds, offline: raw and gzip, against the
 *     64 MiB Worker size limit (uncompressed, every plan) and the older compressed limits;
 *  2. workerd CPU time of a cold Worker: startup, the first prediction of a fresh process (D1 +
 *     R2 + wasm instantiate + ORT session + inference), and full batches of MAX_BATCH_ROWS rows, on
 *     the default trained model and on the 200-tree bench forest; medians over --runs cold starts,
 *     a fresh workerd each time, against the plans' per-invocation CPU limits.
 *
 *   npm run bench:limits [-- --runs 5 --batches 10 --json --skip-cpu --default-model <artifact dir>]
 *
 * Without --default-model the default model is trained from config.yaml into a temp dir (about 3 s),
 * so nothing in artifacts/ changes. Everything started is stopped and removed at the end.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineCommand, runMain } from "citty";
import { BENCH_MODEL_DEFAULTS, buildBenchModel } from "./bench/bench-model";
import { type BundleSize, measureBundle } from "./bench/bundle-size";
import { installCleanupHandlers, makeTempDir, runCleanups } from "./bench/cleanup";
import { baselineStartupCpuMs, type ColdRun, coldRun } from "./bench/cold-start";
import { formatLimitsReport, type LimitsReport, summarizeCold } from "./bench/limits-report";
import { median } from "./bench/order-statistics";
import { runEnvironment } from "./bench/report-header";
import { positiveArg } from "./bench/positive-arg";
import { type BenchModel, publishModels, readBenchModel } from "./bench/registry-state";
import { trainDefaultModel } from "./bench/train-default";
import { packageVersion, readRegistryConfig } from "./bench/wrangler-config";

const ROOT = resolve(import.meta.dirname, "..");
const log = (line: string) => process.stderr.write(`${line}\n`);

const command = defineCommand({
  meta: { name: "measure-deploy-limits", description: "Bundle size and cold/batch CPU time against Cloudflare's Worker limits" },
  args: {
    runs: { type: "string", description: "cold starts per model (a fresh workerd each)", default: "5" },
    batches: { type: "string", description: "full batches measured per cold start, after the first", default: "10" },
    "warm-requests": { type: "string", description: "warm 1-row requests measured per cold start", default: "10" },
    "default-model": { type: "string", description: "artifact dir of the default model (default: train one from config.yaml into a temp dir)" },
    "bench-model": { type: "string", description: "artifact dir of the bench forest", default: "artifacts/bench-forest" },
    "sample-rate": { type: "string", description: "SAMPLE_RATE for the CPU runs (0: no D1 sample writes in the figures)", default: "0" },
    "skip-cpu": { type: "boolean", description: "bundle size only", default: false },
    json: { type: "boolean", description: "print the figures as JSON on stdout (progress stays on stderr)", default: false },
  },
  async run({ args }) {
    installCleanupHandlers();
    const runs = positiveArg("runs", args.runs);
    const batches = positiveArg("batches", args.batches);
    const warmRequests = positiveArg("warm-requests", args["warm-requests"]);
    try {
      const tmp = makeTempDir("bench-limits-");
      const config = readRegistryConfig(ROOT);
      const batchRows = Number(config.vars.MAX_BATCH_ROWS ?? "1000");
      log("building the bundle: wrangler deploy --dry-run --outdir <temp> (offline)...");
      const bundleDir = join(tmp, "bundle");
      const bundle: BundleSize = await measureBundle(ROOT, bundleDir);
      log(`  ${bundle.files.length} files, ${(bundle.bytes / 2 ** 20).toFixed(2)} MiB raw, ${(bundle.gzipBytes / 2 ** 20).toFixed(2)} MiB gzip`);

      const report: LimitsReport = {
        meta: {
          ...runEnvironment(ROOT),
          onnxruntimeWeb: packageVersion(ROOT, "onnxruntime-web"),
          runs,
          batches,
          batchRows,
          sampleRate: args["sample-rate"],
        },
        bundle,
        models: [],
      };

      if (!args["skip-cpu"]) {
        let defaultDir = args["default-model"] ? resolve(ROOT, args["default-model"]) : "";
        if (!defaultDir) {
          log("training the default model (config.yaml) into a temp dir...");
          defaultDir = await trainDefaultModel(join(tmp, "artifacts"));
        }
        const benchDir = resolve(ROOT, args["bench-model"]);
        if (!existsSync(join(benchDir, "model.onnx"))) {
          log(`building the bench forest into ${benchDir}...`);
          await buildBenchModel({ outDir: benchDir, ...BENCH_MODEL_DEFAULTS });
        }
        const models: BenchModel[] = [readBenchModel(defaultDir), readBenchModel(benchDir)];
        const stateDir = join(tmp, "state");
        log("preparing the registry: migrations + publishVersion() of both models, alias production...");
        await publishModels(stateDir, config, join(ROOT, "migrations"), models.map((model) => ({ model, aliases: ["production"] })));
        const vars = { ...config.vars, SAMPLE_RATE: args["sample-rate"] };

        const baseline: number[] = [];
        const cold = new Map<string, ColdRun[]>(models.map((m) => [m.manifest.name, []]));
        for (let r = 0; r < runs; r++) {
          baseline.push(await baselineStartupCpuMs(join(tmp, "baseline-state"), config));
          // Alternate which model goes first, so drift on the shared machine hits both alike.
          const order = r % 2 ? [...models].reverse() : models;
          for (const model of order) {
            const run = await coldRun(bundleDir, stateDir, config, vars, model, { batchRows, batches, warmRequests });
            cold.get(model.manifest.name)!.push(run);
            log(
              `  run ${r + 1}/${runs} ${model.manifest.name}: startup ${run.startupCpuMs.toFixed(0)} ms CPU, first request ` +
                `${run.first.cpuMs.toFixed(1)} ms CPU (${run.first.wallMs.toFixed(0)} ms wall), first ${batchRows}-row batch ` +
                `${run.firstBatch.cpuMs.toFixed(1)} ms, next batches median ${median(run.batches.map((b) => b.cpuMs)).toFixed(1)} ms`,
            );
          }
        }
        report.models = models.map((m) =>
          summarizeCold(m.manifest.name, m.manifest.description, m.onnx.byteLength, cold.get(m.manifest.name)!, baseline),
        );
      }
      if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(`\n${formatLimitsReport(report)}\n`);
    } finally {
      await runCleanups();
    }
  },
});
runMain(command);
