/**
 * Rows and observed positive rate per risk tier, assigning tiers by the worker's own rule
 * (worker/contract/decision.ts: bounds compared at float32) so the table describes exactly what the
 * worker will answer.
 */
import { sortTiers, tierOf } from "../../worker/contract/decision";
import { checkScores } from "./inputs";

export interface RiskTierBound {
  name: string;
  min: number;
}

export interface RiskTierRow {
  name: string;
  /** Inclusive lower bound on p. */
  min: number;
  /** Exclusive upper bound (the next tier's min); null for the top tier, which reaches 1. */
  max: number | null;
  count: number;
  /** count / all rows. */
  share: number;
  positives: number;
  /** positives / count; null for a tier no row fell into. */
  observed_rate: number | null;
  mean_predicted: number | null;
}

export function riskTierTable(y: Uint8Array, p: Float64Array, tiers: readonly RiskTierBound[]): RiskTierRow[] {
  checkScores(y, p);
  if (tiers.length === 0) throw new RangeError("no risk tiers given");
  const ordered = sortTiers(tiers);
  const stats = new Map(ordered.map((t) => [t.name, { count: 0, positives: 0, sum: 0 }]));
  for (let i = 0; i < y.length; i++) {
    const s = stats.get(tierOf(ordered, p[i]!).name)!;
    s.count++;
    s.positives += y[i]!;
    s.sum += p[i]!;
  }
  return ordered.map((tier, k) => {
    const s = stats.get(tier.name)!;
    return {
      name: tier.name,
      min: tier.min,
      max: k === 0 ? null : ordered[k - 1]!.min,
      count: s.count,
      share: s.count / y.length,
      positives: s.positives,
      observed_rate: s.count === 0 ? null : s.positives / s.count,
      mean_predicted: s.count === 0 ? null : s.sum / s.count,
    };
  });
}
