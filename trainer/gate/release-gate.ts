/**
 * The release gate's decision, as a plain function: a candidate may trail production's ROC AUC on
 * the same rows by at most `auc_margin`, and must reach `min_roc_auc` when one is configured. With
 * no production version yet, only the minimum applies.
 */

export interface ReleaseGatePolicy {
  aucMargin: number;
  minRocAuc?: number;
}

export interface ReleaseGateCheck {
  rule: "production_minus_margin" | "min_roc_auc";
  /** The AUC the candidate must reach. */
  limit: number;
  value: number;
  passed: boolean;
}

export interface ReleaseGateDecision {
  passed: boolean;
  checks: ReleaseGateCheck[];
}

/**
 * AUCs are ratios of integer counts, and `production - margin` is rarely exact in binary floating
 * point: a candidate exactly at the limit must pass, so the comparison allows this much slack.
 */
const FLOAT_SLACK = 1e-12;

export function decideReleaseGate(candidateAuc: number, productionAuc: number | null, policy: ReleaseGatePolicy): ReleaseGateDecision {
  for (const [what, value] of [["candidate AUC", candidateAuc], ["production AUC", productionAuc ?? 0], ["auc_margin", policy.aucMargin]] as const)
    if (!Number.isFinite(value) || value < 0 || value > 1) throw new RangeError(`${what} ${value} is not in [0, 1]`);
  const checks: ReleaseGateCheck[] = [];
  const check = (rule: ReleaseGateCheck["rule"], limit: number) =>
    checks.push({ rule, limit, value: candidateAuc, passed: candidateAuc >= limit - FLOAT_SLACK });
  if (productionAuc !== null) check("production_minus_margin", productionAuc - policy.aucMargin);
  if (policy.minRocAuc !== undefined) check("min_roc_auc", policy.minRocAuc);
  return { passed: checks.every((c) => c.passed), checks };
}
