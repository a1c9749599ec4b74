/**
 * `npm start`'s decisions (scripts/lib/start-plan.ts): a run is published at most once and never
 * promoted again, so a rollback stands; the config's paths are read relative to the config file;
 * `.dev.vars` is written once and never over the user's.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../trainer/config";
import { OFFLINE_ENV, PROJECT_ROOT } from "../../trainer/offline-env";
import { ensureDevVars, ensureTrainingData, planStart, type StartState, startPaths, trainedWith } from "../../scripts/lib/start-plan";

const runA = { dir: "/runs/a", runId: "a" };
const runB = { dir: "/runs/b", runId: "b" };
const state = (patch: Partial<StartState>): StartState => ({ retrain: false, latest: null, latestVersions: [], production: null, ...patch });

describe("planStart", () => {
  it("trains when there is neither a run nor a production version", () => {
    expect(planStart(state({}))).toEqual({ action: "train", reason: "npm start: first run" });
  });

  it("publishes a run that was never published, and promotes it", () => {
    expect(planStart(state({ latest: runA }))).toEqual({ action: "publish", run: runA, reason: "npm start: first run" });
    expect(planStart(state({ latest: runB, production: { version: 1, runId: "a" } }))).toEqual({
      action: "publish",
      run: runB,
      reason: "npm start: run b is newer than version 1",
    });
  });

  it("leaves a rollback standing: the latest run is published already, production points elsewhere", () => {
    const plan = planStart(state({ latest: runB, latestVersions: [2], production: { version: 1, runId: "a" } }));
    expect(plan).toEqual({ action: "serve", message: "version 1 (run a) is production; run b is version 2, left as it is" });
  });

  it("serves what is production when the latest run is it, or when there is no run on disk", () => {
    expect(planStart(state({ latest: runA, latestVersions: [1], production: { version: 1, runId: "a" } }))).toMatchObject({ action: "serve" });
    expect(planStart(state({ production: { version: 4, runId: "x" } }))).toEqual({ action: "serve", message: "version 4 (run x) is production" });
  });

  it("never promotes a published run even when nothing is production", () => {
    expect(planStart(state({ latest: runA, latestVersions: [3] }))).toMatchObject({ action: "serve", message: expect.stringMatching(/no version is production/) });
  });

  it("trains anew on --retrain", () => {
    expect(planStart(state({ retrain: true, latest: runA, latestVersions: [1], production: { version: 1, runId: "a" } }))).toEqual({
      action: "train",
      reason: "npm start --retrain",
    });
  });
});

describe("paths from the config", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "start-paths-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads data.train_path relative to the config file, under its configured name", async () => {
    const configDir = join(dir, "project", "conf");
    await mkdir(configDir, { recursive: true });
    const text = readFileSync("config.yaml", "utf8").replace("train_path: data/churn_train.csv", "train_path: ../inputs/customers.csv");
    expect(text).toContain("../inputs/customers.csv");
    await writeFile(join(configDir, "churn.yaml"), text);
    const configPath = join(configDir, "churn.yaml");
    const paths = startPaths(configPath, loadConfig(configPath).config, join(dir, "runs"));
    expect(paths).toEqual({
      baseDir: configDir,
      dataPath: join(dir, "project", "inputs", "customers.csv"),
      artifactsDir: join(dir, "runs"),
    });

    expect(await ensureTrainingData(paths.dataPath, 42)).toBe(true);
    expect(readFileSync(paths.dataPath, "utf8").split("\n")[0]).toMatch(/churned/);
    expect(existsSync(join(dir, "project", "inputs", "churn_current.csv"))).toBe(true);
    expect(existsSync(join(dir, "project", "inputs", "churn_train.csv"))).toBe(false);
    expect(await ensureTrainingData(paths.dataPath, 42)).toBe(false);
  });
});

describe(".dev.vars and the reused run", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "start-dev-vars-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes .dev.vars once, with a random ADMIN_TOKEN and PREDICTION_TOKEN_SECRET only its owner can read", async () => {
    const path = join(dir, ".dev.vars");
    const written = ensureDevVars(path);
    expect(written.adminToken).toMatch(/^[0-9a-f]{64}$/);
    expect(written.predictionSecret).toBe(true);
    const text = readFileSync(path, "utf8");
    expect(text).toMatch(new RegExp(`^ADMIN_TOKEN=${written.adminToken}$`, "m"));
    // 32 random bytes as base64url: 43 characters, the Worker's minimum.
    const secret = /^PREDICTION_TOKEN_SECRET=([A-Za-z0-9_-]+)$/m.exec(text)?.[1];
    expect(secret).toHaveLength(43);
    expect(secret).not.toContain(written.adminToken!);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(ensureDevVars(path)).toEqual({ adminToken: null, predictionSecret: false });
    expect(readFileSync(path, "utf8")).toBe(text);
    const other = ensureDevVars(join(dir, "other"));
    expect(other.adminToken).not.toBe(written.adminToken);
    expect(readFileSync(join(dir, "other"), "utf8")).not.toContain(secret!);
  });

  it("an existing .dev.vars keeps every value; one without PREDICTION_TOKEN_SECRET gets one appended", async () => {
    const mine = join(dir, "mine.vars");
    await writeFile(mine, "ADMIN_TOKEN=my-own-token-0123456789\nMETRICS_TOKEN=my-metrics-token-0123456789");
    expect(ensureDevVars(mine)).toEqual({ adminToken: null, predictionSecret: true });
    const text = readFileSync(mine, "utf8");
    expect(text.startsWith("ADMIN_TOKEN=my-own-token-0123456789\nMETRICS_TOKEN=my-metrics-token-0123456789\n")).toBe(true);
    expect(text).toMatch(/^PREDICTION_TOKEN_SECRET=[A-Za-z0-9_-]{43}$/m);
    expect(ensureDevVars(mine)).toEqual({ adminToken: null, predictionSecret: false });
    expect(readFileSync(mine, "utf8")).toBe(text);

    const withSecret = join(dir, "with-secret.vars");
    await writeFile(withSecret, "PREDICTION_TOKEN_SECRET=mine-mine-mine\n");
    expect(ensureDevVars(withSecret)).toEqual({ adminToken: null, predictionSecret: false });
    expect(readFileSync(withSecret, "utf8")).toBe("PREDICTION_TOKEN_SECRET=mine-mine-mine\n");
  });

  it("trainedWith: whether a run's manifest records this config text's sha256", async () => {
    const run = { dir: join(dir, "run"), runId: "r" };
    await mkdir(run.dir);
    const text = "mlflow:\n  model_name: m\n";
    await writeFile(join(run.dir, "manifest.json"), JSON.stringify({ source: { config_sha256: createHash("sha256").update(text).digest("hex") } }));
    expect(trainedWith(run, text)).toBe(true);
    expect(trainedWith(run, `${text}# edited\n`)).toBe(false);
  });
});
