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
        validation,
        onProgress: (_done, _total, phase) => phases.add(phase),
      });
      expect(model.family).toBe(type);
      expect(pairwiseAuc(predictProba(model, validation.X), validation.y)).toBeGreaterThan(0.75);
      expect(typeof info.fit_seconds).toBe("number");
      expect(phases.size).toBe(1);
      if (type === "gradient_boosting") {
        expect(info.best_iteration).toBe((model as { trees: unknown[] }).trees.length);
        expect(info).toHaveProperty("best_validation_log_loss");
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

  it("rejects labels other than 0/1 and shape mismatches, naming the set", () => {
    const config = modelConfigSchema.parse({ type: "logistic_regression" });
    const bad = { X: train.X, y: Uint8Array.from(train.y, (v, i) => (i === 3 ? 2 : v)) };
    expect(() => fitModel(config, bad, { rng: new Rng(1) })).toThrow(/train: label 2 at row 3/);
    const short = { X: { ...validation.X, rows: 10 }, y: validation.y };
    expect(() => fitModel(config, train, { rng: new Rng(1), validation: short })).toThrow(/validation/);
  });
});
