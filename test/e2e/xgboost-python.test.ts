/**
 * The importer against XGBoost itself, as a user runs it: a booster trained now by Python's
 * xgboost (Debian's python3-xgboost 1.7; .ci/run installs it) on freshly generated data, imported by
 * `npm run import:xgboost` with XGBoost computing the reference probabilities live
 * (scripts/reference/xgboost_predict.py, with rows on every split threshold, missing values and
 * unseen categories added), then published through the worker's own publish path. The node tests
 * cover the same importer on committed boosters without Python; this one keeps the Python side honest.
 * Skipped, saying why, on a machine without python3-xgboost.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyLocalMigrations, registerArtifactDir, withLocalBindings } from "../../trainer/local-registry";
import { OFFLINE_ENV, PROJECT_ROOT } from "../../trainer/offline-env";
import { runCommand } from "../helpers/run-command";

function pythonHasXgboost(): boolean {
  try {
    execFileSync("/usr/bin/python3", ["-c", "import xgboost, pandas"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const available = pythonHasXgboost();
if (!available) console.warn("xgboost-python.test.ts: skipped, /usr/bin/python3 cannot import xgboost and pandas (apt-get install python3-xgboost python3-pandas)");

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.runIf(available)("import:xgboost with XGBoost itself as the reference", () => {
  it("a booster trained now on generated data imports within 1e-5 of XGBoost on every row and probe, and publishes", async () => {
    dir = await mkdtemp(join(tmpdir(), "e2e-xgboost-"));
    const env = { ...process.env, ...OFFLINE_ENV };
    const data = await runCommand("npm", ["run", "-s", "data", "--", "--rows", "3000", "--seed", "11", "--out-dir", dir], { cwd: PROJECT_ROOT, env });
    expect(data.code, data.stderr).toBe(0);
    const csv = join(dir, "churn_train.csv");
    const model = join(dir, "model.json");
    const train = await runCommand("/usr/bin/python3", [join(PROJECT_ROOT, "scripts/reference/xgboost_train.py"), csv, model, "--trees", "60", "--depth", "4"], { cwd: join(PROJECT_ROOT, "scripts/reference") });
    expect(train.code, train.stderr).toBe(0);
    const artifacts = join(dir, "artifacts");
    const imported = await runCommand("npm", ["run", "-s", "import:xgboost", "--", model, "--config", "config.yaml", "--data", csv, "--artifacts-dir", artifacts, "--json"], { cwd: PROJECT_ROOT, env });
    expect(imported.code, imported.stderr).toBe(0);
    const summary = JSON.parse(imported.stdout) as { parity: { rows: number; probes: number; max_abs_diff: number; tolerance: number; reference: string } };
    expect(summary.parity.tolerance).toBe(1e-5);
    expect(summary.parity.max_abs_diff).toBeLessThanOrEqual(1e-5);
    // XGBoost ran: the probes (thresholds, missing values, unseen categories) were scored by it too.
    expect(summary.parity.probes).toBeGreaterThan(0);
    expect(summary.parity.rows).toBeGreaterThan(1000);
    const runDir = join(artifacts, readFileSync(join(artifacts, "LATEST"), "utf8").trim());
    for (const file of ["model.onnx", "manifest.json", "model-card.md", "reference.json", "explainer.json"]) expect(existsSync(join(runDir, file)), file).toBe(true);
    expect(readFileSync(join(runDir, "model-card.md"), "utf8")).toMatch(/imported from XGBoost 1\.7/);
    const state = join(dir, "state");
    applyLocalMigrations(state);
    const published = await withLocalBindings((bindings) => registerArtifactDir(bindings, runDir, { createdBy: "e2e", aliases: ["production"] }), state);
    expect(published.version).toBe(1);
  }, 240_000);
});
