/**
 * The model card: a markdown page after "Model Cards for Model Reporting" (Mitchell et al., 2019):
 * details, intended use, performance, training data, features, global feature importance (with an
 * explainer), limitations, last updated, plus SVG plots referenced by relative path. Pure and deterministic: the same run gives byte-identical files.
 */
import type { FeatureSpec } from "../../worker/contract/manifest";
import type { Evaluation } from "../metrics/evaluate";
import { deriveLimitations, type CardDataReport } from "./card-limitations";
import { horizontalBarPlot, significant, unitSquarePlot } from "./svg-plot";

export type { CardDataReport } from "./card-limitations";

export interface ModelCardInput {
  name: string;
  description?: string;
  /** Registry version, when known at render time; the run id always is. */
  version?: string | number;
  runId: string;
  /** What the model predicts: the target column, its [negative, positive] classes and the response label. */
  output: { label: string; target_column: string; classes: readonly [string, string] };
  model: { family: string; params: Record<string, unknown> };
  /** Where the model was fitted, when not by this trainer: "imported from XGBoost 1.7.4, binary:logistic, 300 trees". */
  provenance?: string;
  /** Validation results; the threshold and risk tiers shown are the ones it was computed with. */
  evaluation: Evaluation;
  /** summariseFolds() output, when cross-validation ran. */
  crossValidation?: Record<string, { mean: number; std: number }>;
  data: { sha256: string; rows: number; train_rows: number; validation_rows: number; report?: CardDataReport; synthetic?: boolean };
  features: readonly FeatureSpec[];
  gate?: { min_roc_auc?: number; max_log_loss?: number; max_brier?: number };
  intendedUse?: string;
  createdAt: string;
  trainerVersion: string;
  gitCommit: string | null;
  seed?: number;
  /** The manifest's explainer importance, when the run wrote an explainer. */
  importance?: CardImportance;
}

export interface CardImportance {
  space: "probability" | "log_odds";
  /** Background rows the contributions are taken against. */
  backgroundRows: number;
  /** Rows in the validation split, and how many of them were explained. */
  validationRows: number;
  rows: number;
  /** Mean |contribution| per feature name. */
  meanAbs: Record<string, number>;
}

export interface ModelCard {
  markdown: string;
  /** File name (relative to the markdown) to SVG text. */
  files: Record<string, string>;
}

export const ROC_SVG = "roc.svg";
export const CALIBRATION_SVG = "calibration.svg";
export const IMPORTANCE_SVG = "importance.svg";

const FAMILY_NAMES: Record<string, string> = {
  random_forest: "Random forest",
  gradient_boosting: "Gradient-boosted trees",
  logistic_regression: "Logistic regression",
};

const f4 = (n: number) => n.toFixed(4);
const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
const row = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [row(header), row(header.map(() => "---")), ...rows.map(row)];
}

export function renderModelCard(input: ModelCardInput): ModelCard {
  const e = input.evaluation;
  const title = input.version === undefined ? input.name : `${input.name} v${input.version}`;
  const sections = [
    [`# Model card: ${title}`, ...(input.description ? ["", input.description] : [])],
    modelDetails(input),
    intendedUse(input),
    performance(input),
    trainingData(input),
    features(input.features),
    ...(input.importance ? [importanceSection(input.importance, input.seed)] : []),
    ["## Limitations", "", ...deriveLimitations({ ...input, report: input.data.report, synthetic: input.data.synthetic }).map((l) => `- ${l}`)],
    ["## Last updated", "", `${input.createdAt.slice(0, 10)} (run \`${input.runId}\`, trainer ${input.trainerVersion}${input.gitCommit ? `, commit \`${input.gitCommit.slice(0, 12)}\`` : ""})`],
  ];
  const markdown = `${sections.map((s) => s.join("\n")).join("\n\n")}\n`;
  return {
    markdown,
    files: {
      [ROC_SVG]: unitSquarePlot({
        title: `ROC curve (AUC = ${e.roc_auc.toFixed(3)})`,
        xLabel: "False positive rate",
        yLabel: "True positive rate",
        series: [
          { label: "Model", className: "curve", color: "#1f5fbf", points: e.curves.roc.fpr.map((x, i) => [x, e.curves.roc.tpr[i]!] as const) },
          { label: "Chance", className: "diagonal", color: "#999", dashed: true, points: [[0, 0], [1, 1]] },
        ],
      }),
      [CALIBRATION_SVG]: unitSquarePlot({
        title: `Reliability diagram (ECE = ${e.calibration.ece.toFixed(3)})`,
        xLabel: "Mean predicted probability",
        yLabel: "Observed positive rate",
        series: [
          { label: "Model", className: "curve", color: "#c0392b", markers: true, points: e.calibration.bins.map((b) => [b.mean_predicted, b.observed_rate] as const) },
          { label: "Perfectly calibrated", className: "diagonal", color: "#999", dashed: true, points: [[0, 0], [1, 1]] },
        ],
      }),
      ...(input.importance && { [IMPORTANCE_SVG]: importancePlot(input.importance) }),
    },
  };
}

const SPACE_TEXT = {
  probability: "probability space: base value + Σ contributions = the predicted probability",
  log_odds: "log-odds space: base value + Σ contributions = logit of the predicted probability",
} as const;

/** Features by mean |contribution|, largest first; equal ones in manifest order. */
function ranked(importance: CardImportance): [string, number][] {
  return Object.entries(importance.meanAbs).sort((a, b) => b[1] - a[1]);
}

function importanceSection(importance: CardImportance, seed: number | undefined): string[] {
  const rows = ranked(importance);
  const total = rows.reduce((s, [, v]) => s + v, 0);
  const drawn =
    importance.rows < importance.validationRows
      ? `${importance.rows} of the ${importance.validationRows} validation rows, drawn${seed === undefined ? "" : ` with seed ${seed}`} (a sample bounds the cost: explaining a row of a large forest takes milliseconds)`
      : `all ${importance.rows} validation rows`;
  return [
    "## Global feature importance",
    "",
    `Mean |contribution| per feature: exact interventional SHAP values against the explainer's ${importance.backgroundRows} background rows, in ${SPACE_TEXT[importance.space]}. Over ${drawn}. This is the reference the monitoring cron compares each window's sampled rows with (attribution drift).`,
    "",
    `![Global feature importance](${IMPORTANCE_SVG})`,
    "",
    ...table(
      ["Feature", "Mean |contribution|", "Share of the total"],
      rows.map(([name, v]) => [`\`${name}\``, significant(v), total > 0 ? pct(v / total) : "-"]),
    ),
  ];
}

function importancePlot(importance: CardImportance): string {
  return horizontalBarPlot({
    title: "Global feature importance",
    xLabel: `Mean |contribution| (${importance.space === "probability" ? "probability" : "log-odds"}), ${importance.rows} validation rows`,
    bars: ranked(importance).map(([label, value]) => ({ label, value })),
    color: "#1f5fbf",
    className: "importance",
  });
}

function modelDetails(input: ModelCardInput): string[] {
  const { output, model } = input;
  const params = Object.keys(model.params)
    .sort()
    .map((k) => `${k}=${JSON.stringify(model.params[k])}`)
    .join(", ");
  return [
    "## Model details",
    "",
    `- **Type**: ${FAMILY_NAMES[model.family] ?? model.family} (${input.provenance ?? "trained in TypeScript"}, served as ONNX)`,
    `- **Parameters**: ${params ? `\`${params}\`` : "defaults"}`,
    `- **Task**: binary classification of \`${output.target_column}\`: "${output.classes[1]}" (positive) vs "${output.classes[0]}"`,
    `- **Outputs**: \`${output.label}_probability\`, \`${output.label}_prediction\` (probability >= ${input.evaluation.at_threshold.threshold}), risk tier`,
    `- **Run**: \`${input.runId}\`${input.version === undefined ? "" : `, version ${input.version}`}${input.seed === undefined ? "" : `, seed ${input.seed}`}`,
    `- **Trainer**: ${input.trainerVersion}, commit ${input.gitCommit ? `\`${input.gitCommit}\`` : "unknown"}`,
  ];
}

function intendedUse(input: ModelCardInput): string[] {
  const text =
    input.intendedUse ??
    `Rank and triage cases by the probability of "${input.output.classes[1]}" for \`${input.output.target_column}\`, and act on the risk tiers below. Not for decisions about individuals without human review, and not for populations unlike the training data.`;
  return ["## Intended use", "", text];
}

function gateCell(value: number, bound: number | undefined, direction: ">=" | "<="): string {
  if (bound === undefined) return "";
  const pass = direction === ">=" ? value >= bound : value <= bound;
  return `${direction} ${bound}: ${pass ? "pass" : "FAIL"}`;
}

function performance(input: ModelCardInput): string[] {
  const e = input.evaluation;
  const gate = input.gate ?? {};
  const t = e.at_threshold;
  const out = [
    "## Performance",
    "",
    `Validation split: ${e.n} rows, ${e.positives} positive (${pct(e.prevalence)}).`,
    "",
    ...table(
      ["Metric", "Value", "Gate"],
      [
        ["ROC AUC", f4(e.roc_auc), gateCell(e.roc_auc, gate.min_roc_auc, ">=")],
        ["Average precision (PR AUC)", f4(e.average_precision), ""],
        ["Log loss", f4(e.log_loss), gateCell(e.log_loss, gate.max_log_loss, "<=")],
        ["Brier score", f4(e.brier), gateCell(e.brier, gate.max_brier, "<=")],
        ["Expected calibration error", f4(e.calibration.ece), ""],
      ],
    ),
    "",
    `![ROC curve](${ROC_SVG})`,
  ];
  if (input.crossValidation) {
    const cv = Object.entries(input.crossValidation).map(([k, v]) => [k, `${f4(v.mean)} ± ${f4(v.std)}`]);
    out.push("", "### Cross-validation", "", ...table(["Metric", "Mean ± std"], cv));
  }
  const c = t.confusion;
  out.push(
    "",
    `### At threshold ${t.threshold}`,
    "",
    ...table(["Precision", "Recall", "F1", "Accuracy"], [[f4(t.precision), f4(t.recall), f4(t.f1), f4(t.accuracy)]]),
    "",
    ...table(
      ["", "Predicted positive", "Predicted negative"],
      [
        ["Actual positive", `${c.tp} (TP)`, `${c.fn} (FN)`],
        ["Actual negative", `${c.fp} (FP)`, `${c.tn} (TN)`],
      ],
    ),
    "",
    "### Risk tiers",
    "",
    ...table(
      ["Tier", "Probability", "Rows", "Share", "Observed rate", "Mean predicted"],
      e.risk_tiers.map((r) => [
        r.name,
        r.max === null ? `>= ${r.min}` : `[${r.min}, ${r.max})`,
        String(r.count),
        pct(r.share),
        r.observed_rate === null ? "-" : pct(r.observed_rate),
        r.mean_predicted === null ? "-" : pct(r.mean_predicted),
      ]),
    ),
    "",
    "### Calibration",
    "",
    `![Reliability diagram](${CALIBRATION_SVG})`,
    "",
    ...table(
      ["Bin", "Rows", "Mean predicted", "Observed rate"],
      e.calibration.bins.map((b) => [`(${b.lower.toFixed(2)}, ${b.upper.toFixed(2)}]`, String(b.count), f4(b.mean_predicted), f4(b.observed_rate)]),
    ),
    "",
    `Expected calibration error ${f4(e.calibration.ece)}, maximum ${f4(e.calibration.mce)} (${e.calibration.n_bins} uniform bins).`,
  );
  return out;
}

function trainingData(input: ModelCardInput): string[] {
  const { data } = input;
  const out = [
    "## Training data",
    "",
    `- **Fingerprint**: sha256 \`${data.sha256}\``,
    `- **Rows**: ${data.rows} in the file; ${data.train_rows} training, ${data.validation_rows} validation`,
  ];
  if (data.synthetic) out.push("- **Source**: synthetic (generated), not real customers");
  const r = data.report;
  if (r) {
    const counts = Object.entries(r.target.counts).map(([k, v]) => `"${k}": ${v}`).join(", ");
    out.push(
      `- **Loaded**: ${r.rows_read} rows read, ${r.rows_kept} kept (dropped ${r.dropped.duplicates} duplicates, ${r.dropped.missing} with missing values); ${r.duplicates.count} duplicate rows found (${r.duplicates.action})`,
      `- **Target** \`${r.target.column}\`: ${counts}`,
    );
    const issues = Object.entries(r.columns).flatMap(([name, col]) => {
      const parts = [
        col.blank.count ? `${col.blank.count} blank` : "",
        col.na_values?.count ? `${col.na_values.count} marked missing (${col.na_values.values.map((v) => JSON.stringify(v)).join(", ")})` : "",
        col.non_numeric?.count ? `${col.non_numeric.count} non-numeric` : "",
        col.out_of_range?.count ? `${col.out_of_range.count} out of range` : "",
        col.undeclared?.count ? `${col.undeclared.count} undeclared` : "",
      ].filter(Boolean);
      return parts.length ? [`  - \`${name}\`: ${parts.join(", ")}`] : [];
    });
    if (issues.length) out.push("- **Cell issues**:", ...issues);
    if (r.warnings.length) out.push("- **Warnings**:", ...r.warnings.map((w) => `  - ${w}`));
  }
  return out;
}

function constraints(f: FeatureSpec): string {
  const parts: string[] = [];
  if (f.kind === "numeric") {
    if (f.integer) parts.push("integer");
    if (f.min !== undefined && f.max !== undefined) parts.push(`${f.min} to ${f.max}`);
    else if (f.min !== undefined) parts.push(`>= ${f.min}`);
    else if (f.max !== undefined) parts.push(`<= ${f.max}`);
  } else {
    parts.push(f.closed ? `closed: one of ${(f.allowed ?? f.categories).join(", ")}` : "open: unseen values scored and counted");
  }
  if (f.nullable) parts.push("nullable");
  return parts.join("; ") || "none";
}

function training(f: FeatureSpec): string {
  if (f.kind === "categorical") return f.categories.join(", ");
  if (!f.stats) return "";
  const s = f.stats;
  return `${s.min} to ${s.max} (mean ${Number(s.mean.toFixed(4))}, median ${s.median})`;
}

function features(specs: readonly FeatureSpec[]): string[] {
  return [
    "## Features",
    "",
    ...table(
      ["Feature", "Type", "Serving constraints", "Training values", "Description"],
      specs.map((f) => [`\`${f.name}\``, f.kind, constraints(f), training(f), f.description ?? ""]),
    ),
  ];
}
