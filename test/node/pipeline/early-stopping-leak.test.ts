/**
 * Gradient boosting's early stopping must never see the rows it is evaluated on. Every call to the
 * boosting learner is recorded (its fit rows and its early-stopping rows) during a real training
 * run with cross-validation; each row carries a unique id feature, so rows are recognised by value.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../../trainer/config";
import { kFoldIndices } from "../../../trainer/data/split";
import { generateChurnRows, toCsv } from "../../../trainer/data/synthetic";
import type { Matrix } from "../../../trainer/models/types";
import { prepareData } from "../../../trainer/pipeline/prepare";
import { runTraining } from "../../../trainer/pipeline/train-run";
import { Rng } from "../../../trainer/random";

interface BoostingCall {
  fit: Matrix;
  stopping?: Matrix;
}
const calls: BoostingCall[] = [];

vi.mock(import("../../../trainer/models/gradient-boosting"), async (importOriginal) => {
  const original = await importOriginal();
  return {
    ...original,
    fitGradientBoosting: (X, y, options, context = {}) => {
      calls.push({ fit: X, stopping: context.validation?.X });
      return original.fitGradientBoosting(X, y, options, context);
    },
  };
});

/** One string per row; the id column makes every row distinct. */
const rowKeys = (X: Matrix): string[] =>
  Array.from({ length: X.rows }, (_, r) => Array.from(X.data.subarray(r * X.cols, (r + 1) * X.cols)).join(","));

let dir: string;
const ROWS = 1000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "early-stopping-"));
  const rows = generateChurnRows({ rows: ROWS, seed: 5 }).map((row, id) => ({ id, ...row }));
  await writeFile(join(dir, "train.csv"), toCsv(rows));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function config() {
  return parseConfig({
    mlflow: { model_name: "leak-check" },
    data: { train_path: join(dir, "train.csv"), target_column: "churned" },
    features: { numeric: ["id", "tenure", "monthly_charges"], categorical: ["contract_type"] },
    training: { val_size: 0.2, random_state: 3, cv_folds: 3, golden_rows: 5, reference_sample_size: 10 },
    model: { type: "gradient_boosting", max_iter: 40, max_depth: 3, early_stopping_rounds: 5 },
    output: { label: "churn" },
  });
}

describe("gradient boosting early stopping", () => {
  it("stops on rows carved from the training rows, never on the validation split or a held-out fold", async () => {
    calls.length = 0;
    const cfg = config();
    await runTraining(cfg, { configText: "leak-check", artifactsDir: join(dir, "artifacts") });
    const prepared = await prepareData(cfg);
    const train = rowKeys(prepared.train.X);
    const validation = new Set(rowKeys(prepared.validation.X));
    expect(calls).toHaveLength(1 + 3);

    const [main, ...folds] = calls;
    const mainFit = rowKeys(main!.fit);
    const mainStop = rowKeys(main!.stopping!);
    expect(mainFit.concat(mainStop).sort()).toEqual([...train].sort());
    // Stratified, as scikit-learn's validation_fraction: round(10% of each class).
    const positives = prepared.train.y.reduce((n, v) => n + v, 0);
    expect(mainStop.length).toBe(Math.round(positives * 0.1) + Math.round((train.length - positives) * 0.1));
    expect(mainStop.filter((k) => validation.has(k))).toEqual([]);
    expect(mainFit.filter((k) => validation.has(k))).toEqual([]);

    // The folds run-training deals (same seed, same stream as cross-validate).
    const foldIndices = kFoldIndices(prepared.train.y, 3, new Rng(cfg.training.random_state).fork("cv-folds"));
    folds.forEach((call, k) => {
      const held = new Set(Array.from(foldIndices[k]!.validation, (i) => train[i]!));
      const seen = [...rowKeys(call.fit), ...rowKeys(call.stopping!)];
      expect(seen.filter((key) => held.has(key)), `fold ${k}`).toEqual([]);
      expect(seen).toHaveLength(train.length - held.size);
      expect(seen.some((key) => validation.has(key))).toBe(false);
    });
  });
});
