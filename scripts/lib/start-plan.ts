/**
 * What `npm start` does to the local registry, as plain functions (scripts/start.ts is the CLI
 * around them). The rule: a training run, identified by its manifest's source.run_id, is published
 * at most once, and a run already published is never promoted again, so a rollback of production
 * stands. Only a run never published is published and promoted.
 */
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { generateDefaultData } from "../../trainer/commands/generate-data";
import type { Config } from "../../trainer/config";
import { sha256Text } from "../../trainer/data/fingerprint";
import type { Manifest } from "../../worker/contract/manifest";
import { openDb } from "../../worker/db/open-db";
import { getVersionRow } from "../../worker/registry/versions";
import { type LocalBindings, localAliasVersion, registerArtifactDir, runVersions } from "../../trainer/local-registry";

export interface StartPaths {
  /** Paths inside the config are relative to this directory, as `npm run train` reads them. */
  baseDir: string;
  dataPath: string;
  artifactsDir: string;
}

export function startPaths(configPath: string, config: Config, artifactsDir = "artifacts"): StartPaths {
  const baseDir = dirname(resolve(configPath));
  return { baseDir, dataPath: resolve(baseDir, config.data.train_path), artifactsDir: resolve(artifactsDir) };
}

/**
 * Writes the synthetic churn dataset when the configured training file is missing: the training
 * file under the configured name, the two monitoring samples beside it unless already there.
 */
export async function ensureTrainingData(dataPath: string, seed: number): Promise<boolean> {
  if (existsSync(dataPath)) return false;
  const scratch = await mkdtemp(join(tmpdir(), "start-data-"));
  try {
    const files = await generateDefaultData({ outDir: scratch, seed });
    await mkdir(dirname(dataPath), { recursive: true });
    for (const file of files) {
      const to = basename(file.path) === "churn_train.csv" ? dataPath : join(dirname(dataPath), basename(file.path));
      if (to === dataPath || !existsSync(to)) await copyFile(file.path, to);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return true;
}

export interface DevVarsWritten {
  /** The new ADMIN_TOKEN, when .dev.vars was created (null: the file was there already). */
  adminToken: string | null;
  /** Whether a PREDICTION_TOKEN_SECRET was written (into a new file, or appended to one that lacked it). */
  predictionSecret: boolean;
}

/**
 * Local secrets. A missing `.dev.vars` is created (readable by the owner only) with a random
 * ADMIN_TOKEN and a random PREDICTION_TOKEN_SECRET. An existing one is the user's: nothing in it is
 * changed, but a PREDICTION_TOKEN_SECRET is appended when it has none, so a .dev.vars written before
 * tokens had their own key still gets prediction tokens. No value is ever overwritten.
 */
export function ensureDevVars(path: string): DevVarsWritten {
  const secretLine = () => `PREDICTION_TOKEN_SECRET=${randomBytes(32).toString("base64url")}\n`;
  if (!existsSync(path)) {
    const adminToken = randomBytes(32).toString("hex");
    writeFileSync(path, `# Written by npm start (see .dev.vars.example for the other secrets).\nADMIN_TOKEN=${adminToken}\n${secretLine()}`, { mode: 0o600, flag: "wx" });
    return { adminToken, predictionSecret: true };
  }
  const text = readFileSync(path, "utf8");
  if (/^\s*(export\s+)?PREDICTION_TOKEN_SECRET\s*=/m.test(text)) return { adminToken: null, predictionSecret: false };
  const separator = text === "" || text.endsWith("\n") ? "" : "\n";
  appendFileSync(path, `${separator}# Added by npm start: the key that signs prediction tokens (never derived from ADMIN_TOKEN).\n${secretLine()}`);
  return { adminToken: null, predictionSecret: true };
}

export interface RunDir {
  dir: string;
  runId: string;
}

/** The run `npm run train` last wrote (artifacts/LATEST) for this model, when its files are there. */
export function latestRun(artifactsDir: string, name: string): RunDir | null {
  const pointer = join(artifactsDir, "LATEST");
  if (!existsSync(pointer)) return null;
  const dir = join(artifactsDir, readFileSync(pointer, "utf8").trim());
  if (!existsSync(join(dir, "manifest.json")) || !existsSync(join(dir, "model.onnx"))) return null;
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Partial<Manifest>;
  return manifest.name === name && manifest.source?.run_id ? { dir, runId: manifest.source.run_id } : null;
}

/** Whether a run was trained with this config file text (the manifest's source.config_sha256). */
export function trainedWith(run: RunDir, configText: string): boolean {
  const manifest = JSON.parse(readFileSync(join(run.dir, "manifest.json"), "utf8")) as Partial<Manifest>;
  return manifest.source?.config_sha256 === sha256Text(configText);
}

export interface StartState {
  retrain: boolean;
  latest: RunDir | null;
  /** Versions already published from `latest`'s run. */
  latestVersions: readonly number[];
  production: { version: number; runId: string } | null;
}

export type StartPlan =
  | { action: "serve"; message: string }
  | { action: "publish"; run: RunDir; reason: string }
  | { action: "train"; reason: string };

export function planStart(state: StartState): StartPlan {
  const { latest, production } = state;
  if (state.retrain) return { action: "train", reason: "npm start --retrain" };
  if (latest && state.latestVersions.length === 0) {
    const reason = production ? `npm start: run ${latest.runId} is newer than version ${production.version}` : "npm start: first run";
    return { action: "publish", run: latest, reason };
  }
  if (production) {
    const from = production.runId === latest?.runId ? "the latest run" : `run ${production.runId}`;
    const also = latest && production.runId !== latest.runId ? `; run ${latest.runId} is version ${state.latestVersions.join(", ")}, left as it is` : "";
    return { action: "serve", message: `version ${production.version} (${from}) is production${also}` };
  }
  if (latest) {
    return { action: "serve", message: `run ${latest.runId} is version ${state.latestVersions.join(", ")} but no version is production: promote one, or npm start -- --retrain` };
  }
  return { action: "train", reason: "npm start: first run" };
}

export interface PrepareOptions {
  name: string;
  artifactsDir: string;
  retrain: boolean;
  /** Trains a new run and returns its artifact directory. */
  train: () => Promise<string>;
  log?: (line: string) => void;
}

/** Reads the local state, plans, and carries the plan out; returns the plan and what was published. */
export async function prepareProduction(env: LocalBindings, options: PrepareOptions) {
  const { name, log = () => {} } = options;
  const latest = latestRun(options.artifactsDir, name);
  const plan = planStart({
    retrain: options.retrain,
    latest,
    latestVersions: latest ? await runVersions(env, name, latest.runId) : [],
    production: await productionRun(env, name),
  });
  if (plan.action === "serve") {
    log(`• ${name} ${plan.message}`);
    return { plan, published: null };
  }
  const dir = plan.action === "publish" ? plan.run.dir : await options.train();
  const published = await registerArtifactDir(env, dir, { aliases: ["production"], createdBy: "npm start", reason: plan.reason });
  log(`• published ${name} version ${published.version} from ${dir} as production`);
  return { plan, published };
}

async function productionRun(env: LocalBindings, name: string): Promise<StartState["production"]> {
  const version = await localAliasVersion(env, name, "production");
  if (version === null) return null;
  const row = await getVersionRow(openDb(env.DB), name, version);
  return { version, runId: (JSON.parse(row.manifest) as Manifest).source.run_id };
}
