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
  // x̃ = [x, 1] stored column by column: every sum below becomes a sequential dot product.
  const columns = new Float64Array(k * n);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) columns[c * n + r] = data[r * d + c]!;
  columns.fill(1, d * n);
  const work: NewtonWork = {
    z: new Float64Array(n),
    residual: new Float64Array(n),
    curvature: new Float64Array(n),
    weighted: new Float64Array(n),
  };
  const theta = new Float64Array(k);
  const grad = new Float64Array(k);
  const hess = new Float64Array(k * k);
  const step = new Float64Array(k);
  const trial = new Float64Array(k);

  let f = objective(columns, n, y, C, theta, work.z);
  let nIter = 0;
  let converged = false;
  while (nIter < maxIter && !converged) {
    nIter++;
    derivatives(columns, n, y, C, theta, work, grad, hess);
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
      const fTrial = objective(columns, n, y, C, trial, work.z);
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

interface NewtonWork {
  z: Float64Array;
  residual: Float64Array;
  curvature: Float64Array;
  weighted: Float64Array;
}

/** z = x̃ θ for every row. */
function linear(columns: Float64Array, n: number, theta: Float64Array, z: Float64Array): void {
  z.fill(0);
  for (let c = 0; c < theta.length; c++) {
    const t = theta[c]!;
    const off = c * n;
    for (let r = 0; r < n; r++) z[r]! += t * columns[off + r]!;
  }
}

/** Four partial sums, so each add does not wait for the previous one. */
function dot(a: Float64Array, aOff: number, b: Float64Array, bOff: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let r = 0;
  for (; r + 3 < n; r += 4) {
    s0 += a[aOff + r]! * b[bOff + r]!;
    s1 += a[aOff + r + 1]! * b[bOff + r + 1]!;
    s2 += a[aOff + r + 2]! * b[bOff + r + 2]!;
    s3 += a[aOff + r + 3]! * b[bOff + r + 3]!;
  }
  for (; r < n; r++) s0 += a[aOff + r]! * b[bOff + r]!;
  return s0 + s1 + (s2 + s3);
}

/**
 * grad = C Σ (p - y) x̃ + [w, 0] and the lower triangle of hess = C Σ p(1 - p) x̃ x̃ᵀ + diag(1, .., 1, 0):
 * the ridge term covers w, not the intercept.
 */
function derivatives(
  columns: Float64Array,
  n: number,
  y: Uint8Array,
  C: number,
  theta: Float64Array,
  work: NewtonWork,
  grad: Float64Array,
  hess: Float64Array,
): void {
  const k = theta.length;
  const { z, residual, curvature, weighted } = work;
  linear(columns, n, theta, z);
  for (let r = 0; r < n; r++) {
    const zr = z[r]!;
    const p = zr >= 0 ? 1 / (1 + Math.exp(-zr)) : Math.exp(zr) / (1 + Math.exp(zr));
    residual[r] = C * (p - y[r]!);
    curvature[r] = C * p * (1 - p);
  }
  for (let i = 0; i < k; i++) {
    grad[i] = dot(residual, 0, columns, i * n, n) + (i < k - 1 ? theta[i]! : 0);
    const off = i * n;
    for (let r = 0; r < n; r++) weighted[r] = curvature[r]! * columns[off + r]!;
    for (let j = 0; j <= i; j++) hess[i * k + j] = dot(weighted, 0, columns, j * n, n) + (i === j && i < k - 1 ? 1 : 0);
  }
}

function objective(columns: Float64Array, n: number, y: Uint8Array, C: number, theta: Float64Array, z: Float64Array): number {
  linear(columns, n, theta, z);
  let loss = 0;
  for (let r = 0; r < n; r++) {
    const zr = z[r]!;
    const softplus = zr > 0 ? zr + Math.log1p(Math.exp(-zr)) : Math.log1p(Math.exp(zr));
    loss += softplus - y[r]! * zr;
  }
  let ridge = 0;
  for (let c = 0; c < theta.length - 1; c++) ridge += theta[c]! * theta[c]!;
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
