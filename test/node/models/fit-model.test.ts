import { describe, expect, it } from "vitest";
import { modelConfigSchema } from "../../../trainer/config";
import { fitModel } from "../../../trainer/models/fit-model";
import { predictProba } from "../../../trainer/models/predict";
import type { Matrix } from "../../../trainer/models/types";
import { Rng } from "../../../trainer/random";

function dataset(seed: string, n: number): { X: Matrix; y: Uint8Array } {
  const rng = new Rng(seed);
  const data = new Float32Array(n * 3);
  const y = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const a = rng.normal();
    const b = rng.normal();
    data.set([a, b, rng.next() < 0.4 ? 1 : 0], r * 3);
    y[r] = a + 0.5 * b + 0.8 * rng.normal() > 0 ? 1 : 0;
  }
  return { X: { data, rows: n, cols: 3 }, y };
}

/** Fraction of (positive, negative) pairs ranked correctly: enough to see a model learned. */
function pairwiseAuc(p: Float64Array, y: Uint8Array): number {
  let good = 0;
  let pairs = 0;
  for (let i = 0; i < y.length; i++)
    for (let j = 0; j < y.length; j++)
      if (y[i] === 1 && y[j] === 0) {
        pairs++;
        good += p[i]! > p[j]! ? 1 : p[i] === p[j] ? 0.5 : 0;
      }
  return good / pairs;
}

describe("fitModel", () => {
  const train = dataset("fit-train", 400);
  const validation = dataset("fit-val", 200);

  it.each(["random_forest", "gradient_boosting", "logistic_regression"] as const)(
    "fits %s from its config section with the schema defaults",
    (type) => {
      const phases = new Set<string>();
      const { model, info } = fitModel(modelConfigSchema.parse({ type, ...(type === "random_forest" ? { n_estimators: 20 } : {}) }), train, {
        rng: new Rng(42),
        onProgress: (_done, _total, phase) => phases.add(phase),
      });
      expect(model.family).toBe(type);
      expect(pairwiseAuc(predictProba(model, validation.X), validation.y)).toBeGreaterThan(0.75);
      expect(typeof info.fit_seconds).toBe("number");
      expect(phases.size).toBe(1);
      if (type === "gradient_boosting") {
        expect(info.best_iteration).toBe((model as { trees: unknown[] }).trees.length);
        expect(info).toHaveProperty("best_early_stopping_log_loss");
      }
      if (type === "logistic_regression") expect(info.converged).toBe(true);
    },
  );

  it("gives identical forests for the same seed", () => {
    const config = modelConfigSchema.parse({ type: "random_forest", n_estimators: 5 });
    const a = fitModel(config, train, { rng: new Rng(7) }).model;
    expect(fitModel(config, train, { rng: new Rng(7) }).model).toEqual(a);
    expect(fitModel(config, train, { rng: new Rng(8) }).model).not.toEqual(a);
  });

  it("holds a stratified validation_fraction of the training rows out for boosting's early stopping", () => {
    const positives = train.y.reduce((n, v) => n + v, 0);
    const held = (fraction: number) => Math.round(positives * fraction) + Math.round((train.y.length - positives) * fraction);
    const fit = (options: Record<string, unknown>) =>
      fitModel(modelConfigSchema.parse({ type: "gradient_boosting", max_iter: 20, ...options }), train, { rng: new Rng(3) }).info;
    expect(fit({})).toMatchObject({ fit_rows: 400 - held(0.1), early_stopping_rows: held(0.1) });
    expect(fit({ validation_fraction: 0.25 })).toMatchObject({ fit_rows: 400 - held(0.25), early_stopping_rows: held(0.25) });
    const off = fit({ early_stopping_rounds: 0 });
    expect(off).toMatchObject({ fit_rows: 400, early_stopping_rows: 0 });
    expect(off).not.toHaveProperty("best_early_stopping_log_loss");
  });

  it("says which setting to change when the early-stopping rows would lack a class", () => {
    const few = { X: { data: train.X.data.subarray(0, 12 * 3), rows: 12, cols: 3 }, y: Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1) };
    expect(() => fitModel(modelConfigSchema.parse({ type: "gradient_boosting" }), few, { rng: new Rng(1) })).toThrow(
      "the early-stopping rows has 1 rows but no positive rows; add data or change model.validation_fraction",
    );
  });

  it("rejects labels other than 0/1 and shape mismatches, naming the set", () => {
    const config = modelConfigSchema.parse({ type: "logistic_regression" });
    const bad = { X: train.X, y: Uint8Array.from(train.y, (v, i) => (i === 3 ? 2 : v)) };
    expect(() => fitModel(config, bad, { rng: new Rng(1) })).toThrow(/train: label 2 at row 3/);
    const short = { X: { ...validation.X, rows: 10 }, y: validation.y };
    expect(() => fitModel(config, short, { rng: new Rng(1) })).toThrow("train: X holds 600 values, expected 10 x 3");
  });
});
