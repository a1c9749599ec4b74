/**
 * The distribution of the one-sample Kolmogorov–Smirnov statistic D_n, used as the large-sample
 * approximation for the two-sample test with n = round(mn / (m + n)).
 *
 * The algorithm for each region of (n, x) follows Simard & L'Ecuyer, "Computing the two-sided
 * Kolmogorov–Smirnov distribution", J. Stat. Softw. 39(11), 2011, which is also how
 * scipy.stats.kstwo chooses; using the same choices keeps our p-values within 1e-6 of scipy's,
 * including where the choice is an approximation (Pelz–Good, doubled one-sided tail).
 * Where they use Pomeranz's recursion (n <= 140) we use the Durbin matrix instead: both are exact.
 */
import { logGamma } from "./special-functions";

const SQRT_TWO_PI = Math.sqrt(2 * Math.PI);
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
const SCALE_EXPONENT = 128;
const SCALE_UP = 2 ** SCALE_EXPONENT;

function clamp01(p: number): number {
  return Math.min(1, Math.max(0, p));
}

/** ln(n! / n^n). */
function logFactorialOverPower(n: number): number {
  return logGamma(n + 1) - n * Math.log(n);
}

/**
 * P(D_n <= d) by Durbin's matrix formula as made practical by Marsaglia, Tsang & Wang,
 * "Evaluating Kolmogorov's distribution", J. Stat. Softw. 8(18), 2003: with k = ceil(nd) and
 * h = k - nd, the probability is n!/n^n times the central entry of H^n for a (2k-1)-square H.
 * Powers are rescaled by 2^128 and the exponent tracked, so large n neither overflows nor underflows.
 */
export function durbinMatrixCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const inverseFactorial = new Float64Array(m + 1);
  inverseFactorial[0] = 1;
  for (let i = 1; i <= m; i++) inverseFactorial[i] = inverseFactorial[i - 1]! / i;

  let base: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) if (i - j + 1 >= 0) base[i * m + j] = inverseFactorial[i - j + 1]!;
  }
  for (let i = 0; i < m; i++) {
    base[i * m] = (1 - h ** (i + 1)) * inverseFactorial[i + 1]!;
    base[(m - 1) * m + (m - 1 - i)] = (1 - h ** (i + 1)) * inverseFactorial[i + 1]!;
  }
  base[(m - 1) * m] = (1 - 2 * h ** m + Math.max(0, 2 * h - 1) ** m) * inverseFactorial[m]!;

  let result: Float64Array | null = null;
  let resultExponent = 0;
  let baseExponent = 0;
  let power = n;
  const centre = (k - 1) * m + (k - 1);
  while (power > 0) {
    if (power % 2 === 1) {
      result = result === null ? base.slice() : multiply(result, base, m);
      resultExponent += baseExponent + rescale(result);
    }
    power = Math.floor(power / 2);
    if (power > 0) {
      base = multiply(base, base, m);
      baseExponent = 2 * baseExponent + rescale(base);
    }
  }
  const entry = result![centre]!;
  if (entry <= 0) return 0;
  return clamp01(Math.exp(Math.log(entry) + resultExponent * Math.LN2 + logFactorialOverPower(n)));
}

function multiply(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < m; l++) {
      const ail = a[i * m + l]!;
      if (ail === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j]! += ail * b[l * m + j]!;
    }
  }
  return out;
}

/** Divides the matrix by 2^128 in place when its entries grow past that; returns the power of 2 taken out. */
function rescale(matrix: Float64Array): number {
  let largest = 0;
  for (const v of matrix) largest = Math.max(largest, Math.abs(v));
  if (largest <= SCALE_UP) return 0;
  for (let i = 0; i < matrix.length; i++) matrix[i]! /= SCALE_UP;
  return SCALE_EXPONENT;
}

/**
 * Upper tail of the one-sided statistic, P(D+_n >= x), by the Smirnov / Birnbaum–Tingey sum
 * x Σ_{j <= n(1-x)} C(n, j) (1 - x - j/n)^{n-j} (x + j/n)^{j-1}. Every term is positive, so
 * summing them in log space loses nothing to cancellation.
 */
export function smirnovSurvival(n: number, x: number): number {
  if (x <= 0) return 1;
  if (x >= 1) return 0;
  const last = Math.floor(n * (1 - x));
  const logN = logGamma(n + 1);
  let sum = 0;
  for (let j = 0; j <= last; j++) {
    const low = 1 - x - j / n;
    if (low <= 0) continue;
    const logTerm = logN - logGamma(j + 1) - logGamma(n - j + 1) + (n - j) * Math.log(low) + (j - 1) * Math.log(x + j / n);
    sum += Math.exp(logTerm);
  }
  return clamp01(x * sum);
}

/**
 * Pelz & Good's asymptotic expansion (J. R. Stat. Soc. B 38, 1976) of P(D_n <= x) in powers of
 * n^{-1/2}: K0 + K1/√n + K2/n + K3/n^{3/2} with z = x√n, each term written with theta-function
 * series that converge fast for the moderate z where Simard & L'Ecuyer use it.
 */
export function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qLog = -PI2 / 8 / z2;
  if (qLog < -708) return 0;
  const terms = Math.ceil((16 * z) / Math.PI);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3a = -30 * z6 - 90 * z4 * z4;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;

  // Odd-index theta sums: Σ_k exp(-(2k-1)² π² / (8z²)) times a polynomial in (2k-1)².
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let k = terms; k >= 1; k--) {
    const odd = 2 * k - 1;
    const o2 = odd * odd;
    const weight = Math.exp(qLog * o2);
    s0 += weight;
    s1 += weight * (k1a + k1b * o2);
    s2 += weight * (k2a + k2b * o2 + k2c * o2 * o2);
    s3 += weight * (k3a + k3b * o2 + k3c * o2 * o2 + k3d * o2 * o2 * o2);
  }
  // Even-index corrections to K2 and K3: Σ_k k² exp(-k² π² / (2z²)) (and with a (3z² - π²k²) factor).
  let e2 = 0;
  let e3 = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = terms; k >= 1; k--) {
    const weight = k * k * Math.exp((-PI2 * k * k) / 2 / z2);
    e2 += weight;
    e3 += (sqrt3z + Math.PI * k) * (sqrt3z - Math.PI * k) * weight;
  }
  const k0 = (SQRT_TWO_PI * s0) / z;
  const k1 = (SQRT_TWO_PI * s1) / (6 * z4);
  const k2 = (SQRT_TWO_PI * s2) / (72 * z4 * z2 * z) + (e2 * PI2 * SQRT_TWO_PI) / (-36 * z2 * z);
  const k3 = (SQRT_TWO_PI * s3) / (6480 * z4 * z6) + (e3 * PI2 * SQRT_TWO_PI) / (216 * z6);
  return k0 + k1 / Math.sqrt(n) + k2 / n + k3 / (n * Math.sqrt(n));
}

/** P(D_n > x) for the two-sided one-sample statistic (scipy.stats.kstwo.sf). */
export function kolmogorovSurvival(n: number, x: number): number {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`kolmogorovSurvival needs a whole n > 0, got ${n}`);
  if (Number.isNaN(x)) return NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    // Ruben & Gambino's closed form on 1/(2n) < x <= 1/n: P(D_n <= x) = n!/n^n (2t - 1)^n.
    if (t <= 0.5) return 1;
    return clamp01(1 - Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1)));
  }
  // Ruben & Gambino's closed form near the top of the range.
  if (t >= n - 1) return clamp01(2 * (1 - x) ** n);
  // For x >= 1/2 the two one-sided tails cannot both be exceeded, so the two-sided tail is exactly double.
  if (x >= 0.5) return clamp01(2 * smirnovSurvival(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 4) return clamp01(1 - durbinMatrixCdf(n, x));
    return clamp01(2 * smirnovSurvival(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clamp01(2 * smirnovSurvival(n, x));
  const cdf = n <= 100_000 && n * x ** 1.5 <= 1.4 ? durbinMatrixCdf(n, x) : pelzGoodCdf(n, x);
  return clamp01(1 - cdf);
}
