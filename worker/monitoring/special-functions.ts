/**
 * Special functions behind the drift p-values: log-gamma, the regularized incomplete gamma
 * functions and the chi-squared survival function. Pure arithmetic, so the worker and Node share it.
 */

// Lanczos approximation with g = 7 and nine coefficients (Godfrey's set): about 1e-15 relative
// for real arguments, which keeps the incomplete gamma prefactor accurate to ~1e-13 and better.
const LANCZOS_G = 7;
const LANCZOS_COEFFICIENTS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

// Stirling's series for ln Γ(x) past this point: the Lanczos sum loses a few ulps there and
// ln Γ grows large enough that relative 1e-16 of it still matters in exp(a ln x - x - ln Γ(a)).
const STIRLING_THRESHOLD = 15;

export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma needs x > 0, got ${x}`);
  if (x >= STIRLING_THRESHOLD) {
    // ln Γ(x) = (x - 1/2) ln x - x + ln √(2π) + 1/(12x) - 1/(360x³) + 1/(1260x⁵) - 1/(1680x⁷) + ...
    const inv = 1 / x;
    const inv2 = inv * inv;
    const series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680 - inv2 / 1188))));
    return (x - 0.5) * Math.log(x) - x + HALF_LOG_TWO_PI + series;
  }
  if (x < 0.5) {
    // Reflection keeps the Lanczos sum in the range where it was fitted.
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  const z = x - 1;
  let sum = LANCZOS_COEFFICIENTS[0]!;
  for (let i = 1; i < LANCZOS_COEFFICIENTS.length; i++) sum += LANCZOS_COEFFICIENTS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const GAMMA_EPSILON = 1e-16;
const GAMMA_MAX_ITERATIONS = 10_000;
// Smallest representable scale for the modified Lentz algorithm, so a zero denominator never divides.
const LENTZ_TINY = 1e-300;

/** e^{-x} x^a / Γ(a), the factor shared by the series and the continued fraction. */
function gammaPrefactor(a: number, x: number): number {
  return Math.exp(a * Math.log(x) - x - logGamma(a));
}

/** P(a, x) by its power series, which converges quickly for x < a + 1 (Abramowitz & Stegun 6.5.29). */
function lowerGammaSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < GAMMA_MAX_ITERATIONS; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * GAMMA_EPSILON) break;
  }
  return sum * gammaPrefactor(a, x);
}

/**
 * Q(a, x) by Legendre's continued fraction (A&S 6.5.31), evaluated with the modified Lentz method;
 * it converges for x > a + 1 and computes the small upper tail without the cancellation of 1 - P.
 */
function upperGammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / LENTZ_TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < GAMMA_MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < LENTZ_TINY) d = LENTZ_TINY;
    c = b + an / c;
    if (Math.abs(c) < LENTZ_TINY) c = LENTZ_TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < GAMMA_EPSILON) break;
  }
  return h * gammaPrefactor(a, x);
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a). */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0)) throw new RangeError(`regularizedGammaQ needs a > 0, got ${a}`);
  if (Number.isNaN(x) || x < 0) throw new RangeError(`regularizedGammaQ needs x >= 0, got ${x}`);
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - lowerGammaSeries(a, x) : upperGammaContinuedFraction(a, x);
}

/** Regularized lower incomplete gamma P(a, x) = γ(a, x) / Γ(a). */
export function regularizedGammaP(a: number, x: number): number {
  if (!(a > 0)) throw new RangeError(`regularizedGammaP needs a > 0, got ${a}`);
  if (Number.isNaN(x) || x < 0) throw new RangeError(`regularizedGammaP needs x >= 0, got ${x}`);
  if (x === 0) return 0;
  if (x === Infinity) return 1;
  return x < a + 1 ? lowerGammaSeries(a, x) : 1 - upperGammaContinuedFraction(a, x);
}

/** Survival function of the chi-squared distribution with `dof` degrees of freedom: Q(dof/2, x/2). */
export function chiSquareSurvival(x: number, dof: number): number {
  if (!(dof > 0)) throw new RangeError(`chi-squared needs dof > 0, got ${dof}`);
  if (x <= 0) return 1;
  return regularizedGammaQ(dof / 2, x / 2);
}
