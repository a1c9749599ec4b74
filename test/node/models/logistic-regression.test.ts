import { describe, expect, it } from "vitest";
import { fitLogisticRegression } from "../../../trainer/models/logistic-regression";
import type { Matrix } from "../../../trainer/models/types";
import { Rng } from "../../../trainer/random";

const matrix = (rows: number[][]): Matrix => ({
  data: Float32Array.from(rows.flat()),
  rows: rows.length,
  cols: rows[0]!.length,
});

// Dataset 4 of scripts/reference/models_reference.py; sklearn was fitted on the float32 values of
// these literals, which is what the trainer's X holds.
const ROWS = [
  [0.5, 1.2], [1.5, -0.3], [-1.0, 0.8], [2.0, 1.0], [0.0, -1.5],
  [-0.7, -0.2], [1.1, 0.4], [-1.8, 1.9], [0.3, 0.3], [2.5, -1.0],
];
const Y = Uint8Array.from([1, 1, 0, 1, 0, 0, 1, 0, 0, 1]);

/** Gradient of C Σ logloss + ½‖w‖² at the fitted parameters, recomputed independently. */
function gradient(X: Matrix, y: Uint8Array, C: number, coef: Float64Array, intercept: number): number[] {
  const g = [...coef, 0];
  for (let r = 0; r < X.rows; r++) {
    let z = intercept;
    for (let c = 0; c < X.cols; c++) z += coef[c]! * X.data[r * X.cols + c]!;
    const residual = C * (1 / (1 + Math.exp(-z)) - y[r]!);
    for (let c = 0; c < X.cols; c++) g[c]! += residual * X.data[r * X.cols + c]!;
    g[X.cols]! += residual;
  }
  return g;
}

describe("logistic regression", () => {
  // Reference: sklearn LogisticRegression(C, solver="newton-cholesky"), the same objective as the
  // default lbfgs solved to rounding. (lbfgs itself stops ~1e-6 away on its ftol criterion: for
  // C=0.3 its coef is [0.79016278, 0.15067981], intercept -0.38580305.)
  it.each([
    { C: 1, coef: [1.4151093983943672, 0.4229940396556035], intercept: -0.7229535044957537 },
    { C: 0.3, coef: [0.7901620335289365, 0.15068082017473267], intercept: -0.38580520103804605 },
  ])("matches sklearn LogisticRegression(C=$C) coefficients", ({ C, coef, intercept }) => {
    const X = matrix(ROWS);
    const result = fitLogisticRegression(X, Y, { C });
    expect(result.converged).toBe(true);
    // Tolerance 1e-10 (both solvers reach the optimum to rounding on the same float32 inputs).
    expect(result.model.coef[0]).toBeCloseTo(coef[0]!, 10);
    expect(result.model.coef[1]).toBeCloseTo(coef[1]!, 10);
    expect(result.model.intercept).toBeCloseTo(intercept, 10);
    // The optimality conditions hold to rounding: C Xᵀ(p - y) + w = 0 and Σ(p - y) = 0.
    for (const g of gradient(X, Y, C, result.model.coef, result.model.intercept)) expect(Math.abs(g)).toBeLessThan(1e-12);
  });

  it("stays finite on separable data (the ridge term bounds w) and converges in a few Newton steps", () => {
    const X = matrix([[-2], [-1], [1], [2]]);
    const y = Uint8Array.from([0, 0, 1, 1]);
    const result = fitLogisticRegression(X, y, { C: 1000 });
    expect(result.converged).toBe(true);
    expect(result.nIter).toBeLessThan(30);
    expect(Number.isFinite(result.model.coef[0]!)).toBe(true);
    // Symmetric data: the intercept is zero.
    expect(result.model.intercept).toBeCloseTo(0, 9);
    for (const g of gradient(X, y, 1000, result.model.coef, result.model.intercept)) expect(Math.abs(g)).toBeLessThan(1e-8);
  });

  it("converges on thousands of rows with collinear one-hot columns (loss sums too big to compare exactly)", () => {
    // Near the optimum the predicted decrease falls below the rounding of a 20k-term objective; the
    // solver must still converge rather than stall in its line search until max_iter.
    const rng = new Rng("lr-large");
    const rows = Array.from({ length: 20_000 }, () => {
      const k = rng.int(3);
      return [rng.normal(), rng.normal() * 3, k === 0 ? 1 : 0, k === 1 ? 1 : 0, k === 2 ? 1 : 0];
    });
    const y = Uint8Array.from(rows, (r) => (r[0]! - 0.2 * r[1]! + r[2]! + rng.normal() > 0.3 ? 1 : 0));
    const X = matrix(rows);
    const result = fitLogisticRegression(X, y, { C: 1 });
    expect(result.converged).toBe(true);
    expect(result.nIter).toBeLessThan(20);
    for (const g of gradient(X, y, 1, result.model.coef, result.model.intercept)) expect(Math.abs(g)).toBeLessThan(1e-7);
  });

  it("does not penalise the intercept: with no features it is the log-odds", () => {
    // A constant-zero column contributes nothing; the intercept alone fits the base rate 3/4.
    const X = matrix([[0], [0], [0], [0]]);
    const result = fitLogisticRegression(X, Uint8Array.from([1, 1, 1, 0]), { C: 0.01 });
    expect(result.model.intercept).toBeCloseTo(Math.log(3), 12);
    expect(result.model.coef[0]).toBe(0);
  });

  it("rejects a single-class target and mismatched lengths", () => {
    expect(() => fitLogisticRegression(matrix([[1], [2]]), Uint8Array.from([1, 1]))).toThrow(/both classes/);
    expect(() => fitLogisticRegression(matrix([[1], [2]]), Uint8Array.from([1]))).toThrow(/rows/);
  });
});
