/**
 * A run keeps the config it was trained with (artifacts/<run-id>/config.json), and `gate` uses it
 * when no --config is given: `npm run train -- --config seed7.yaml` (a copy of config.yaml with
 * another seed) followed by `npm run gate -- <run>` passes with no flags, from the project root where
 * config.yaml is another file. An explicit --config still has to be the run's own.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gateConfig, gateRun } from "../../trainer/commands/gate";
import { generateChurnRows, toCsv } from "../../trainer/data/synthetic";
import type { GateEvidence } from "../../trainer/gate/run-release-gate";
import { PROJECT_ROOT } from "../../trainer/offline-env";
import { readRunConfig, RUN_CONFIG_FILE, type RunConfigRecord } from "../../trainer/pipeline/run-config";
import type { Manifest } from "../../worker/contract/manifest";
import { runCommand } from "../helpers/run-command";

/** The trainer CLI as `npm run <command>` runs it (from the project root); resolves with the exit code. */
function cli(args: string[]) {
  return runCommand("npx", ["tsx", "trainer/cli.ts", ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ADMIN_TOKEN: "", REGISTRY_URL: "" } });
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

let dir: string;
let seed7: string;
let seed7Text: string;
let runDir: string;
let manifest: Manifest;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gate-run-config-"));
  await mkdir(join(dir, "data"));
  await writeFile(join(dir, "data", "churn_train.csv"), toCsv(generateChurnRows({ rows: 3000, seed: 42, messy: true })));
  // The project's config with another seed (and fewer trees, so the test trains quickly); the data
  // path stays relative, so it is read relative to the copy's directory.
  const projectConfig = readFileSync(join(PROJECT_ROOT, "config.yaml"), "utf8");
  seed7Text = projectConfig.replace("random_state: 42", "random_state: 7").replace("n_estimators: 200", "n_estimators: 20");
  for (const edit of ["random_state: 7", "n_estimators: 20\n", "train_path: data/churn_train.csv"]) expect(seed7Text).toContain(edit);
  seed7 = join(dir, "seed7.yaml");
  await writeFile(seed7, seed7Text);

  const trained = await cli(["train", "--config", seed7, "--artifacts-dir", join(dir, "artifacts"), "--json"]);
  expect(trained.code, trained.stderr).toBe(0);
  runDir = (JSON.parse(trained.stdout) as { dir: string }).dir;
  manifest = JSON.parse(await readFile(join(runDir, "manifest.json"), "utf8")) as Manifest;
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a run keeps the config it was trained with", () => {
  it("config.json holds the file's exact text (the manifest's config sha256), where it was read from, and the resolved config", async () => {
    const record = JSON.parse(await readFile(join(runDir, RUN_CONFIG_FILE), "utf8")) as RunConfigRecord;
    expect(record.text).toBe(seed7Text);
    expect(record.sha256).toBe(sha256(seed7Text));
    expect(manifest.source.config_sha256).toBe(sha256(seed7Text));
    expect(record.file).toBe(seed7);
    expect(record.base_dir).toBe(dir);
    expect(record.data_path).toBe(join(dir, "data", "churn_train.csv"));
    // Defaults filled in, as the run used them.
    expect(record.resolved.training).toEqual({ val_size: 0.2, random_state: 7, stratify: true, cv_folds: 0, reference_sample_size: 1000, golden_rows: 20 });
    expect(record.resolved.model).toMatchObject({ type: "random_forest", n_estimators: 20, max_depth: 8, max_features: "sqrt" });
    expect(manifest.source.seed).toBe(7);
  });

  it("npm run gate -- <run> needs no --config: it rebuilds the split from the run's own config, wherever it runs from", async () => {
    // Run from the project root, whose config.yaml is not the one the run was trained with.
    expect(sha256(readFileSync(join(PROJECT_ROOT, "config.yaml"), "utf8"))).not.toBe(manifest.source.config_sha256);
    const gate = await cli(["gate", runDir, "--local", "--persist-to", join(dir, "state"), "--json"]);
    expect(gate.code, gate.stderr).toBe(0);
    const evidence = JSON.parse(gate.stdout) as GateEvidence;
    expect(evidence).toMatchObject({ passed: true, production: null, config_sha256: manifest.source.config_sha256 });
    expect(evidence.rows).toBe(manifest.data.validation_rows);
    // The same validation rows the trainer evaluated, scored by the exported graph: the trainer's AUC.
    expect(evidence.candidate.roc_auc).toBeCloseTo(manifest.metrics.roc_auc as number, 4);
    expect(JSON.parse(await readFile(join(runDir, "gate.json"), "utf8"))).toEqual(evidence);
  }, 120_000);

  it("an explicit --config must still be the run's own: another file exits 2 naming both, before any registry is needed", async () => {
    const wrong = await cli(["gate", runDir, "--config", "config.yaml", "--registry", "http://127.0.0.1:9"]);
    expect(wrong.code, wrong.stderr).toBe(2);
    expect(wrong.stderr).toMatch(new RegExp(`config\\.yaml \\(sha256 \\w{12}…\\) is not the config run ${manifest.source.run_id} was trained with`));
    // The right file is accepted, and its paths are read relative to it.
    expect(gateConfig(runDir, seed7)).toMatchObject({ configPath: seed7, baseDir: dir, configText: seed7Text });
  }, 60_000);

  it("names what is wrong when the run's config or data cannot be used, and falls back to config.yaml for runs that predate config.json", async () => {
    const copy = join(dir, "copy");
    await cp(runDir, copy, { recursive: true });
    expect(readRunConfig(copy)?.config.training.random_state).toBe(7);

    const record = JSON.parse(await readFile(join(copy, RUN_CONFIG_FILE), "utf8")) as RunConfigRecord;
    await writeFile(join(copy, RUN_CONFIG_FILE), JSON.stringify({ ...record, text: record.text.replace("random_state: 7", "random_state: 8") }));
    await expect(gateRun(copy, { target: {} })).rejects.toThrow(`${join(copy, RUN_CONFIG_FILE)} was edited after training`);

    await writeFile(join(copy, RUN_CONFIG_FILE), JSON.stringify(record));
    const data = join(dir, "data", "churn_train.csv");
    await rename(data, `${data}.moved`);
    try {
      await expect(gateRun(copy, { target: {} })).rejects.toThrow(`was trained on ${data}, which is not there now`);
    } finally {
      await rename(`${data}.moved`, data);
    }

    await rm(join(copy, RUN_CONFIG_FILE));
    expect(existsSync(join(copy, RUN_CONFIG_FILE))).toBe(false);
    expect(readRunConfig(copy)).toBeNull();
    // Relative to the working directory, as before runs kept their config (tests run from the root).
    expect(gateConfig(copy).configPath).toBe("config.yaml");
    await expect(gateRun(copy, { target: {} })).rejects.toThrow(/config\.yaml \(sha256 \w{12}…\) is not the config run/);
  });
});
