/**
 * `npm run release:local` end to end, as a user runs it: a fresh training run in a temp artifacts
 * dir, then gate, publish, smoke, promote and smoke against real `wrangler dev` processes. And the
 * smoke command's failure when nothing listens: exit 1 naming the step and the refused connection.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateChurnRows, toCsv } from "../../trainer/data/synthetic";
import { OFFLINE_ENV, PROJECT_ROOT } from "../../trainer/offline-env";
import type { Manifest } from "../../worker/contract/manifest";
import { runSmoke, SmokeFailure } from "../../scripts/lib/smoke-checks";
import { freePort } from "../../scripts/lib/wrangler-dev-server";
import { runCommand } from "../helpers/run-command";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const npmRun = (args: string[]) => runCommand("npm", ["run", "--silent", ...args], { cwd: PROJECT_ROOT });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "e2e-release-local-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("npm run release:local", () => {
  it("trains, gates, publishes to staging, smokes, promotes production with evidence and smokes again", async () => {
    const artifacts = join(dir, "artifacts");
    const result = await npmRun(["release:local", "--", "--artifacts-dir", artifacts]);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const out = result.stdout;
    expect([...out.matchAll(/^== \d+\. (.+)$/gm)].map((m) => m[1])).toEqual([
      "train",
      "deploy staging: migrations on a fresh local state, wrangler dev with DEFAULT_ALIAS=staging",
      "gate against what production serves",
      "publish to staging",
      "smoke staging",
      "deploy production: the same state served with the default alias (production)",
      "promote production with the gate's evidence",
      "smoke production",
    ]);
    expect(out).toMatch(/gate PASSED: churn-classifier run /);
    expect(out).toMatch(/production: none yet \(first model/);
    const published = JSON.parse(out.slice(out.indexOf("{\n"), out.indexOf("\n}\n") + 2)) as { name: string; version: number; aliases: unknown[] };
    expect(published).toMatchObject({ name: "churn-classifier", version: 1, aliases: [{ alias: "staging", from: null, to: 1 }] });
    expect(out).toMatch(/✓ ready: churn-classifier version 1 at alias staging/);
    expect(out).toMatch(/churn-classifier: production -> version 1 \(new alias\)/);
    expect(out).toMatch(/✓ ready: churn-classifier version 1 at alias production/);
    expect(out.match(/^smoke passed: /gm)).toHaveLength(2);
    expect(out).toMatch(/release:local passed: churn-classifier version 1 staged and promoted/);
    // The run went to the given artifacts dir, and its gate evidence stayed in the temp copy.
    const runId = (await readFile(join(artifacts, "LATEST"), "utf8")).trim();
    expect(existsSync(join(artifacts, runId, "model.onnx"))).toBe(true);
    expect(existsSync(join(artifacts, runId, "gate.json"))).toBe(false);
  });

  it("stops at a failed gate with exit 3 before publishing, and leaves no wrangler dev or state behind", async () => {
    // The project's config with a minimum no model reaches, and fewer trees and rows (its own
    // generated file) so training is quick.
    const data = join(dir, "strict-train.csv");
    await writeFile(data, toCsv(generateChurnRows({ rows: 2000, seed: 42, messy: true })));
    const text = (await readFile(join(PROJECT_ROOT, "config.yaml"), "utf8"))
      .replace("min_roc_auc: 0.75", "min_roc_auc: 0.99")
      .replace("n_estimators: 200", "n_estimators: 20")
      .replace("train_path: data/churn_train.csv", `train_path: ${data}`);
    for (const edit of ["min_roc_auc: 0.99", "n_estimators: 20\n", `train_path: ${data}`]) expect(text).toContain(edit);
    const config = join(dir, "strict.yaml");
    await writeFile(config, text);
    const result = await npmRun(["release:local", "--", "--config", config, "--artifacts-dir", join(dir, "strict-artifacts")]);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(3);
    expect(result.stdout).toMatch(/gate FAILED: churn-classifier run [\s\S]*min_roc_auc: 0\.\d{4} >= 0\.9900 FAIL/);
    expect(result.stderr).toContain("release:local failed at step 3: the gate failed: not releasing");
    expect(result.stdout).not.toMatch(/^== 4\.|npm run publish/m);
    const base = /^staging at (http:\/\/127\.0\.0\.1:\d+) \(state (.+)\)$/m.exec(result.stdout);
    expect(base).not.toBeNull();
    await expect(fetch(`${base![1]}/health`)).rejects.toThrow();
    expect(existsSync(base![2]!)).toBe(false);
  });
});

describe("npm run release:local -- --training-data-key", () => {
  it("trains on the local R2 object, records its key and sha256 in the manifest, and the gate refuses the run once the object is replaced (exit 4)", async () => {
    const bucket = "edge-mlops-models";
    const key = "datasets/churn.csv";
    const r2 = join(dir, "r2-state");
    const putObject = async (seed: number) => {
      const csv = toCsv(generateChurnRows({ rows: 2000, seed, messy: true }));
      const file = join(dir, `object-${seed}.csv`);
      await writeFile(file, csv);
      const put = await runCommand("npx", ["wrangler", "r2", "object", "put", `${bucket}/${key}`, "--local", "--persist-to", r2, "--file", file], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, ...OFFLINE_ENV },
      });
      expect(put.code, put.stderr).toBe(0);
      return sha256(csv);
    };
    const objectSha = await putObject(7);
    // The project's config with fewer trees, training from a file of its own that the fetch writes.
    // Named like the synthetic file, so the model card's "synthetic" line is decided by the source.
    const dataPath = join(dir, "r2-data", "churn_train.csv");
    const text = (await readFile(join(PROJECT_ROOT, "config.yaml"), "utf8"))
      .replace("n_estimators: 200", "n_estimators: 20")
      .replace("train_path: data/churn_train.csv", `train_path: ${dataPath}`);
    for (const edit of ["n_estimators: 20\n", `train_path: ${dataPath}`]) expect(text).toContain(edit);
    const config = join(dir, "r2.yaml");
    await writeFile(config, text);
    const artifacts = join(dir, "r2-artifacts");

    const result = await npmRun(["release:local", "--", "--config", config, "--artifacts-dir", artifacts, "--training-data-key", key, "--data-persist-to", r2]);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    // Fetched before training and again before the gate, as the workflow's train and gate jobs do.
    const fetched = `fetched r2://${bucket}/${key} (local) to ${dataPath}: `;
    expect(result.stdout.split(fetched)).toHaveLength(3);
    expect(result.stdout).toContain(`sha256 ${objectSha}`);
    expect(result.stdout).not.toContain("no --training-data-key");
    expect(result.stdout).toMatch(/release:local passed: churn-classifier version 1 staged and promoted/);

    const runDir = join(artifacts, (await readFile(join(artifacts, "LATEST"), "utf8")).trim());
    const manifest = JSON.parse(await readFile(join(runDir, "manifest.json"), "utf8")) as Manifest;
    expect(manifest.data.sha256).toBe(objectSha);
    expect(manifest.data.source).toEqual({ store: "r2", bucket, key, sha256: objectSha });
    expect(await readFile(join(runDir, "model-card.md"), "utf8")).not.toContain("synthetic (generated)");

    // The object is replaced after training: fetched again, the gate refuses the run, naming it.
    const replacedSha = await putObject(8);
    const refetch = await npmRun(["data:fetch", "--", "--key", key, "--local", "--persist-to", r2, "--config", config]);
    expect(refetch.code, refetch.stderr).toBe(0);
    const gate = await npmRun(["gate", "--", runDir, "--local", "--persist-to", join(dir, "r2-registry")]);
    expect(gate.code, `${gate.stdout}\n${gate.stderr}`).toBe(4);
    expect(gate.stderr).toContain(
      `error: run ${manifest.source.run_id} was trained on r2://${bucket}/${key} (sha256 ${objectSha.slice(0, 12)}…), but ${dataPath} (fetched from r2://${bucket}/${key}) has sha256 ${replacedSha.slice(0, 12)}…`,
    );
  });

  it("exits 2 naming the object when the key is not in local R2, before training", async () => {
    const result = await npmRun(["release:local", "--", "--artifacts-dir", join(dir, "missing-artifacts"), "--training-data-key", "datasets/none.csv", "--data-persist-to", join(dir, "empty-r2")]);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(2);
    expect(result.stderr).toContain("error: could not fetch r2://edge-mlops-models/datasets/none.csv (local R2): The specified key does not exist.");
    expect(result.stderr).toContain("release:local failed at step 1: npm run data:fetch exited 2");
    expect(existsSync(join(dir, "missing-artifacts"))).toBe(false);
  });
});

describe("smoke", () => {
  it("names the failed step and the refused connection when nothing listens", async () => {
    const base = `http://127.0.0.1:${await freePort()}`;
    await expect(runSmoke(base)).rejects.toThrow(new SmokeFailure("health", `${base}/health unreachable (ECONNREFUSED)`));
    const cli = await npmRun(["smoke", "--", "--url", base]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`✗ smoke health failed: ${base}/health unreachable (ECONNREFUSED)`);
  });

  it("refuses a --expect-version that is not a version as a usage error", async () => {
    const cli = await npmRun(["smoke", "--", "--url", "http://127.0.0.1:9", "--expect-version", "latest"]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('--expect-version must be a positive integer, got "latest"');
  });
});
