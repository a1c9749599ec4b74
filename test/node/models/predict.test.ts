import { describe, expect, it } from "vitest";
import { predictProba, sigmoid } from "../../../trainer/models/predict";
import type { Matrix, Tree } from "../../../trainer/models/types";

const matrix = (rows: number[][]): Matrix => ({
  data: Float32Array.from(rows.flat()),
  rows: rows.length,
  cols: rows[0]!.length,
});

/** Root splits on feature f at t; leaves hold a (left) and b (right). */
const stump = (f: number, t: number, a: number, b: number): Tree => ({
  feature: Int32Array.from([f, -1, -1]),
  threshold: Float32Array.from([t, 0, 0]),
  left: Int32Array.from([1, -1, -1]),
  right: Int32Array.from([2, -1, -1]),
  value: Float64Array.from([0, a, b]),
});

describe("predictProba", () => {
  it("branches on the float32 comparison x <= threshold", () => {
    // Threshold 0.1 is stored as float32(0.1) = 0.100000001490116...; x is float32 too.
    const tree = stump(0, 0.1, 0.2, 0.9);
    const just = Math.fround(0.1);
    const above = just + 2 ** -27; // the next float32 above float32(0.1)
    expect(Math.fround(above)).toBe(above);
    const X = matrix([[0.1], [just], [above], [0.1000000001]]);
    // 0.1000000001 rounds to float32(0.1) on the way into the Float32Array, so it goes left too.
    expect(Array.from(predictProba({ family: "random_forest", trees: [tree] }, X))).toEqual([0.2, 0.2, 0.9, 0.2]);
  });

  it("averages forest leaves", () => {
    const trees = [stump(0, 1.5, 0.1, 0.7), stump(1, 0, 0.3, 0.5)];
    const X = matrix([
      [1, -1],
      [2, 1],
    ]);
    const p = predictProba({ family: "random_forest", trees }, X);
    expect(p[0]).toBeCloseTo((0.1 + 0.3) / 2, 15);
    expect(p[1]).toBeCloseTo((0.7 + 0.5) / 2, 15);
  });

  it("sums boosting leaves onto the base score, then applies the sigmoid", () => {
    const trees = [stump(0, 1.5, -0.4, 0.6), stump(0, 2.5, 0.25, -0.1)];
    const p = predictProba({ family: "gradient_boosting", trees, baseScore: 0.2 }, matrix([[1], [2], [3]]));
    expect(p[0]).toBeCloseTo(1 / (1 + Math.exp(-(0.2 - 0.4 + 0.25))), 15);
    expect(p[1]).toBeCloseTo(1 / (1 + Math.exp(-(0.2 + 0.6 + 0.25))), 15);
    expect(p[2]).toBeCloseTo(1 / (1 + Math.exp(-(0.2 + 0.6 - 0.1))), 15);
    expect(predictProba({ family: "gradient_boosting", trees: [], baseScore: 0 }, matrix([[1]]))[0]).toBe(0.5);
  });

  it("computes sigmoid(w·x + b) for logistic regression", () => {
    const model = { family: "logistic_regression" as const, coef: Float64Array.from([2, -1]), intercept: 0.5 };
    const p = predictProba(model, matrix([[1, 3], [0.25, 0]]));
    expect(p[0]).toBeCloseTo(1 / (1 + Math.exp(0.5)), 15);
    expect(p[1]).toBeCloseTo(1 / (1 + Math.exp(-1)), 15);
    expect(() => predictProba(model, matrix([[1]]))).toThrow(/coefficients/);
  });

  it("has a sigmoid that neither overflows nor loses symmetry", () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(-3) + sigmoid(3)).toBeCloseTo(1, 15);
  });
});
