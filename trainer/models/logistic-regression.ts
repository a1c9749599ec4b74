/**
 * L2 logistic regression with scikit-learn LogisticRegression's objective (penalty="l2",
 * fit_intercept=True, intercept not penalised):
 *
 *   minimise  C * Σ_i logloss(y_i, w·x_i + b) + ½‖w‖²
 *
 * solved by damped Newton steps. With ~14-40 features the (d+1)² Hessian is tiny, Cholesky solves it
 * exactly, and Newton converges quadratically, so the answer is the true optimum rather than
 * lbfgs's approximate one. The objective is strictly convex (the ridge term covers w; for fixed w it
 * is strictly convex in b whenever both classes occur), so the Hessian is positive definite.
 */
import type { ModelConfig } from "../config";
import { modelConfigSchema } from "../config";
import type { Matrix } from "./types";

export type LogisticRegressionOptions = Omit<Extract<ModelConfig, { type: "logistic_regression" }>, "type">;

const DEFAULTS: LogisticRegressionOptions = modelConfigSchema.parse({
  type: "logistic_regression",
}) as LogisticRegressionOptions;

export interface LogisticRegressionResult {
  model: { family: "logistic_regression"; coef: Float64Array; intercept: number };
  nIter: number;
  /** True when the last full Newton step was <= tol * (1 + max |parameter|) in every parameter. */
  converged: boolean;
  /** The objective at the solution (C * summed log loss + ½‖w‖²). */
  objective: number;
}

export function fitLogisticRegression(
  X: Matrix,
  y: Uint8Array,
  options: Partial<LogisticRegressionOptions> = {},
): LogisticRegressionResult {
  const { C, max_iter: maxIter, tol } = { ...DEFAULTS, ...options };
  const { rows: n, cols: d, data } = X;
  if (y.length !== n) throw new RangeError(`X has ${n} rows but y has ${y.length}`);
  let positives = 0;
  for (let r = 0; r < n; r++) positives += y[r]!;
  if (positives === 0 || positives === n) throw new RangeError("logistic regression needs both classes in y");

  const k = d + 1; // parameters: w[0..d-1], then the intercept
  const theta = new Float64Array(k);
  const grad = new Float64Array(k);
  const hess = new Float64Array(k * k);
  const step = new Float64Array(k);
  const trial = new Float64Array(k);
  const x = new Float64Array(k);
  x[d] = 1;

  let f = objective(X, y, C, theta);
  let nIter = 0;
  let converged = false;
  while (nIter < maxIter && !converged) {
    nIter++;
    grad.fill(0);
    hess.fill(0);
    for (let r = 0; r < n; r++) {
      const base = r * d;
      let z = theta[d]!;
      for (let c = 0; c < d; c++) {
        x[c] = data[base + c]!;
        z += theta[c]! * x[c]!;
      }
      const p = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
      const residual = C * (p - y[r]!);
      const s = C * p * (1 - p);
      for (let i = 0; i < k; i++) {
        const xi = x[i]!;
        grad[i]! += residual * xi;
        const sxi = s * xi;
        const row = i * k;
        for (let j = 0; j <= i; j++) hess[row + j]! += sxi * x[j]!;
      }
    }
    for (let i = 0; i < d; i++) {
      grad[i]! += theta[i]!;
      hess[i * k + i]! += 1;
    }
    choleskySolve(hess, k, grad, step); // step = H⁻¹ g (lower triangle of hess is used)

    // Backtracking (Armijo) guards the first steps, where the quadratic model can overshoot. Once
    // the predicted decrease gᵀΔ/2 is below what a sum of n losses can resolve in floating point,
    // the comparison is noise: the full Newton step is taken (it is then quadratically convergent).
    let decrease = 0;
    for (let i = 0; i < k; i++) decrease += grad[i]! * step[i]!;
    const resolvable = decrease > 1e-10 * Math.max(1, Math.abs(f));
    let t = 1;
    for (let halvings = 0; ; halvings++) {
      for (let i = 0; i < k; i++) trial[i] = theta[i]! - t * step[i]!;
      const fTrial = objective(X, y, C, trial);
      if (!resolvable || fTrial <= f - 1e-4 * t * decrease) {
        theta.set(trial);
        f = fTrial;
        break;
      }
      if (halvings === 60) throw new Error("logistic regression line search failed (non-finite objective?)");
      t /= 2;
    }
    let largestStep = 0;
    let largestParam = 0;
    for (let i = 0; i < k; i++) {
      largestStep = Math.max(largestStep, Math.abs(step[i]!));
      largestParam = Math.max(largestParam, Math.abs(theta[i]!));
    }
    converged = largestStep <= tol * (1 + largestParam);
  }
  return {
    model: { family: "logistic_regression", coef: theta.slice(0, d), intercept: theta[d]! },
    nIter,
    converged,
    objective: f,
  };
}

function objective(X: Matrix, y: Uint8Array, C: number, theta: Float64Array): number {
  const { rows: n, cols: d, data } = X;
  let loss = 0;
  for (let r = 0; r < n; r++) {
    const base = r * d;
    let z = theta[d]!;
    for (let c = 0; c < d; c++) z += theta[c]! * data[base + c]!;
    const softplus = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
    loss += softplus - y[r]! * z;
  }
  let ridge = 0;
  for (let c = 0; c < d; c++) ridge += theta[c]! * theta[c]!;
  return C * loss + 0.5 * ridge;
}

/**
 * Solves A s = b for symmetric positive definite A (lower triangle, row-major k×k) by Cholesky.
 * A diagonal jitter is added only if rounding makes a pivot non-positive (nearly separable data
 * with a huge C), which keeps the step a descent direction.
 */
function choleskySolve(A: Float64Array, k: number, b: Float64Array, out: Float64Array): void {
  const L = new Float64Array(k * k);
  let scale = 0;
  for (let i = 0; i < k; i++) scale = Math.max(scale, A[i * k + i]!);
  for (let jitter = 0; ; jitter = jitter === 0 ? 1e-12 * scale : jitter * 10) {
    let ok = true;
    for (let i = 0; i < k && ok; i++) {
      for (let j = 0; j <= i; j++) {
        let sum = A[i * k + j]! + (i === j ? jitter : 0);
        for (let m = 0; m < j; m++) sum -= L[i * k + m]! * L[j * k + m]!;
        if (i === j) {
          if (!(sum > 0)) {
            ok = false;
            break;
          }
          L[i * k + i] = Math.sqrt(sum);
        } else L[i * k + j] = sum / L[j * k + j]!;
      }
    }
    if (ok) break;
    if (jitter > scale) throw new Error("logistic regression Hessian is not positive definite");
  }
  for (let i = 0; i < k; i++) {
    let sum = b[i]!;
    for (let m = 0; m < i; m++) sum -= L[i * k + m]! * out[m]!;
    out[i] = sum / L[i * k + i]!;
  }
  for (let i = k - 1; i >= 0; i--) {
    let sum = out[i]!;
    for (let m = i + 1; m < k; m++) sum -= L[m * k + i]! * out[m]!;
    out[i] = sum / L[i * k + i]!;
  }
}
