/**
 * Benchmarks /predict end to end and inference inside workerd, and prints the figures (a
 * benchmark, not a test: it fails only when something does not serve).
 *
 *   npx tsx scripts/bench-predict.ts [--duration 10] [--warmup 3] [--connections 16] [--rows 1,100]
 *        [--skip-wrangler] [--skip-inference] [--skip-floor] [--probe-rows 1,100,1000] [--probe-warmup 30]
 *        [--compare sampling,canary,shadow,shadow-sampled,shadow-unstored,sampling-request,shadow-request] [--compare-rounds 5] [--shadow-rate 50]
 *        [--json]   (npx tsx scripts/bench-predict.ts --help lists every flag)
 *
 * Path A, "direct": the bundle `wrangler deploy --dry-run` builds, run by workerd through Miniflare's
 * own server (no wrangler proxy in front). Path B: the same worker through `wrangler dev`. Both serve
 * one registry prepared in a temp dir (migrations applied and the bench forest published through the
 * worker's own publishVersion(), alias production), laid out as wrangler's `--persist-to`. The bench
 * forest (artifacts/bench-forest, 200 trees of depth 8) is built first when it is missing, as
 * `npx tsx scripts/build-bench-model.ts` would.
 * Inference per row comes from a probe worker (scripts/bench/inference-probe.ts) timed from outside,
 * because workerd's clocks do not advance during pure CPU work; cold, and again after --probe-warmup
 * seconds of inference (V8 tiers hot wasm up from Liftoff to TurboFan only after a while).
 *
 * A/B rows (--compare, scripts/bench/comparisons.ts): sampling off vs SAMPLE_RATE 0.1, no traffic
 * policy vs a 20% canary, no shadow vs a shadow storing all, a tenth or none of its pairs; two
 * direct servers over copies of one registry (the model published twice: v1 production, v2 the
 * candidate), the load alternating between them round by round, medians of the paired rounds.
 *
 * Everything started here (Miniflare instances, the wrangler dev process group, temp dirs) is
 * stopped and removed at the end, on failure and on Ctrl-C.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineCommand, runMain } from "citty";
import { BENCH_MODEL_DEFAULTS, buildBenchModel } from "./bench/bench-model";
import { installCleanupHandlers, makeTempDir, runCleanups } from "./bench/cleanup";
import { HEALTH_FLOOR, type LoadFigures, type Payload, payloads, runLoad, verifyPredict } from "./bench/load";
import { measureInNode } from "./bench/node-reference";
import { measureInference, type ProbeResult } from "./bench/probe-timing";
import { buildBundle } from "./bench/process";
import { positiveArg } from "./bench/positive-arg";
import { type ComparisonResult, runComparison } from "./bench/compare";
import { BENCH_ADMIN_TOKEN, BENCH_PREDICTION_TOKEN_SECRET, COMPARISONS, type ComparisonName, comparison } from "./bench/comparisons";
import { type BenchModel, prepareRegistry, publishModels, readBenchModel } from "./bench/registry-state";
import { packageVersion, readRegistryConfig } from "./bench/wrangler-config";
import { type BenchReport, checkTargets, formatReport, type PathRun } from "./bench/report";
import { runEnvironment } from "./bench/report-header";
import { type RunningServer, startDirect, startWranglerDev } from "./bench/servers";

const ROOT = resolve(import.meta.dirname, "..");
const log = (line: string) => process.stderr.write(`${line}\n`);

async function benchPath(
  path: PathRun["path"],
  description: string,
  server: RunningServer,
  model: BenchModel,
  bodies: Payload[],
  options: { connections: number; durationS: number; warmupS: number; expectVersion: number },
): Promise<PathRun> {
  const version = String(options.expectVersion);
  for (const payload of bodies) {
    // The first request loads the ORT session (~0.5-1 s); check every payload before loading it up.
    const first = await verifyPredict(server.url, model.manifest, payload);
    if (payload.rows > 0 && first.version !== version) {
      throw new Error(`${description} served ${model.manifest.name} version ${first.version}, but the registry's production alias is version ${version}`);
    }
    if (payload.rows > 0) log(`  ${payload.label}: 200, ${model.manifest.name} v${first.version}, golden reproduced (first request ${first.ms.toFixed(0)} ms)`);
  }
  const runs: PathRun["runs"] = [];
  for (const payload of bodies) {
    log(`  ${payload.label}: warm-up ${options.warmupS} s...`);
    await runLoad(server.url, payload, { connections: options.connections, durationS: options.warmupS });
    log(`  ${payload.label}: measuring ${options.durationS} s at ${options.connections} connections...`);
    const figures: LoadFigures = await runLoad(server.url, payload, {
      connections: options.connections,
      durationS: options.durationS,
      serverPids: () => server.pids(),
    });
    log(
      `  ${payload.label}: ${figures.reqPerSec.toFixed(0)} req/s, p50 ${figures.latencyMs.p50.toFixed(2)} ms, ` +
        `p99 ${figures.latencyMs.p99.toFixed(2)} ms, server CPU ${figures.serverCpuMsPerRequest.toFixed(3)} ms/req, ` +
        `non-2xx ${figures.non2xx}, errors ${figures.errors}`,
    );
    if (figures.non2xx > 0 || figures.errors > 0) {
      log(`  WARNING: ${figures.non2xx} non-2xx responses, ${figures.errors} errors: ${JSON.stringify({ status: figures.statusCodes, errors: figures.errorKinds })}`);
    }
    runs.push({ payload: payload.label, rows: payload.rows, ...figures });
  }
  return { path, description, url: server.url, modelVersion: version, runs };
}

const command = defineCommand({
  meta: { name: "bench-predict", description: "Benchmark /predict (direct workerd and wrangler dev) and in-isolate inference" },
  args: {
    duration: { type: "string", description: "seconds per measured run", default: "10" },
    warmup: { type: "string", description: "seconds of warm-up load before each measured run", default: "3" },
    connections: { type: "string", description: "concurrent connections", default: "16" },
    rows: { type: "string", description: "comma-separated rows per request", default: "1,100" },
    model: { type: "string", description: "artifact dir of the bench model", default: "artifacts/bench-forest" },
    "skip-wrangler": { type: "boolean", description: "skip path B (wrangler dev)", default: false },
    "skip-inference": { type: "boolean", description: "skip the in-isolate inference probe", default: false },
    "skip-floor": { type: "boolean", description: "skip the GET /health floor run on each path", default: false },
    "explain-rows": {
      type: "string",
      description: "batch sizes for the explain probe (explainRows inside workerd on the bench forest's explainer); empty skips it",
      default: "1,100",
    },
    "probe-rows": { type: "string", description: "batch sizes for the inference probe", default: "1,100,1000" },
    "probe-samples": { type: "string", description: "paired samples per batch size", default: "25" },
    "probe-target-ms": { type: "string", description: "inference per timed probe request (ms)", default: "40" },
    "probe-warmup": {
      type: "string",
      description: "seconds of inference before the warm figures (time for V8 to tier the wasm up); 0 = cold only",
      default: "30",
    },
    compare: {
      type: "string",
      description: "A/B rows to run on the direct path, comma-separated: sampling,canary,shadow,shadow-sampled,shadow-unstored,sampling-request,shadow-request,explain-idle (none: empty)",
      default: "sampling,canary,shadow,shadow-sampled,shadow-unstored",
    },
    "compare-rounds": { type: "string", description: "alternating A/B rounds per comparison", default: "5" },
    "compare-duration": { type: "string", description: "seconds per A or B run in a round", default: "5" },
    "compare-rows": { type: "string", description: "rows per request in the A/B rows", default: "1" },
    "shadow-rate": {
      type: "string",
      description: "requests per second for the shadow latency rows: below the shadowed server's capacity, or queueing swamps the figure",
      default: "50",
    },
    "wrangler-log-level": { type: "string", description: "wrangler dev --log-level (default: wrangler's own, which logs every request)" },
    json: { type: "boolean", description: "print the figures as JSON on stdout (progress stays on stderr)", default: false },
  },
  async run({ args }) {
    installCleanupHandlers();
    const durationS = positiveArg("duration", args.duration, false);
    const warmupS = positiveArg("warmup", args.warmup, false);
    const connections = positiveArg("connections", args.connections);
    const rowCounts = args.rows.split(",").map((r) => positiveArg("rows", r.trim()));
    const probeRows = args["probe-rows"].split(",").map((r) => positiveArg("probe-rows", r.trim()));
    const probeSamples = positiveArg("probe-samples", args["probe-samples"]);
    const probeTargetMs = positiveArg("probe-target-ms", args["probe-target-ms"], false);
    const probeWarmupS = args["probe-warmup"] === "0" ? 0 : positiveArg("probe-warmup", args["probe-warmup"], false);
    const explainRows = args["explain-rows"].split(",").map((r) => r.trim()).filter(Boolean).map((r) => positiveArg("explain-rows", r));
    const compareNames = args.compare.split(",").map((c) => c.trim()).filter(Boolean);
    for (const name of compareNames) {
      if (!(COMPARISONS as readonly string[]).includes(name)) throw new Error(`--compare: unknown row ${name}; expected ${COMPARISONS.join(", ")}`);
    }
    const compareRounds = positiveArg("compare-rounds", args["compare-rounds"]);
    const compareDurationS = positiveArg("compare-duration", args["compare-duration"], false);
    const compareRows = positiveArg("compare-rows", args["compare-rows"]);
    const shadowRate = positiveArg("shadow-rate", args["shadow-rate"]);
    const modelDir = resolve(ROOT, args.model);
    if (!["model.onnx", "manifest.json", "explainer.json"].every((file) => existsSync(join(modelDir, file)))) {
      const { trees, depth, seed } = BENCH_MODEL_DEFAULTS;
      log(`${modelDir} has no model.onnx + manifest.json: building the bench forest (${trees} trees, depth ${depth}, seed ${seed})...`);
      const started = performance.now();
      await buildBenchModel({ outDir: modelDir, ...BENCH_MODEL_DEFAULTS });
      log(`  built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }

    try {
      const model = readBenchModel(modelDir);
      const config = readRegistryConfig(ROOT);
      const maxRows = Math.max(1000, ...rowCounts);
      const vars = { DEFAULT_MODEL: model.manifest.name, DEFAULT_ALIAS: "production", MAX_BATCH_ROWS: String(maxRows), PREDICTION_TOKEN_SECRET: BENCH_PREDICTION_TOKEN_SECRET };
      const tmp = makeTempDir("bench-predict-");
      const stateDir = join(tmp, "state");
      const bundleDir = join(tmp, "worker-bundle");
      const probeDir = join(tmp, "probe-bundle");
      const meta: BenchReport["meta"] = {
        ...runEnvironment(ROOT),
        miniflare: packageVersion(ROOT, "miniflare"),
        model: model.manifest.name,
        modelDescription: model.manifest.description,
        modelBytes: model.onnx.byteLength,
        connections,
        durationS,
        warmupS,
      };

      log(`building the worker bundle${args["skip-inference"] ? "" : " and the inference probe"} (wrangler deploy --dry-run) into ${tmp}...`);
      const probe = !args["skip-inference"] || explainRows.length > 0;
      await Promise.all([buildBundle(ROOT, bundleDir), probe ? buildBundle(ROOT, probeDir, "scripts/bench/inference-probe.ts") : null]);

      log("preparing the registry: migrations + publishVersion(), alias production...");
      const registered = await prepareRegistry(stateDir, config, join(ROOT, "migrations"), model);
      meta.modelVersion = registered.version;
      const bodies = [...payloads(model.manifest, rowCounts), ...(args["skip-floor"] ? [] : [HEALTH_FLOOR])];
      const load = { connections, durationS, warmupS, expectVersion: registered.version };
      const paths: PathRun[] = [];

      log("path A, direct: Miniflare serving the built bundle...");
      const direct = await startDirect(bundleDir, stateDir, config, { ...config.vars, ...vars });
      log(`  listening on ${direct.url}`);
      try {
        paths.push(await benchPath("direct", "A direct (Miniflare, built bundle)", direct, model, bodies, load));
      } finally {
        await direct.stop();
      }

      let inference: ProbeResult | null = null;
      if (!args["skip-inference"]) {
        log("inference probe: session.run inside workerd, timed from Node...");
        const probe = { rowCounts: probeRows, samples: probeSamples, targetMs: probeTargetMs, warmupS: probeWarmupS };
        inference = await measureInference(probeDir, model, { ...probe, log });
        log(`reference: the same inference in Node (cold, then after ${probeWarmupS} s of warm-up)...`);
        inference.node = await measureInNode(model, probe);
      }

      let explain: ProbeResult | null = null;
      if (explainRows.length) {
        log("explain probe: explainRows inside workerd (exact SHAP, the bench forest's 100-row background), timed from Node...");
        const probe = { path: "explain" as const, rowCounts: explainRows, samples: 9, targetMs: probeTargetMs, warmupS: Math.min(probeWarmupS, 10) };
        explain = await measureInference(probeDir, model, { ...probe, log });
      }

      if (!args["skip-wrangler"]) {
        const level = args["wrangler-log-level"];
        log(`path B: wrangler dev --persist-to <temp state>${level ? ` --log-level ${level}` : ""}...`);
        const dev = await startWranglerDev(ROOT, stateDir, vars, tmp, level);
        log(`  listening on ${dev.url}`);
        try {
          const label = `B wrangler dev${level ? ` (log ${level})` : ""}`;
          paths.push(await benchPath("wrangler-dev", label, dev, model, bodies, load));
        } finally {
          await dev.stop();
        }
      }

      const comparisons: ComparisonResult[] = [];
      if (compareNames.length) {
        log(`A/B rows (${compareNames.join(", ")}): the registry again with a second version of the model...`);
        const template = join(tmp, "compare-state");
        // 1: production; 2: the same artifact again (the canary's and shadow's candidate); 3: the same
        // without its explainer (explain-idle: what a version with an explainer costs requests that do not explain).
        const [, candidate, plain] = await publishModels(template, config, join(ROOT, "migrations"), [
          { model, aliases: ["production"] },
          { model, aliases: [] },
          { model: withoutExplainer(model), aliases: [] },
        ]);
        const [payload] = payloads(model.manifest, [compareRows]);
        const [oneRow] = payloads(model.manifest, [1]);
        for (const name of compareNames) {
          const c = comparison(name as ComparisonName, { modelName: model.manifest.name, config, candidateVersion: candidate!.version, plainVersion: plain!.version }, oneRow!.body!);
          log(`${c.name}: A = ${c.a.label}, B = ${c.b.label}; ${compareRounds} rounds of ${compareDurationS} s each${c.mode === "latency" ? ` at ${shadowRate} req/s` : ""}...`);
          comparisons.push(
            await runComparison(c, {
              bundleDir,
              stateTemplate: template,
              workDir: tmp,
              config,
              baseVars: { ...config.vars, ...vars, ADMIN_TOKEN: BENCH_ADMIN_TOKEN },
              model,
              payload: payload!,
              rounds: compareRounds,
              durationS: compareDurationS,
              warmupS,
              connections,
              rate: shadowRate,
              log,
            }),
          );
        }
      }

      const report: BenchReport = { meta, paths, inference, explain, comparisons, targets: checkTargets(paths, inference, comparisons, explain) };
      if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(`\n${formatReport(report)}\n`);
    } finally {
      await runCleanups();
    }
  },
});

/** The bench model as a trainer without explanations would have written it: no explainer block, file or golden explanations. */
function withoutExplainer(model: BenchModel): BenchModel {
  const { explainer: _file, ...rest } = model;
  const { explainer: _block, ...manifest } = model.manifest;
  return { ...rest, manifest: { ...manifest, golden: manifest.golden.map(({ explanation: _e, ...g }) => g) } };
}

runMain(command);
