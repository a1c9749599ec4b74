/**
 * `npm run release:local`: the release workflow's chain (.github/workflows/release.yml) against a
 * local `wrangler dev`, through the same npm scripts CI runs, printing each step:
 *   train (or reuse artifacts/LATEST) -> gate -> "deploy staging" -> publish --alias staging ->
 *   smoke staging -> promote production with the gate's evidence -> smoke production.
 * A reused run is gated with the config it was trained with (its run directory keeps it), so a run
 * trained with another config file releases with no flags; an explicit --config reuses LATEST only
 * when it was trained with that file, and trains a new run otherwise.
 * As in CI, staging and production are two Workers over one registry: here one temp --persist-to
 * state served first with DEFAULT_ALIAS=staging, then with the default alias (production). The
 * runs one after the other, never together, so two workerd processes never share the SQLite files.
 * The admin token is random per run and exists only in this process's environment.
 * With --training-data-key the training CSV comes from that object in local R2 (wrangler's local
 * state, or --data-persist-to), fetched into the config's data.train_path by `npm run data:fetch`
 * before training and again before the gate, as the release workflow's train and gate jobs do;
 * without it the synthetic generator writes the file when it is missing.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { defineCommand, runMain } from "citty";
import { DATA_MISMATCH_EXIT_CODE, GATE_FAILED_EXIT_CODE } from "../trainer/commands/gate";
import { loadConfig } from "../trainer/config";
import { startWranglerDev, type WranglerDev } from "./lib/wrangler-dev-server";
import { applyLocalMigrations } from "../trainer/local-registry";
import { PROJECT_ROOT } from "../trainer/offline-env";
import { ensureTrainingData, latestRun, startPaths, trainedWith } from "./lib/start-plan";

class StepFailed extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

let stepNumber = 0;
function step(title: string): void {
  stepNumber += 1;
  console.log(`\n== ${stepNumber}. ${title}`);
}

/** Runs `npm run <script> -- args` as CI does; output goes to the terminal unless captured. */
async function npmRun(script: string, args: string[], env: Record<string, string>, capture = false): Promise<string> {
  console.log(`$ npm run ${script} -- ${args.join(" ")}`);
  const child = spawn("npm", ["run", "--silent", script, "--", ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", capture ? "pipe" : "inherit", "inherit"],
  });
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  const code = await new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (c) => resolve(c ?? 1));
  });
  if (capture) process.stdout.write(out);
  if (code !== 0) throw new StepFailed(`npm run ${script} exited ${code}`, code);
  return out;
}

const main = defineCommand({
  meta: { name: "release:local", description: "Run the CI release chain (gate, publish, smoke, promote, smoke) against a local wrangler dev" },
  args: {
    config: { type: "string", description: "config to train with (default config.yaml); a reused run is gated with its own" },
    "artifacts-dir": { type: "string", description: "where training runs go", default: "artifacts" },
    retrain: { type: "boolean", default: false, description: "train a new run even when artifacts/LATEST has one" },
    keep: { type: "boolean", default: false, description: "keep the temp wrangler state (its path is printed)" },
    "training-data-key": { type: "string", description: "train on this local R2 object (e.g. datasets/churn.csv) instead of the synthetic data; always trains a new run" },
    "training-data-bucket": { type: "string", description: "its bucket (default: wrangler.toml's MODELS bucket)" },
    "data-persist-to": { type: "string", description: "the local state holding it (wrangler's --persist-to; default .wrangler/state)" },
  },
  async run({ args }) {
    const started = Date.now();
    const configPath = args.config ?? "config.yaml";
    const { config, text } = loadConfig(configPath);
    const name = config.mlflow.model_name;
    const paths = startPaths(configPath, config, args["artifacts-dir"]);
    const work = await mkdtemp(join(tmpdir(), "release-local-"));
    const state = join(work, "state");
    const env = { ADMIN_TOKEN: randomBytes(24).toString("hex"), REGISTRY_URL: "" };
    let server: WranglerDev | undefined;
    try {
      step("train");
      const dataKey = args["training-data-key"];
      const fetchArgs = dataKey === undefined ? [] : [
        "--key", dataKey, "--local", "--config", configPath,
        ...(args["training-data-bucket"] === undefined ? [] : ["--bucket", args["training-data-bucket"]]),
        ...(args["data-persist-to"] === undefined ? [] : ["--persist-to", args["data-persist-to"]]),
      ];
      if (dataKey !== undefined) await npmRun("data:fetch", fetchArgs, {});
      else {
        console.log(`no --training-data-key: training on ${paths.dataPath}, written by the synthetic generator when missing`);
        if (await ensureTrainingData(paths.dataPath, config.training.random_state)) console.log(`generated ${paths.dataPath}`);
      }
      let run = args.retrain || dataKey !== undefined ? null : latestRun(paths.artifactsDir, name);
      if (run && args.config !== undefined && !trainedWith(run, text)) {
        console.log(`${run.dir} (artifacts/LATEST) was trained with another config than ${args.config}: training a new run`);
        run = null;
      }
      if (run) console.log(`reusing ${run.dir} (artifacts/LATEST; --retrain for a new run)`);
      else {
        await npmRun("train", ["--config", configPath, "--artifacts-dir", args["artifacts-dir"]], {});
        run = latestRun(paths.artifactsDir, name);
        if (!run) throw new StepFailed(`npm run train left no run for ${name} in ${paths.artifactsDir}/LATEST`, 1);
      }
      // A copy, so the gate's evidence file lands in the temp dir, not in the user's artifacts.
      const runDir = join(work, basename(run.dir));
      await cp(run.dir, runDir, { recursive: true });

      step("deploy staging: migrations on a fresh local state, wrangler dev with DEFAULT_ALIAS=staging");
      applyLocalMigrations(state);
      server = await startWranglerDev(state, { ADMIN_TOKEN: env.ADMIN_TOKEN, DEFAULT_MODEL: name, DEFAULT_ALIAS: "staging" });
      console.log(`staging at ${server.base} (state ${state})`);

      step("gate against what production serves");
      // Fetched again, as the workflow's gate job does: an object replaced since training fails here.
      if (dataKey !== undefined) await npmRun("data:fetch", fetchArgs, {});
      try {
        // Without --config the gate reads the config the run was trained with from its directory.
        await npmRun("gate", [runDir, ...(args.config === undefined ? [] : ["--config", args.config]), "--registry", server.base], env);
      } catch (error) {
        if (error instanceof StepFailed && error.exitCode === GATE_FAILED_EXIT_CODE) throw new StepFailed("the gate failed: not releasing", GATE_FAILED_EXIT_CODE);
        if (error instanceof StepFailed && error.exitCode === DATA_MISMATCH_EXIT_CODE)
          throw new StepFailed("the data is not what the run was trained on: not releasing", DATA_MISMATCH_EXIT_CODE);
        throw error;
      }

      step("publish to staging");
      const published = JSON.parse(
        await npmRun("publish", [runDir, "--alias", "staging", "--reason", "release:local", "--registry", server.base, "--by", "release-local", "--json"], env, true),
      ) as { version: number };
      const version = String(published.version);

      step("smoke staging");
      await npmRun("smoke", ["--url", server.base, "--expect-version", version], {});

      step("deploy production: the same state served with the default alias (production)");
      await server.stop();
      server = await startWranglerDev(state, { ADMIN_TOKEN: env.ADMIN_TOKEN, DEFAULT_MODEL: name });
      console.log(`production at ${server.base}`);

      step("promote production with the gate's evidence");
      await npmRun("promote", [name, version, "--reason", "release:local", "--evidence-file", join(runDir, "gate.json"), "--registry", server.base, "--by", "release-local"], env);

      step("smoke production");
      await npmRun("smoke", ["--url", server.base, "--expect-version", version], {});

      console.log(`\nrelease:local passed: ${name} version ${version} staged and promoted in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      if (!(error instanceof StepFailed)) throw error;
      console.error(`\nrelease:local failed at step ${stepNumber}: ${error.message}`);
      if (server) console.error(`wrangler dev log tail:\n${server.log().slice(-2000)}`);
      process.exitCode = error.exitCode;
    } finally {
      await server?.stop();
      if (args.keep) console.log(`state kept in ${work}`);
      else await rm(work, { recursive: true, force: true });
    }
  },
});

runMain(main);
