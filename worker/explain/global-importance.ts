/**
 * Global importance: the mean |contribution| of each feature over a set of explained rows, in the
 * explainer's space. The trainer computes it over validation rows for the model card and the
 * manifest (the reference); the cron computes it over a window's sampled rows (attribution drift).
 */
import type { Explanation } from "../contract/explainer";

/** Mean |contribution| per feature, in the explanations' feature order; at least one explanation. */
export function meanAbsContributions(explanations: readonly Explanation[]): number[] {
  const first = explanations[0];
  if (!first) throw new RangeError("mean |contribution| needs at least one explained row");
  const sums = new Float64Array(first.contributions.length);
  for (const [r, e] of explanations.entries()) {
    if (e.contributions.length !== sums.length) throw new RangeError(`row ${r} has ${e.contributions.length} contributions, row 0 has ${sums.length}`);
    e.contributions.forEach((c, f) => (sums[f]! += Math.abs(c)));
  }
  return Array.from(sums, (s) => s / explanations.length);
}
