/**
 * Training speed, not a test: the default config's forest (200 trees, depth 8) on a 100k-row training
 * matrix built exactly as `train` builds it (synthetic churn rows -> prepareData), timed for our
 * learner and for scikit-learn single-threaded (n_jobs=1 / OMP_NUM_THREADS=1) on the same matrix,
 * with both validation ROC AUCs. Reports wall-clock median and min plus CPU seconds, since a shared
 * machine makes wall time noisy.
 *
 *   npx tsx scripts/bench-train.ts [--rows 125000] [--runs 3] [--sklearn-runs 1]
 *        [--model random_forest|gradient_boosting|logistic_regression] [--no-sklearn]
 *
 * --rows is the generated total; the config's 20% validation split leaves 100k training rows.
 *
 * --scale instead runs one whole `train` (the config's model, every phase) on a 1M-row file, as a
 * user would after `npm run data -- --rows 1000000`, and reports load MB/s, fit seconds, total wall
 * and peak memory (the kernel's high-water mark VmHWM, which a sampler would miss: the fit blocks
 * the event loop). The file is generated once into --data-dir and reused.
 *
 *   npx tsx scripts/bench-train.ts --scale [--scale-rows 1000000] [--data-dir <tmp>/edge-mlops-bench]
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineCommand, runMain } from "citty";
import { loadConfig, modelConfigSchema, type ModelConfig } from "../trainer/config";
import { runTraining } from "../trainer/pipeline/train-run";
import { generateChurnRows, toCsv } from "../trainer/data/synthetic";
import { rocAuc } from "../trainer/metrics/roc-auc";
import { fitModel } from "../trainer/models/fit-model";
import { predictProba } from "../trainer/models/predict";
import { prepareData } from "../trainer/pipeline/prepare";
import { Rng } from "../trainer/random";
import { median } from "./bench/order-statistics";
import { positiveArg } from "./bench/positive-arg";
import { removeDir, runSklearn, writeSplits } from "./lib/sklearn-bridge";

const MODELS: Record<string, ModelConfig> = {
  random_forest: modelConfigSchema.parse({ type: "random_forest", n_estimators: 200, max_depth: 8 }),
  gradient_boosting: modelConfigSchema.parse({ type: "gradient_boosting", early_stopping_rounds: 0 }),
  logistic_regression: modelConfigSchema.parse({ type: "logistic_regression", C: 1 }),
};

interface Timing {
  wall: number[];
  cpu: number[];
  auc: number;
}

const fmt = (t: Timing) =>
  `median ${median(t.wall).toFixed(2)}s  min ${Math.min(...t.wall).toFixed(2)}s  cpu ${median(t.cpu).toFixed(2)}s  AUC ${t.auc.toFixed(4)}`;

const command = defineCommand({
  meta: { name: "bench-train", description: "Time our learner beside scikit-learn on a 100k-row churn matrix" },
  args: {
    config: { type: "string", default: "config.yaml", description: "Config for preprocessing and split" },
    rows: { type: "string", default: "125000", description: "Rows to generate (80% become training rows)" },
    seed: { type: "string", default: "42", description: "Data and model seed" },
    runs: { type: "string", default: "3", description: "Timed fits of our learner" },
    "sklearn-runs": { type: "string", default: "1", description: "Timed fits of scikit-learn" },
    model: { type: "string", default: "random_forest", description: Object.keys(MODELS).join(" | ") },
    sklearn: { type: "boolean", default: true, description: "Also time scikit-learn (--no-sklearn to skip)" },
    scale: { type: "boolean", default: false, description: "Time one whole `train` on a large generated file instead" },
    "scale-rows": { type: "string", default: "1000000", description: "Rows of the --scale file" },
    "data-dir": { type: "string", default: join(tmpdir(), "edge-mlops-bench"), description: "Where the --scale file is generated" },
  },
  async run({ args }) {
    if (args.scale) return runScale(args.config, Number(args["scale-rows"]), args["data-dir"], args.seed);
    const modelConfig = MODELS[args.model];
    if (!modelConfig) throw new Error(`unknown --model ${args.model}; one of ${Object.keys(MODELS).join(", ")}`);
    const seed = Number(args.seed);
    const { config } = loadConfig(args.config);
    let started = performance.now();
    const csvText = toCsv(generateChurnRows({ rows: positiveArg("rows", args.rows), seed, messy: true }));
    const { train, validation } = await prepareData(config, { csvText });
    const prepSeconds = (performance.now() - started) / 1000;
    console.log(
      `${args.model} ${JSON.stringify(modelConfig)}\n` +
        `train ${train.X.rows} x ${train.X.cols}, validation ${validation.X.rows} (generated and prepared in ${prepSeconds.toFixed(1)}s)`,
    );

    const ours: Timing = { wall: [], cpu: [], auc: Number.NaN };
    const runs = positiveArg("runs", args.runs);
    for (let run = 0; run < runs; run++) {
      const cpu0 = process.cpuUsage();
      started = performance.now();
      const { model } = fitModel(modelConfig, train, { rng: new Rng(seed).fork("model") });
      ours.wall.push((performance.now() - started) / 1000);
      const cpu = process.cpuUsage(cpu0);
      ours.cpu.push((cpu.user + cpu.system) / 1e6);
      ours.auc = rocAuc(validation.y, predictProba(model, validation.X));
      console.log(`  ours run ${run + 1}: ${ours.wall[run]!.toFixed(2)}s wall, ${ours.cpu[run]!.toFixed(2)}s cpu`);
    }
    console.log(`ours (TypeScript, node ${process.version}, 1 thread): ${fmt(ours)}`);
    if (!args.sklearn) return;

    const dir = writeSplits({ train, validation }, { seed, model: modelConfig });
    try {
      const script = fileURLToPath(new URL("./bench_train.py", import.meta.url));
      const theirs = runSklearn<Timing & { sklearn_version: string }>(script, dir, [String(positiveArg("sklearn-runs", args["sklearn-runs"]))]);
      console.log(`scikit-learn ${theirs.sklearn_version} (n_jobs=1): ${fmt(theirs)}`);
      console.log(`speed-up (median wall): ${(median(theirs.wall) / median(ours.wall)).toFixed(1)}x`);
    } finally {
      removeDir(dir);
    }
  },
});

void runMain(command);

/**
 * One `train` on a large file, in this process: nothing but argument parsing ran before it, so the
 * process's peak RSS is the training run's. The data is generated by the CLI in a child process,
 * whose memory does not count here.
 */
async function runScale(configPath: string, rows: number, dataDir: string, seed: string): Promise<void> {
  if (!Number.isInteger(rows) || rows < 1000) throw new Error(`--scale-rows must be a whole number >= 1000, got ${rows}`);
  const dir = resolve(dataDir, `churn-${rows}-seed${seed}`);
  const csv = join(dir, "churn_train.csv");
  if (!existsSync(csv)) {
    console.log(`generating ${rows} rows into ${dir} ...`);
    const cli = fileURLToPath(new URL("../trainer/cli.ts", import.meta.url));
    execFileSync(process.execPath, [...process.execArgv, cli, "generate-data", "--rows", String(rows), "--out-dir", dir, "--seed", seed], {
      stdio: "inherit",
    });
  }
  const { config, text } = loadConfig(configPath);
  config.data.train_path = csv;
  const artifacts = mkdtempSync(join(tmpdir(), "bench-train-scale-"));
  const megabytes = statSync(csv).size / 1e6;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  try {
    // The loader's last progress call comes with its last row: the CSV read time without the
    // split and preprocessing that the load phase also holds.
    let csvSeconds = Number.NaN;
    const result = await runTraining(config, {
      configText: text,
      artifactsDir: artifacts,
      onPhase: (p) => console.log(`  ${p}`),
      onLoadProgress: () => (csvSeconds = (performance.now() - started) / 1000),
    });
    const wall = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const { load, fit } = result.seconds as { load: number; fit: number };
    console.log(
      `${config.model.type} on ${csv} (${rows} rows, ${megabytes.toFixed(1)} MB; node ${process.version})\n` +
        `  read   ${csvSeconds.toFixed(2)}s  ${(megabytes / csvSeconds).toFixed(1)} MB/s  (CSV to typed columns)\n` +
        `  load   ${load.toFixed(2)}s  ${(megabytes / load).toFixed(1)} MB/s  (read + split, preprocessing, encoding)\n` +
        `  fit    ${fit.toFixed(2)}s\n` +
        `  phases ${Object.entries(result.seconds).map(([k, v]) => `${k} ${v}`).join(", ")}\n` +
        `  total  ${wall.toFixed(2)}s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)}s cpu\n` +
        `  peak   ${peakRssMegabytes()} MB RSS (VmHWM)\n` +
        `  ROC AUC ${result.evaluation.roc_auc.toFixed(4)}`,
    );
  } finally {
    rmSync(artifacts, { recursive: true, force: true });
  }
}

/** The kernel's peak resident set for this process; rounded MB, or "n/a" off Linux. */
function peakRssMegabytes(): string {
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    return kb ? (Number(kb) / 1024).toFixed(0) : "n/a";
  } catch {
    return "n/a";
  }
}
