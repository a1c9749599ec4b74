/**
 * `npm start`: the whole main job on a laptop, offline.
 *  1. generates the synthetic dataset if the configured one is missing;
 *  2. applies the D1 migrations to local state;
 *  3. makes the newest training run production: if `npm run train` left a run in artifacts/ that
 *     is not the production version, registers and promotes it; if there is no run at all, trains;
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
import type { Manifest } from "../worker/contract/manifest";
import { getVersionRow, openDb } from "../worker/registry/registry";
import {
  applyLocalMigrations,
  type LocalBindings,
  localAliasVersion,
  registerArtifactDir,
  withLocalBindings,
} from "./lib/local-registry";
import { OFFLINE_ENV } from "./lib/offline-env";

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
      const current = await localProductionRun(env, name);
      const latest = args.retrain ? null : latestRunDir(name);
      if (current && !args.retrain && (!latest || latest.runId === current.runId)) {
        console.log(`• ${name} version ${current.version} is production (npm start -- --retrain to train a new one)`);
        return;
      }
      let runDir = latest?.dir;
      if (!runDir) {
        console.log(`• training ${name} from ${config.data.train_path}`);
        const result = await runTraining(config, { configText: text, onPhase: (p) => console.log(`  ${p}`) });
        console.log(`  ROC AUC ${result.evaluation.roc_auc.toFixed(4)}, artifacts in ${result.dir}`);
        runDir = result.dir;
      }
      const reason = current ? `npm start: newer run than version ${current.version}` : "npm start: first run";
      const registered = await registerArtifactDir(env, runDir, { aliases: ["production"], createdBy: "npm start", reason });
      console.log(`• registered ${registered.name} version ${registered.version} from ${runDir} as production`);
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

/** The newest run in artifacts/ (written by `npm run train`) for this model, if its files are there. */
function latestRunDir(name: string): { dir: string; runId: string } | null {
  const pointer = join("artifacts", "LATEST");
  if (!existsSync(pointer)) return null;
  const runId = readFileSync(pointer, "utf8").trim();
  const dir = join("artifacts", runId);
  const manifest = join(dir, "manifest.json");
  if (!existsSync(manifest) || !existsSync(join(dir, "model.onnx"))) return null;
  return (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === name ? { dir, runId } : null;
}

/** The production version in local state and the training run it came from. */
async function localProductionRun(env: LocalBindings, name: string): Promise<{ version: number; runId: string } | null> {
  const version = await localAliasVersion(env, name, "production");
  if (version === null) return null;
  const row = await getVersionRow(openDb(env.DB), name, version);
  return { version, runId: (row.manifest as Manifest).source.run_id };
}

runMain(main);
