/**
 * Which features `npm run demo:drift` expects the report to flag. The generator's drift acts on
 * monthly_charges and contract_type, but the generator is causal: it draws tenure and the payment
 * method by contract type and total charges from tenure and monthly charges, so those marginals
 * move too, by less. "Shifted" is therefore measured, not assumed: a large population drawn by the
 * same generator in the same normal/drifted mix the demo sent is binned on the report's own
 * reference bins, and its PSI against the reference decides, allowing for the sampling error of
 * the report's PSI on its current_n rows (three standard errors by the delta method: the PSI's
 * gradient in the current shares is ln(c/r) + 1 - r/c, the shares multinomial):
 *   - shifted:    population PSI - 3 SE >= psi_threshold: must be flagged;
 *   - unchanged:  population PSI + 3 SE <  psi_threshold: must not be flagged;
 *   - borderline: otherwise: either verdict is right (named, never silently ignored).
 */
import { generateChurnRows, type DriftSpec } from "../../trainer/data/synthetic";
import { OTHER_CATEGORY } from "../../worker/contract/drift-reference";
import { psi, psiCategorical, type PsiResult } from "../../worker/monitoring/drift-stats";
import type { DriftReport } from "../../worker/monitoring/drift-report-types";

export type Expectation = "shifted" | "unchanged" | "borderline";

export interface FeatureExpectation {
  name: string;
  populationPsi: number;
  /** Standard error of the report's PSI for this population at the report's current_n. */
  standardError: number;
  expected: Expectation;
  flagged: boolean;
  /** The flag agrees with the expectation (always true for borderline). */
  ok: boolean;
}

export interface MixSpec {
  normalRows: number;
  driftedRows: number;
  drift: DriftSpec;
  /** Rows of the population per sent row (the population keeps the mix's proportions). */
  scale?: number;
}

export function expectFlags(report: DriftReport, mix: MixSpec): FeatureExpectation[] {
  const scale = mix.scale ?? Math.max(1, Math.ceil(100_000 / (mix.normalRows + mix.driftedRows)));
  const population = [
    ...generateChurnRows({ rows: mix.normalRows * scale, seed: "demo-population/normal" }),
    ...generateChurnRows({ rows: mix.driftedRows * scale, seed: "demo-population/drifted", drift: mix.drift }),
  ] as unknown as Record<string, unknown>[];
  const threshold = report.settings.psi_threshold;
  return report.features.map((f) => {
    let result: PsiResult;
    if (f.kind === "numeric") {
      const values = population.map((r) => Number(r[f.name])).filter(Number.isFinite);
      result = psi({ edges: f.bins.edges, counts: f.bins.reference_shares }, values);
    } else {
      const known = new Set(f.categories.map((c) => c.value));
      const counts: Record<string, number> = Object.fromEntries(f.categories.map((c) => [c.value, 0]));
      for (const row of population) {
        const value = String(row[f.name]);
        const bucket = known.has(value) && value !== OTHER_CATEGORY ? value : OTHER_CATEGORY;
        counts[bucket] = (counts[bucket] ?? 0) + 1;
      }
      result = psiCategorical(Object.fromEntries(f.categories.map((c) => [c.value, c.reference_share])), counts);
    }
    const populationPsi = result.statistic;
    const standardError = psiStandardError(result, Math.max(1, f.current_n));
    const expected: Expectation =
      populationPsi - 3 * standardError >= threshold ? "shifted" : populationPsi + 3 * standardError < threshold ? "unchanged" : "borderline";
    const flagged = f.status === "drift";
    return { name: f.name, populationPsi, standardError, expected, flagged, ok: expected === "borderline" || flagged === (expected === "shifted") };
  });
}

/** Delta method: Var(PSI) = (sum c g^2 - (sum c g)^2) / n with g = ln(c/r) + 1 - r/c. */
export function psiStandardError(result: PsiResult, n: number): number {
  const r = result.referenceProportions;
  const c = result.currentProportions;
  const g = c.map((ci, i) => Math.log(ci / r[i]!) + 1 - r[i]! / ci);
  const mean = c.reduce((s, ci, i) => s + ci * g[i]!, 0);
  const second = c.reduce((s, ci, i) => s + ci * g[i]! ** 2, 0);
  return Math.sqrt(Math.max(0, second - mean ** 2) / n);
}
