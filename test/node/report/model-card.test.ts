import { describe, expect, it } from "vitest";
import type { FeatureSpec } from "../../../worker/contract/manifest";
import { evaluate } from "../../../trainer/metrics/evaluate";
import { renderModelCard, type ModelCardInput } from "../../../trainer/report/model-card";
import { tiedDataset } from "../metrics/fixtures/lcg-datasets";

const FEATURES: FeatureSpec[] = [
  { name: "tenure", kind: "numeric", integer: false, nullable: false, min: 0, description: "Months as customer", stats: { min: 1, max: 72, mean: 32.4, median: 29 } },
  { name: "num_products", kind: "numeric", integer: true, nullable: false, min: 1, max: 10, stats: { min: 1, max: 6, mean: 2.1, median: 2 } },
  { name: "total_charges", kind: "numeric", integer: false, nullable: true, min: 0, stats: { min: 18.8, max: 8684.8, mean: 2283.3, median: 1397.5 } },
  { name: "contract_type", kind: "categorical", categories: ["Month-to-month", "One year", "Two year"], closed: true, nullable: false },
  { name: "payment_method", kind: "categorical", categories: ["Bank transfer", "Electronic check"], closed: false, nullable: false },
];

function cardInput(): ModelCardInput {
  const { y, p } = tiedDataset();
  return {
    name: "churn-classifier",
    description: "Probability that a customer cancels within the next billing period.",
    version: 3,
    runId: "run-20260101-abc",
    output: { label: "churn", target_column: "churned", classes: ["0", "1"] },
    model: { family: "random_forest", params: { n_estimators: 200, max_depth: 8 } },
    evaluation: evaluate(y, p, {
      threshold: 0.5,
      riskTiers: [
        { name: "HIGH", min: 0.75 },
        { name: "MEDIUM", min: 0.45 },
        { name: "LOW", min: 0 },
      ],
    }),
    data: {
      sha256: "a".repeat(64),
      rows: 3000,
      train_rows: 2400,
      validation_rows: 600,
      synthetic: true,
      report: {
        rows_read: 3000,
        rows_kept: 3000,
        dropped: { duplicates: 0, missing: 0 },
        duplicates: { count: 0, action: "keep" },
        target: { column: "churned", negative: "0", positive: "1", counts: { "0": 2010, "1": 990 } },
        columns: { total_charges: { blank: { count: 11 }, na_values: { count: 4, values: ["NA", "null"] } }, num_products: { blank: { count: 0 }, out_of_range: { count: 2 } } },
        warnings: ["total_charges: 11 blank cells imputed with the median"],
      },
    },
    features: FEATURES,
    gate: { min_roc_auc: 0.75, max_brier: 0.1 },
    createdAt: "2026-01-02T03:04:05.000Z",
    trainerVersion: "0.1.0",
    gitCommit: "0123456789abcdef0123456789abcdef01234567",
    seed: 42,
  };
}

/** A small well-formedness check: one root <svg>, every tag closed in order, attributes quoted. */
function assertWellFormedSvg(svg: string): void {
  expect(svg.startsWith("<svg ")).toBe(true);
  expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
  const stack: string[] = [];
  let roots = 0;
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, closing, name, , selfClosing] = m;
    if (closing) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    }
  }
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
  // Every '<' starts a tag the pattern understood; a stray one would mean broken markup.
  const tags = svg.match(/<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)!.length;
  expect((svg.match(/</g) ?? []).length).toBe(tags);
}

describe("renderModelCard", () => {
  const input = cardInput();
  const card = renderModelCard(input);
  const e = input.evaluation;

  it("has the model card's sections in order", () => {
    const headings = card.markdown.split("\n").filter((l) => /^#{1,2} /.test(l));
    expect(headings).toEqual([
      "# Model card: churn-classifier v3",
      "## Model details",
      "## Intended use",
      "## Performance",
      "## Training data",
      "## Features",
      "## Limitations",
      "## Last updated",
    ]);
  });

  it("puts the metric values, gate results and confusion matrix in tables", () => {
    expect(card.markdown).toContain(`| ROC AUC | ${e.roc_auc.toFixed(4)} | >= 0.75: pass |`);
    expect(card.markdown).toContain(`| Brier score | ${e.brier.toFixed(4)} | <= 0.1: FAIL |`);
    expect(card.markdown).toContain(`| Average precision (PR AUC) | ${e.average_precision.toFixed(4)} |  |`);
    expect(card.markdown).toContain(`| Log loss | ${e.log_loss.toFixed(4)} |  |`);
    expect(card.markdown).toContain("| Actual positive | 148 (TP) | 50 (FN) |");
    expect(card.markdown).toContain("| Actual negative | 124 (FP) | 278 (TN) |");
    const high = e.risk_tiers[0]!;
    expect(card.markdown).toContain(`| HIGH | >= 0.75 | ${high.count} |`);
    expect(card.markdown).toContain("| MEDIUM | [0.45, 0.75) |");
    expect(card.markdown).toContain(`| (0.00, 0.10] | ${e.calibration.bins[0]!.count} |`);
  });

  it("describes the data, features and derived limitations", () => {
    expect(card.markdown).toContain("2400 training, 600 validation");
    expect(card.markdown).toContain('`total_charges`: 11 blank, 4 marked missing ("NA", "null")');
    expect(card.markdown).toContain("| `contract_type` | categorical | closed: one of Month-to-month, One year, Two year |");
    expect(card.markdown).toContain("| `num_products` | numeric | integer; 1 to 10 | 1 to 6 (mean 2.1, median 2) |");
    expect(card.markdown).toContain("Not validated for `tenure` < 1 (the smallest training value); the API accepts values down to 0");
    expect(card.markdown).toContain("Not validated for `num_products` > 6");
    expect(card.markdown).toContain("`payment_method` is open");
    expect(card.markdown).toContain("2 training rows had `num_products` values the serving constraints would reject");
    expect(card.markdown).toContain("synthetic data");
    expect(card.markdown).toContain("2026-01-02 (run `run-20260101-abc`, trainer 0.1.0, commit `0123456789ab`)");
  });

  it("references two well-formed SVG plots with their curves and diagonals", () => {
    expect(Object.keys(card.files).sort()).toEqual(["calibration.svg", "roc.svg"]);
    expect(card.markdown).toContain("![ROC curve](roc.svg)");
    expect(card.markdown).toContain("![Reliability diagram](calibration.svg)");
    for (const svg of Object.values(card.files)) {
      assertWellFormedSvg(svg);
      expect(svg).toMatch(/<path class="curve" d="M[\d. L]+"/);
      expect(svg).toContain('<path class="diagonal" d="M58 368 L404 40"');
    }
    const roc = card.files["roc.svg"]!;
    expect(roc).toContain(`<title>ROC curve (AUC = ${e.roc_auc.toFixed(3)})</title>`);
    const rocPath = roc.match(/<path class="curve" d="([^"]+)"/)![1]!;
    expect(rocPath.startsWith("M58 368")).toBe(true); // (0, 0)
    expect(rocPath.endsWith("L404 40")).toBe(true); // (1, 1)
    const markers = card.files["calibration.svg"]!.match(/class="curve-point"/g) ?? [];
    expect(markers).toHaveLength(e.calibration.bins.length);
  });

  it("is deterministic", () => {
    expect(renderModelCard(cardInput())).toEqual(card);
  });
});

describe("renderModelCard with the explainer's global importance", () => {
  const meanAbs = { tenure: 0.04, num_products: 0, total_charges: 0.01, contract_type: 0.08, payment_method: 0.02 };
  const input = { ...cardInput(), importance: { space: "probability" as const, backgroundRows: 100, validationRows: 600, rows: 500, meanAbs } };
  const card = renderModelCard(input);

  it("adds the section after the features, saying the space and how the rows were drawn", () => {
    const headings = card.markdown.split("\n").filter((l) => /^## /.test(l));
    expect(headings.slice(4, 7)).toEqual(["## Features", "## Global feature importance", "## Limitations"]);
    expect(card.markdown).toContain("against the explainer's 100 background rows, in probability space: base value + Σ contributions = the predicted probability");
    expect(card.markdown).toContain("Over 500 of the 600 validation rows, drawn with seed 42");
    expect(card.markdown).toContain("![Global feature importance](importance.svg)");
  });

  it("tables the numbers largest first, with each one's share of the total (0.15)", () => {
    const table = card.markdown.split("## Global feature importance")[1]!.split("\n## ")[0]!;
    const rows = table.split("\n").filter((l) => l.startsWith("| `"));
    expect(rows).toEqual([
      "| `contract_type` | 0.08 | 53.3% |",
      "| `tenure` | 0.04 | 26.7% |",
      "| `payment_method` | 0.02 | 13.3% |",
      "| `total_charges` | 0.01 | 6.7% |",
      "| `num_products` | 0 | 0.0% |",
    ]);
    expect(table).toContain("| Feature | Mean \\|contribution\\| | Share of the total |");
  });

  it("draws one bar per feature, the longest 340 px wide and the others in proportion", () => {
    const svg = card.files["importance.svg"]!;
    assertWellFormedSvg(svg);
    const widths = [...svg.matchAll(/<rect class="importance" x="150" y="([\d.]+)" width="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(widths).toEqual([
      [44, 340],
      [70, 170],
      [96, 85],
      [122, 42.5],
      [148, 0],
    ]);
    expect(svg).toContain("Mean |contribution| (probability), 500 validation rows");
  });

  it("leaves the section and the plot out without an explainer, and says log-odds for one in that space", () => {
    expect(renderModelCard(cardInput()).markdown).not.toContain("importance");
    const logOdds = renderModelCard({ ...input, importance: { ...input.importance, space: "log_odds", rows: 600 } });
    expect(logOdds.markdown).toContain("in log-odds space: base value + Σ contributions = logit of the predicted probability. Over all 600 validation rows.");
  });
});
