/**
 * What an explanation adds up to, as a probability: base + Σ contributions in probability space
 * (forests), or the sigmoid of that sum in log-odds space (boosting, logistic regression). The
 * publish path and the tests compare it with the graph's probability.
 */
import type { Explanation, ExplanationSpace } from "../contract/explainer";

export function explainedProbability(space: ExplanationSpace, explanation: Explanation): number {
  const total = explanation.contributions.reduce((s, c) => s + c, explanation.base_value);
  if (space === "probability") return total;
  // Two branches so exp never overflows.
  if (total >= 0) return 1 / (1 + Math.exp(-total));
  const e = Math.exp(total);
  return e / (1 + e);
}
