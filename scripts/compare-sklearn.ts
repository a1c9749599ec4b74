/**
 * Dev check, not a test: do our learners reach scikit-learn's validation ROC AUC on the project's
 * own data and split? Prepares data exactly as `train` does (prepareData), fits our forest,
 * logistic regression and boosting, hands the same design matrices to scripts/compare_sklearn.py,
 * and prints both AUCs. Bar: |difference| <= 0.01 (exit status 1 otherwise).
 *
 *   npx tsx scripts/compare-sklearn.ts [--config config.yaml] [--seed <training.random_state>]
 *
 * Needs scikit-learn for /usr/bin/python3 (or $PYTHON): apt-get install -y python3-sklearn python3-scipy.
 */
import { fileURLToPath } from "node:url";
import { defineCommand, runMain } from "citty";
import { loadConfig, modelConfigSchema, type ModelConfig } from "../trainer/config";
import { rocAuc } from "../trainer/metrics/roc-auc";
import { fitModel } from "../trainer/models/fit-model";
import { predictProba } from "../trainer/models/predict";
import { prepareData } from "../trainer/pipeline/prepare";
import { Rng } from "../trainer/random";
import { removeDir, runSklearn, writeSplits } from "./lib/sklearn-bridge";

const BAR = 0.01;

/** The reference forest (200 trees, depth 8) and sklearn's LogisticRegression(C=1); boosting with our defaults. */
const MODELS = {
  random_forest: modelConfigSchema.parse({ type: "random_forest", n_estimators: 200, max_depth: 8, max_features: "sqrt" }),
  logistic_regression: modelConfigSchema.parse({ type: "logistic_regression", C: 1 }),
  gradient_boosting: modelConfigSchema.parse({ type: "gradient_boosting", early_stopping_rounds: 0 }),
} satisfies Record<string, ModelConfig>;

type SklearnResult = Record<keyof typeof MODELS, { auc: number; fit_seconds: number }> & { sklearn_version: string };

async function compare(configPath: string, seedArg: string | undefined): Promise<boolean> {
  const { config } = loadConfig(configPath);
  const seed = seedArg === undefined ? config.training.random_state : Number(seedArg);
  const data = await prepareData(config);
  const { train, validation } = data;
  console.log(`data: ${config.data.train_path}, train ${train.X.rows} x ${train.X.cols}, validation ${validation.X.rows}, seed ${seed}`);

  const dir = writeSplits(
    { train, validation },
    { seed, ...Object.fromEntries(Object.entries(MODELS).map(([k, v]) => [k, { ...v }])) },
  );
  try {
    const ours: Record<string, { auc: number; seconds: number }> = {};
    for (const [name, modelConfig] of Object.entries(MODELS)) {
      const started = performance.now();
      // Boosting gets no validation set here, as sklearn's side runs without early stopping.
      const { model } = fitModel(modelConfig, train, { rng: new Rng(seed).fork("model") });
      const seconds = (performance.now() - started) / 1000;
      ours[name] = { auc: rocAuc(validation.y, predictProba(model, validation.X)), seconds };
    }
    const theirs = runSklearn<SklearnResult>(fileURLToPath(new URL("./compare_sklearn.py", import.meta.url)), dir);

    console.log(`scikit-learn ${theirs.sklearn_version}; validation ROC AUC (fit seconds)\n`);
    console.log(`${"model".padEnd(22)}${"ours".padStart(16)}${"sklearn".padStart(16)}${"diff".padStart(10)}  within ${BAR}`);
    let allWithin = true;
    for (const name of Object.keys(MODELS) as (keyof typeof MODELS)[]) {
      const a = ours[name]!;
      const b = theirs[name];
      const diff = a.auc - b.auc;
      // Boosting is informative only: the bar is for the forest and logistic regression.
      const judged = name !== "gradient_boosting";
      const within = Math.abs(diff) <= BAR;
      if (judged && !within) allWithin = false;
      const cell = (auc: number, s: number) => `${auc.toFixed(4)} (${s.toFixed(1)}s)`.padStart(16);
      const verdict = judged ? (within ? "yes" : "NO") : within ? "(yes)" : "(no)";
      console.log(`${name.padEnd(22)}${cell(a.auc, a.seconds)}${cell(b.auc, b.fit_seconds)}${diff.toFixed(4).padStart(10)}  ${verdict}`);
    }
    return allWithin;
  } finally {
    removeDir(dir);
  }
}

const command = defineCommand({
  meta: { name: "compare-sklearn", description: "Validation ROC AUC of our learners beside scikit-learn's" },
  args: {
    config: { type: "string", default: "config.yaml", description: "Config whose data and split to use" },
    seed: { type: "string", description: "Model seed (default: training.random_state)" },
  },
  async run({ args }) {
    const ok = await compare(args.config, args.seed);
    if (!ok) process.exitCode = 1;
  },
});

void runMain(command);
