/**
 * Drift statistics for the monitoring cron: two-sample Kolmogorov–Smirnov, chi-squared homogeneity,
 * the Population Stability Index and Benjamini–Hochberg adjustment. Plain functions over numbers:
 * no Hono, D1 or I/O, so the cron, the CLI and tests call them directly.
 *
 * Agreement with scipy 1.10 (ks_2samp method="auto", chi2_contingency correction=False) is tested
 * to 1e-6 against fixtures from scripts/reference/drift_stats_reference.py.
 *
 * Input rules, the same in every function:
 *  - NaN values are dropped before anything is computed (a missing feature is not a value);
 *  - a sample that is empty after dropping them throws a RangeError: a caller wanting
 *    "insufficient data" must check sizes first, so an empty window can never read as "no drift".
 */
import { histogramBin, type Histogram } from "../contract/drift-reference";
import { kolmogorovSurvival } from "./kolmogorov-distribution";
import { chiSquareSurvival } from "./special-functions";

export interface KsResult {
  statistic: number;
  pValue: number;
  /** "exact" below scipy's cut-off (both samples <= 10,000 values), "asymptotic" above it. */
  method: "exact" | "asymptotic";
  referenceSize: number;
  currentSize: number;
}

export interface ChiSquareResult {
  statistic: number;
  pValue: number;
  dof: number;
}

export interface PsiResult {
  statistic: number;
  /** Per bin (or category, in key order), with empty bins already raised to epsilon. */
  referenceProportions: number[];
  currentProportions: number[];
}

export interface PsiOptions {
  /** Stand-in proportion for an empty bin, so ln(p/q) stays finite. */
  epsilon?: number;
}

/** scipy's "auto" switches from the exact distribution to the asymptotic one above this size. */
export const KS_EXACT_MAX_SIZE = 10_000;

/**
 * 1e-4 stands in for an empty bin's proportion, without renormalising the others: Evidently's
 * default (its get_binned_data). Evidently switches to (smallest non-zero share) / 1e6 when some
 * share is already below 1e-4; we keep the fixed value so a window's PSI does not depend on how
 * many values it happened to hold.
 */
export const PSI_EMPTY_BIN_EPSILON = 1e-4;

function withoutNaN(values: readonly number[], label: string): Float64Array {
  const kept = Float64Array.from(values.filter((v) => !Number.isNaN(v)));
  if (kept.length === 0) throw new RangeError(`${label} sample is empty (after dropping NaN)`);
  return kept;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** numpy's round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * max_v |n2 * #{ref <= v} - n1 * #{cur <= v}| over every observed v, an exact integer. Evaluating
 * the ECDFs only after the last copy of each value is how ties are counted: a tied value moves
 * both ECDFs at once.
 */
function largestEcdfGap(ref: Float64Array, cur: Float64Array): number {
  const n1 = ref.length;
  const n2 = cur.length;
  let i = 0;
  let j = 0;
  let largest = 0;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && ref[i]! <= cur[j]!) ? ref[i]! : cur[j]!;
    while (i < n1 && ref[i] === v) i++;
    while (j < n2 && cur[j] === v) j++;
    largest = Math.max(largest, Math.abs(i * n2 - j * n1));
  }
  return largest;
}

/**
 * P(D >= h / lcm(m, n)) for two samples of sizes m and n under H0, counting monotone lattice
 * paths from (0, 0) to (m, n) that touch |x/m - y/n| >= h / lcm (Hodges, "The significance
 * probability of the Smirnov two-sample test", Ark. Mat. 3, 1958). Rather than counting paths
 * (binomial-sized numbers), we carry for each point the fraction of its paths that have already
 * left the band, which is a convex combination of its two predecessors' fractions (Viehmann,
 * arXiv:2102.08037); the values stay in [0, 1] and the small tail keeps its relative accuracy.
 *
 * Points outside the band have fraction 1, so each column only computes its band,
 * (x ng - h) / mg < y < (x ng + h) / mg: the work is about m * 2h / mg instead of m * n, which
 * matters most when there is no drift and h is small.
 */
function exactTwoSampleTail(m: number, n: number, h: number): number {
  const g = gcd(m, n);
  const mg = m / g;
  const ng = n / g;
  const lowest = (x: number) => Math.max(0, Math.floor((x * ng - h) / mg) + 1);
  const highest = (x: number) => Math.min(n, Math.ceil((x * ng + h) / mg) - 1);
  // Both columns start at 1 and the band only moves up, so a cell above the previous band that
  // the next column reads has never been written and still holds 1.
  let previous = new Float64Array(n + 1).fill(1);
  let current = new Float64Array(n + 1).fill(1);
  for (let y = 0; y <= highest(0); y++) current[y] = 0;
  for (let x = 1; x <= m; x++) {
    [previous, current] = [current, previous];
    const lo = lowest(x);
    const hi = highest(x);
    for (let y = lo; y <= hi; y++) {
      if (y === 0) {
        current[0] = previous[0]!;
        continue;
      }
      const below = y === lo ? 1 : current[y - 1]!;
      current[y] = (x * previous[y]! + y * below) / (x + y);
    }
  }
  return current[n]!;
}

/** Two-sided two-sample Kolmogorov–Smirnov test, as scipy.stats.ks_2samp(method="auto"). */
export function ksTwoSample(reference: readonly number[], current: readonly number[]): KsResult {
  const ref = withoutNaN(reference, "reference").sort();
  const cur = withoutNaN(current, "current").sort();
  const n1 = ref.length;
  const n2 = cur.length;
  const gap = largestEcdfGap(ref, cur);
  const statistic = gap / n1 / n2;
  const base = { statistic, referenceSize: n1, currentSize: n2 };
  if (Math.max(n1, n2) <= KS_EXACT_MAX_SIZE) {
    // The gap is a multiple of gcd(n1, n2); in units of 1/lcm it is the integer h.
    const h = gap / gcd(n1, n2);
    const pValue = h === 0 ? 1 : exactTwoSampleTail(n1, n2, h);
    return { ...base, pValue: Math.min(1, Math.max(0, pValue)), method: "exact" };
  }
  // Smirnov's limit: D sqrt(mn/(m+n)) follows the one-sample law of D_N with N = round(mn/(m+n)).
  const effective = roundHalfEven((n1 * n2) / (n1 + n2));
  return { ...base, pValue: kolmogorovSurvival(Math.max(1, effective), statistic), method: "asymptotic" };
}

function checkCounts(counts: Record<string, number>, label: string): void {
  for (const [key, value] of Object.entries(counts)) {
    if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`${label} count for "${key}" must be finite and >= 0, got ${value}`);
  }
}

/**
 * Chi-squared test of homogeneity on the 2 x K table of reference and current counts, as
 * scipy.stats.chi2_contingency(correction=False). A category seen in only one of the two rows is
 * kept (its expected counts are positive); a category with no count in either row is dropped,
 * because its expected count would be 0. Fewer than two categories left means dof 0 and,
 * as in scipy, statistic 0 and p-value 1.
 */
export function chiSquareHomogeneity(reference: Record<string, number>, current: Record<string, number>): ChiSquareResult {
  checkCounts(reference, "reference");
  checkCounts(current, "current");
  const keys = [...new Set([...Object.keys(reference), ...Object.keys(current)])].filter(
    (k) => (reference[k] ?? 0) + (current[k] ?? 0) > 0,
  );
  const rows = [keys.map((k) => reference[k] ?? 0), keys.map((k) => current[k] ?? 0)];
  const rowTotals = rows.map((r) => r.reduce((s, v) => s + v, 0));
  if (rowTotals[0] === 0) throw new RangeError("reference counts are all zero");
  if (rowTotals[1] === 0) throw new RangeError("current counts are all zero");
  const dof = keys.length - 1;
  if (dof === 0) return { statistic: 0, pValue: 1, dof };
  const total = rowTotals[0]! + rowTotals[1]!;
  let statistic = 0;
  keys.forEach((_, k) => {
    const columnTotal = rows[0]![k]! + rows[1]![k]!;
    for (let r = 0; r < 2; r++) {
      const expected = (rowTotals[r]! * columnTotal) / total;
      statistic += (rows[r]![k]! - expected) ** 2 / expected;
    }
  });
  return { statistic, pValue: chiSquareSurvival(statistic, dof), dof };
}

function psiFromProportions(reference: number[], current: number[], epsilon: number): PsiResult {
  const r = reference.map((p) => (p === 0 ? epsilon : p));
  const c = current.map((p) => (p === 0 ? epsilon : p));
  let statistic = 0;
  for (let i = 0; i < r.length; i++) statistic += (c[i]! - r[i]!) * Math.log(c[i]! / r[i]!);
  return { statistic, referenceProportions: r, currentProportions: c };
}

function epsilonOf(options: PsiOptions | undefined): number {
  const epsilon = options?.epsilon ?? PSI_EMPTY_BIN_EPSILON;
  if (!(epsilon > 0 && epsilon < 1)) throw new RangeError(`epsilon must be in (0, 1), got ${epsilon}`);
  return epsilon;
}

/**
 * Population Stability Index Σ (c_i - r_i) ln(c_i / r_i) of the current values over the bins of
 * the reference histogram stored in reference.json (interior decile edges and their counts), with
 * values binned by the same histogramBin the trainer used, so both sides count alike.
 */
export function psi(reference: Histogram, current: readonly number[], options?: PsiOptions): PsiResult {
  const epsilon = epsilonOf(options);
  if (reference.counts.length !== reference.edges.length + 1)
    throw new RangeError(`reference histogram has ${reference.edges.length} edges but ${reference.counts.length} counts`);
  const referenceTotal = reference.counts.reduce((s, v) => s + v, 0);
  if (referenceTotal === 0) throw new RangeError("reference histogram is empty");
  const values = withoutNaN(current, "current");
  const counts = new Array<number>(reference.counts.length).fill(0);
  for (const v of values) counts[histogramBin(reference.edges, v)]!++;
  return psiFromProportions(
    reference.counts.map((c) => c / referenceTotal),
    counts.map((c) => c / values.length),
    epsilon,
  );
}

/**
 * PSI between categorical distributions: reference counts or frequencies (normalised here, so
 * either works) against current counts, over the union of categories.
 */
export function psiCategorical(reference: Record<string, number>, current: Record<string, number>, options?: PsiOptions): PsiResult {
  const epsilon = epsilonOf(options);
  checkCounts(reference, "reference");
  checkCounts(current, "current");
  const keys = [...new Set([...Object.keys(reference), ...Object.keys(current)])];
  const referenceTotal = keys.reduce((s, k) => s + (reference[k] ?? 0), 0);
  const currentTotal = keys.reduce((s, k) => s + (current[k] ?? 0), 0);
  if (referenceTotal === 0) throw new RangeError("reference counts are all zero");
  if (currentTotal === 0) throw new RangeError("current counts are all zero");
  return psiFromProportions(
    keys.map((k) => (reference[k] ?? 0) / referenceTotal),
    keys.map((k) => (current[k] ?? 0) / currentTotal),
    epsilon,
  );
}

/**
 * Benjamini–Hochberg step-up adjustment (false discovery rate), in the input's order:
 * adjusted p_(i) = min over j >= i of m p_(j) / j, capped at 1, as
 * scipy.stats.false_discovery_control(method="bh").
 */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  pValues.forEach((p, i) => {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`p-value ${i} must be in [0, 1], got ${p}`);
  });
  const m = pValues.length;
  const order = pValues.map((_, i) => i).sort((a, b) => pValues[a]! - pValues[b]!);
  const adjusted = new Array<number>(m);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const index = order[rank - 1]!;
    running = Math.min(running, (pValues[index]! * m) / rank);
    adjusted[index] = running;
  }
  return adjusted;
}
