/**
 * Limitations a model card can state from facts the run already has: where serving accepts inputs
 * the training data never showed, how open categories behave, what the data report flagged, and
 * how far the validation numbers can be trusted.
 */
import type { FeatureSpec } from "../../worker/contract/manifest";
import type { EvaluationSummary } from "../metrics/evaluate";

/** The parts of trainer/data's DataReport a card reads; a DataReport fits it as is. */
export interface CardDataReport {
  rows_read: number;
  rows_kept: number;
  dropped: { duplicates: number; missing: number };
  duplicates: { count: number; action: "keep" | "drop" };
  target: { column: string; negative: string; positive: string; counts: Record<string, number> };
  columns: Record<
    string,
    {
      blank: { count: number };
      na_values?: { count: number; values: string[] };
      non_numeric?: { count: number };
      out_of_range?: { count: number };
      undeclared?: { count: number };
    }
  >;
  warnings: string[];
}

export interface LimitationFacts {
  features: readonly FeatureSpec[];
  evaluation: EvaluationSummary;
  report?: CardDataReport;
  synthetic?: boolean;
}

const SMALL_TIER = 30;
const POOR_ECE = 0.05;

const num = (n: number) => String(Math.round(n * 1e4) / 1e4);

export function deriveLimitations(facts: LimitationFacts): string[] {
  const out: string[] = [];
  for (const f of facts.features) {
    if (f.kind === "numeric" && f.stats) {
      const { min, max } = f.stats;
      if (f.min === undefined || f.min < min)
        out.push(
          `Not validated for \`${f.name}\` < ${num(min)} (the smallest training value); the API accepts ${f.min === undefined ? "any lower value" : `values down to ${num(f.min)}`}, and scores there are extrapolation.`,
        );
      if (f.max === undefined || f.max > max)
        out.push(
          `Not validated for \`${f.name}\` > ${num(max)} (the largest training value); the API accepts ${f.max === undefined ? "any higher value" : `values up to ${num(f.max)}`}.`,
        );
    }
    if (f.kind === "numeric" && f.nullable)
      out.push(`A missing \`${f.name}\` is imputed inside the model; those scores are less informed than for complete rows.`);
    if (f.kind === "categorical" && !f.closed)
      out.push(
        `\`${f.name}\` is open: a value outside the ${f.categories.length} training categories is scored as if the feature were absent (all one-hot columns 0) and counted as unseen by monitoring.`,
      );
  }
  const report = facts.report;
  if (report) {
    for (const [name, column] of Object.entries(report.columns)) {
      if (column.out_of_range?.count)
        out.push(`${column.out_of_range.count} training rows had \`${name}\` values the serving constraints would reject.`);
      if (column.undeclared?.count)
        out.push(`${column.undeclared.count} training rows had \`${name}\` values outside the declared categories.`);
    }
    if (report.duplicates.count > 0 && report.duplicates.action === "keep")
      out.push(`${report.duplicates.count} duplicate rows were kept; they may appear in both the training and validation splits and flatter the validation metrics.`);
  }
  const { evaluation } = facts;
  if (evaluation.calibration.ece > POOR_ECE)
    out.push(`Probabilities are off by ${num(evaluation.calibration.ece)} on average (expected calibration error); read them as scores rather than exact rates.`);
  for (const tier of evaluation.risk_tiers)
    if (tier.count < SMALL_TIER)
      out.push(`The ${tier.name} tier's observed rate rests on ${tier.count} validation rows and is not a reliable estimate.`);
  if (facts.synthetic)
    out.push("Trained and validated on synthetic data: the metrics describe the generator, not real customers.");
  out.push("Assumes the live feature distributions match training; drift monitoring compares traffic against the validation reference.");
  return out;
}
