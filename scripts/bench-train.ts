/**
 * Training speed, not a test: the tutorial's forest (200 trees, depth 8) on a 100k-row training
 * matrix built exactly as `train` builds it (synthetic churn rows -> prepareData), timed for our
 * learner and for scikit-learn single-threaded (n_jobs=1 / OMP_NUM_THREADS=1) on the same matrix,
 * with both validation ROC AUCs. Reports wall-clock median and min plus CPU seconds, since a shared
 * machine makes wall time noisy.
 *
 *   npx tsx scripts/bench-train.ts [--rows 125000] [--runs 3] [--sklearn-runs 1]
 *        [--model random_forest|gradient_boosting|logistic_regression] [--no-sklearn]
 *
 * --rows is the generated total; the config's 20% validation split leaves 100k training rows.
 */
import { fileURLToPath } from "node:url";
import { defineCommand, runMain } from "citty";
import { loadConfig, modelConfigSchema, type ModelConfig } from "../trainer/config";
import { generateChurnRows, toCsv } from "../trainer/data/synthetic";
import { rocAuc } from "../trainer/metrics/roc-auc";
import { fitModel } from "../trainer/models/fit-model";
import { predictProba } from "../trainer/models/predict";
import { prepareData } from "../trainer/pipeline/prepare";
import { Rng } from "../trainer/random";
import { median, removeDir, runSklearn, writeSplits } from "./lib/sklearn-bridge";

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
  },
  async run({ args }) {
    const modelConfig = MODELS[args.model];
    if (!modelConfig) throw new Error(`unknown --model ${args.model}; one of ${Object.keys(MODELS).join(", ")}`);
    const seed = Number(args.seed);
    const { config } = loadConfig(args.config);
    let started = performance.now();
    const csvText = toCsv(generateChurnRows({ rows: Number(args.rows), seed, messy: true }));
    const { train, validation } = await prepareData(config, { csvText });
    const prepSeconds = (performance.now() - started) / 1000;
    console.log(
      `${args.model} ${JSON.stringify(modelConfig)}\n` +
        `train ${train.X.rows} x ${train.X.cols}, validation ${validation.X.rows} (generated and prepared in ${prepSeconds.toFixed(1)}s)`,
    );

    const ours: Timing = { wall: [], cpu: [], auc: Number.NaN };
    for (let run = 0; run < Number(args.runs); run++) {
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
      const theirs = runSklearn<Timing & { sklearn_version: string }>(script, dir, [String(Number(args["sklearn-runs"]))]);
      console.log(`scikit-learn ${theirs.sklearn_version} (n_jobs=1): ${fmt(theirs)}`);
      console.log(`speed-up (median wall): ${(median(theirs.wall) / median(ours.wall)).toFixed(1)}x`);
    } finally {
      removeDir(dir);
    }
  },
});

void runMain(command);
