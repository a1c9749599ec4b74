/**
 * The one decision rule for a model's output (manifest `output.threshold` and `output.risk_tiers`),
 * used by the edge when it answers and by the trainer when it writes the model card's threshold
 * metrics and tier table, so a row lands on the same side of every bound in both.
 *
 * The graph computes p in float32, so bounds are compared in float32 too: a probability reaches a
 * bound when `fround(p) >= fround(bound)`. Compared as doubles, `Math.fround(0.45) >= 0.45` is false,
 * and a row exactly at a bound would differ between the card (float64 p) and the edge.
 *
 * The displayed probability is rounded to 4 decimals, but never across a bound: when rounding would
 * show 0.5 for p = 0.49996 with threshold 0.5 (prediction false), it shows 0.4999 instead. If no
 * 4-decimal value sits on the decision's side of every bound (bounds closer than 1e-4), more
 * decimals are used.
 */
export interface TierBound {
  name: string;
  min: number;
}

export interface DecisionOutput {
  threshold: number;
  risk_tiers: readonly TierBound[];
}

export interface Decision {
  /** For display: 4 decimals, on the same side of every bound as p. */
  probability: number;
  prediction: boolean;
  risk_tier: string;
}

const DISPLAY_DECIMALS = 4;
const MAX_DECIMALS = 9;

/** Whether probability p is at or above the bound, both taken at float32 (the graph's precision). */
export function reaches(p: number, bound: number): boolean {
  return Math.fround(p) >= Math.fround(bound);
}

/** Tiers highest lower bound first, the order in which the first reached tier wins. */
export function sortTiers<T extends TierBound>(tiers: readonly T[]): T[] {
  return [...tiers].sort((a, b) => b.min - a.min);
}

/** The first tier (of tiers sorted by sortTiers) whose lower bound p reaches; else the lowest. */
export function tierOf<T extends TierBound>(sorted: readonly T[], p: number): T {
  for (const tier of sorted) if (reaches(p, tier.min)) return tier;
  return sorted[sorted.length - 1]!;
}

/** p rounded for display so that `shown >= bound` agrees with `reaches(p, bound)` for every bound. */
export function displayProbability(p: number, bounds: readonly number[]): number {
  const pf = Math.fround(p);
  const agrees = (shown: number) => bounds.every((b) => shown >= b === reaches(pf, b));
  for (let digits = DISPLAY_DECIMALS; digits <= MAX_DECIMALS; digits++) {
    const scale = 10 ** digits;
    const nearest = Math.round(pf * scale) / scale;
    if (agrees(nearest)) return nearest;
    const down = Math.floor(pf * scale) / scale;
    if (agrees(down)) return down;
    const up = Math.ceil(pf * scale) / scale;
    if (agrees(up)) return up;
  }
  // Only when p equals a bound at float32 but lies below it as a double, and that bound has more
  // than MAX_DECIMALS decimals: show the bound itself, which p reaches.
  const reachedAbove = bounds.filter((b) => reaches(pf, b) && pf < b);
  return reachedAbove.length ? Math.max(...reachedAbove) : pf;
}

/** The rule compiled once per model version: tiers sorted, bounds collected. */
export function decisionRule(output: DecisionOutput): (p: number) => Decision {
  const tiers = sortTiers(output.risk_tiers);
  const bounds = [output.threshold, ...tiers.map((t) => t.min)];
  return (p) => ({
    probability: displayProbability(p, bounds),
    prediction: reaches(p, output.threshold),
    risk_tier: tierOf(tiers, p).name,
  });
}
