/**
 * `npm start`: the whole main job on a laptop, offline.
 *  1. generates the synthetic dataset if the configured training file is missing;
 *  2. writes `.dev.vars` with a random ADMIN_TOKEN and PREDICTION_TOKEN_SECRET when there is none,
 *     so the admin API, POST /feedback and prediction tokens work locally (the admin token is
 *     printed once); an existing .dev.vars only gets a PREDICTION_TOKEN_SECRET when it lacks one;
 *  3. applies the D1 migrations to local state;
 *  4. publishes the latest training run as production if it was never published (training one when
 *     there is none); a run already published is left alone, so a rollback of production stands
 *     (scripts/lib/start-plan.ts);
 *  5. runs `wrangler dev` on 127.0.0.1:8787 (cron handler on: /cdn-cgi/handler/scheduled).
 * `--retrain` trains, publishes and promotes a new version even when one exists. Paths in the config
 * are relative to the config file, as for `npm run train`; `--artifacts-dir` matches its flag.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { defineCommand, runMain } from "citty";
import { loadConfig } from "../trainer/config";
import { runTraining } from "../trainer/pipeline/train-run";
import { applyLocalMigrations, withLocalBindings } from "../trainer/local-registry";
import { OFFLINE_ENV, PROJECT_ROOT } from "../trainer/offline-env";
import { ensureDevVars, ensureTrainingData, prepareProduction, startPaths } from "./lib/start-plan";

const main = defineCommand({
  meta: { name: "start", description: "Train (first run), publish and serve the default model with wrangler dev" },
  args: {
    config: { type: "string", default: "config.yaml" },
    "artifacts-dir": { type: "string", description: "where training runs go (as npm run train's flag)", default: "artifacts" },
    port: { type: "string", default: "8787" },
    retrain: { type: "boolean", default: false, description: "train, publish and promote a new version first" },
  },
  async run({ args }) {
    const { config, text } = loadConfig(args.config);
    const paths = startPaths(args.config, config, args["artifacts-dir"]);
    if (await ensureTrainingData(paths.dataPath, config.training.random_state)) {
      console.log(`• ${paths.dataPath} was missing: generated the synthetic churn dataset`);
    }
    // Announced next to the server's address below, where it is not lost among the training output.
    const devVars = ensureDevVars(join(PROJECT_ROOT, ".dev.vars"));
    console.log("• applying D1 migrations to local state");
    applyLocalMigrations();
    await withLocalBindings(async (env) => {
      const name = config.mlflow.model_name;
      if (name !== env.DEFAULT_MODEL) {
        console.warn(`! ${args.config} names ${name} but wrangler.toml DEFAULT_MODEL is ${env.DEFAULT_MODEL}; /predict serves the latter`);
      }
      await prepareProduction(env, {
        name,
        artifactsDir: paths.artifactsDir,
        retrain: args.retrain,
        log: (line) => console.log(line),
        train: async () => {
          console.log(`• training ${name} from ${paths.dataPath}`);
          const result = await runTraining(config, {
            configText: text,
            configPath: args.config,
            baseDir: paths.baseDir,
            artifactsDir: paths.artifactsDir,
            onPhase: (p) => console.log(`  ${p}`),
          });
          console.log(`  ROC AUC ${result.evaluation.roc_auc.toFixed(4)}, artifacts in ${result.dir}`);
          return result.dir;
        },
      });
    });
    if (devVars.adminToken) {
      console.log(`• wrote .dev.vars with a random ADMIN_TOKEN (admin API, POST /feedback): ${devVars.adminToken}, and a PREDICTION_TOKEN_SECRET`);
    } else if (devVars.predictionSecret) {
      console.log("• added a random PREDICTION_TOKEN_SECRET to .dev.vars (prediction tokens); nothing else in it was changed");
    }
    console.log(`• wrangler dev on http://127.0.0.1:${args.port}`);
    const child = spawn("npx", ["wrangler", "dev", "--ip", "127.0.0.1", "--port", args.port, "--test-scheduled"], {
      stdio: "inherit",
      env: { ...process.env, ...OFFLINE_ENV },
    });
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
    child.on("exit", (code) => process.exit(code ?? 0));
  },
});

runMain(main);
