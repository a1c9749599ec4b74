/**
 * A categorical column trained with `missing: {constant: X}` serves a null as X, as training saw
 * it: the model the real trainer writes gives a row sent with null the probability the trainer
 * computed for the same CSV row with a blank cell. Feeds come from the worker's own buildFeeds
 * (through node-runtime), so null here is exactly what the edge sends.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../../trainer/config";
import { generateChurnRows, toCsv } from "../../../trainer/data/synthetic";
import { createSession, runRows } from "../../../trainer/onnx/node-runtime";
import { runTraining } from "../../../trainer/pipeline/train-run";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "categorical-impute-"));
  // Every 8th customer's payment method left blank, as a CRM export would.
  const rows = generateChurnRows({ rows: 1500, seed: 21 }).map((row, i) => (i % 8 === 3 ? { ...row, payment_method: "" } : row));
  await writeFile(join(dir, "train.csv"), toCsv(rows));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("categorical missing: {constant}", () => {
  it.each([
    { type: "logistic_regression" },
    { type: "random_forest", n_estimators: 30, max_depth: 6 },
  ])("a null category scores as the constant, as the blank CSV cell trained ($type)", async (model) => {
    const config = parseConfig({
      mlflow: { model_name: "impute-check" },
      data: { train_path: join(dir, "train.csv"), target_column: "churned" },
      features: {
        numeric: ["tenure", "monthly_charges"],
        categorical: ["contract_type", "payment_method"],
        columns: { payment_method: { missing: { constant: "Unknown" }, nullable: true } },
      },
      training: { val_size: 0.2, random_state: 4, golden_rows: 300, reference_sample_size: 10 },
      model,
      output: { label: "churn" },
    });
    const result = await runTraining(config, { configText: model.type, artifactsDir: join(dir, model.type) });
    const { manifest } = result;
    expect(manifest.features.find((f) => f.name === "payment_method")).toMatchObject({ categories: expect.arrayContaining(["Unknown"]) });

    // Golden rows: validation rows with the trainer's own probability; "Unknown" ones were blank.
    const blanks = manifest.golden.filter((g) => g.input.payment_method === "Unknown");
    expect(blanks.length).toBeGreaterThan(20);
    const session = await createSession(new Uint8Array(await readFile(join(result.dir, "model.onnx"))));
    const asNull = await runRows(session, manifest.features, blanks.map((g) => ({ ...g.input, payment_method: null })));
    const asConstant = await runRows(session, manifest.features, blanks.map((g) => g.input));
    blanks.forEach((g, i) => {
      expect(asNull[i]).toBe(asConstant[i]);
      expect(Math.abs(asNull[i]! - g.probability)).toBeLessThanOrEqual(1e-5);
    });
    // Rows that had a value are untouched by the mapping.
    const others = manifest.golden.filter((g) => g.input.payment_method !== "Unknown").slice(0, 50);
    const p = await runRows(session, manifest.features, others.map((g) => g.input));
    others.forEach((g, i) => expect(Math.abs(p[i]! - g.probability)).toBeLessThanOrEqual(1e-5));
    await session.release();
  });
});
