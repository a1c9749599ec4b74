/**
 * `npm start`: the whole main job on a laptop, offline.
 *  1. generates the synthetic dataset if the configured one is missing;
 *  2. applies the D1 migrations to local state;
 *  3. if the default model has no production version locally: trains one (or reuses the latest
 *     run in artifacts/) and registers it with alias production;
 *  4. runs `wrangler dev` on 127.0.0.1:8787.
 * `--retrain` trains and promotes a new version even when one exists.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { defineCommand, runMain } from "citty";
import { loadConfig } from "../trainer/config";
import { generateDefaultData } from "../trainer/commands/generate-data";
import { runTraining } from "../trainer/pipeline/train-run";
import { applyLocalMigrations, localAliasVersion, OFFLINE_ENV, registerArtifactDir, withLocalBindings } from "./lib/local-registry";

const main = defineCommand({
  meta: { name: "start", description: "Train (first run), register and serve the default model with wrangler dev" },
  args: {
    config: { type: "string", default: "config.yaml" },
    port: { type: "string", default: "8787" },
    retrain: { type: "boolean", default: false, description: "train and promote a new version first" },
  },
  async run({ args }) {
    const { config, text } = loadConfig(args.config);
    if (!existsSync(config.data.train_path)) {
      console.log(`• ${config.data.train_path} is missing: generating the synthetic churn dataset`);
      await generateDefaultData({ outDir: dirname(config.data.train_path), seed: config.training.random_state });
    }
    console.log("• applying D1 migrations to local state");
    applyLocalMigrations();
    await withLocalBindings(async (env) => {
      const name = config.mlflow.model_name;
      if (name !== env.DEFAULT_MODEL) {
        console.warn(`! config.yaml names ${name} but wrangler.toml DEFAULT_MODEL is ${env.DEFAULT_MODEL}; /predict serves the latter`);
      }
      const current = await localAliasVersion(env, name, "production");
      if (current !== null && !args.retrain) {
        console.log(`• ${name} version ${current} is production (npm start -- --retrain to train a new one)`);
        return;
      }
      const dir = !args.retrain && latestRunDir(name);
      const runDir =
        dir ||
        (await (async () => {
          console.log(`• training ${name} from ${config.data.train_path}`);
          const result = await runTraining(config, { configText: text, onPhase: (p) => console.log(`  ${p}`) });
          console.log(`  ROC AUC ${result.evaluation.roc_auc.toFixed(4)}, artifacts in ${result.dir}`);
          return result.dir;
        })());
      const registered = await registerArtifactDir(env, runDir, { aliases: ["production"], createdBy: "npm start", reason: "npm start" });
      console.log(`• registered ${registered.name} version ${registered.version} as production`);
    });
    console.log(`• wrangler dev on http://127.0.0.1:${args.port}`);
    const child = spawn("npx", ["wrangler", "dev", "--ip", "127.0.0.1", "--port", args.port, "--test-scheduled"], {
      stdio: "inherit",
      env: { ...process.env, ...OFFLINE_ENV },
    });
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
    child.on("exit", (code) => process.exit(code ?? 0));
  },
});

/** The newest run in artifacts/ for this model, if its manifest is there. */
function latestRunDir(name: string): string | null {
  const pointer = join("artifacts", "LATEST");
  if (!existsSync(pointer)) return null;
  const dir = join("artifacts", readFileSync(pointer, "utf8").trim());
  const manifest = join(dir, "manifest.json");
  if (!existsSync(manifest)) return null;
  return (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === name ? dir : null;
}

runMain(main);
