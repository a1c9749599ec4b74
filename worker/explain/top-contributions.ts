/** Reason codes: a row's contributions named and ordered by |contribution|, the largest first. */
import type { Explanation } from "../contract/explainer";

export interface NamedContribution {
  feature: string;
  /** Index of the feature in manifest order. */
  index: number;
  contribution: number;
}

/**
 * The k contributions largest in magnitude (all of them when k is omitted or exceeds the count);
 * equal magnitudes keep manifest order, so the answer is deterministic.
 */
export function topContributions(features: readonly string[], explanation: Explanation, k?: number): NamedContribution[] {
  if (features.length !== explanation.contributions.length)
    throw new RangeError(`${explanation.contributions.length} contributions for ${features.length} features`);
  if (k !== undefined && (!Number.isInteger(k) || k < 0)) throw new RangeError(`k must be a whole number >= 0, got ${k}`);
  const named = explanation.contributions.map((contribution, index) => ({ feature: features[index]!, index, contribution }));
  named.sort((p, q) => Math.abs(q.contribution) - Math.abs(p.contribution) || p.index - q.index);
  return k === undefined ? named : named.slice(0, k);
}
