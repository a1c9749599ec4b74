/**
 * buildDriftReport on a hand-made reference and window small enough to compute by hand. Expected
 * p-values were checked with scipy 1.10: ks_2samp([1,2,3,4], [3,4,5,6]) = (0.5, 54/70);
 * chi2_contingency([[3,1,0],[1,2,1]], correction=False) = (7/3, exp(-7/6), dof 2);
 * chi2_contingency([[1,3],[2,2]], correction=False) = (8/15, 0.4652088184521417, dof 1).
 * Tolerance 1e-12 for closed forms, 1e-9 for p-values from the special functions.
 */
import { describe, expect, it } from "vitest";
import type { DriftReference } from "../../../worker/contract/drift-reference";
import { type Manifest, monitoringOf, type MonitoringSettings } from "../../../worker/contract/manifest";
import { buildDriftReport, type DriftReportInput } from "../../../worker/monitoring/drift-report";
import type { WindowSample } from "../../../worker/monitoring/drift-report-types";
import type { CategoricalFeatureDrift, NumericFeatureDrift } from "../../../worker/monitoring/drift-report-types";

const manifest: Pick<Manifest, "features" | "output"> = {
  features: [
    { name: "x", kind: "numeric", integer: false, nullable: true },
    { name: "c", kind: "categorical", categories: ["a", "b"], closed: false, nullable: false },
  ],
  output: { label: "churn", target_column: "y", classes: ["0", "1"], threshold: 0.5, risk_tiers: [{ name: "HIGH", min: 0.75 }, { name: "LOW", min: 0 }] },
};

const quantiles = (values: number[]) => values.map((value, i) => ({ q: i / (values.length - 1), value }));

const reference: DriftReference = {
  schema_version: 1,
  split: "validation",
  rows: 4,
  features: [
    { name: "x", kind: "numeric", count: 4, missing: 0, mean: 2.5, std: 1.118, min: 1, max: 4, quantiles: quantiles([1, 4]), histogram: { edges: [2], counts: [2, 2] } },
    {
      name: "c",
      kind: "categorical",
      count: 4,
      missing: 0,
      categories: [
        { value: "a", count: 3, frequency: 0.75 },
        { value: "b", count: 1, frequency: 0.25 },
        { value: "__other__", count: 0, frequency: 0 },
      ],
    },
  ],
  scores: { count: 4, mean: 0.5, std: 0.2236, min: 0.2, max: 0.8, quantiles: quantiles([0.2, 0.8]), histogram: { edges: [0.5], counts: [2, 2] } },
  sample: {
    rows: [
      { x: 1, c: "a" },
      { x: 2, c: "a" },
      { x: 3, c: "a" },
      { x: 4, c: "b" },
    ],
    scores: [0.2, 0.4, 0.6, 0.8],
  },
};

const window = { start: "2026-01-09T00:00:00.000Z", end: "2026-01-10T00:00:00.000Z" };

function sample(x: number | null, c: string | null, probability: number, arm = "production"): WindowSample {
  return { arm, features: { x, c }, probability, prediction: probability >= 0.5, riskTier: probability >= 0.75 ? "HIGH" : "LOW", sampleKey: probability };
}

const current = [sample(3, "a", 0.6), sample(4, "b", 0.7), sample(5, "b", 0.8, "canary"), sample(6, "z", 0.9)];

function report(overrides: Partial<MonitoringSettings> = {}, input: Partial<DriftReportInput> = {}) {
  const settings = { ...monitoringOf({}), min_samples: 1, alpha: 0.05, psi_threshold: 0.1, correction: "none" as const, ...overrides };
  return buildDriftReport({ model: "m", version: 3, manifest, settings, window, samples: current, reference: { ok: true, value: reference }, ...input });
}

describe("buildDriftReport: hand-computed window", () => {
  const r = report();
  const x = r.features[0] as NumericFeatureDrift;
  const c = r.features[1] as CategoricalFeatureDrift;

  it("numeric: KS against the reference sample, PSI over the reference bins, plot shares", () => {
    expect(x).toMatchObject({ name: "x", kind: "numeric", test: "ks", method: "exact", reference_n: 4, current_n: 4, current_missing: 0, status: "ok" });
    expect(x.statistic).toBe(0.5);
    expect(x.p_value!).toBeCloseTo(54 / 70, 12);
    // Bins (-inf, 2], (2, inf): reference 1/2, 1/2; current 0, 1 (PSI takes 1e-4 for the empty bin).
    const psi = (1e-4 - 0.5) * Math.log(1e-4 / 0.5) + (1 - 0.5) * Math.log(1 / 0.5);
    expect(x.psi!).toBeCloseTo(psi, 12);
    expect(x.bins).toEqual({ edges: [2], reference_shares: [0.5, 0.5], current_shares: [0, 1] });
    expect([x.reference_mean, x.current_mean, x.reference_range, x.current_range]).toEqual([2.5, 4.5, [1, 4], [3, 6]]);
    expect(x.p_value_adjusted).toBeUndefined();
  });

  it("categorical: a value outside the training categories is counted under __other__, absent from the reference", () => {
    expect(c).toMatchObject({ test: "chi2", dof: 2, reference_n: 4, current_n: 4, status: "ok" });
    expect(c.statistic!).toBeCloseTo(7 / 3, 12);
    expect(c.p_value!).toBeCloseTo(Math.exp(-7 / 6), 9);
    const psi = (0.25 - 0.75) * Math.log(0.25 / 0.75) + (0.5 - 0.25) * Math.log(0.5 / 0.25) + (0.25 - 1e-4) * Math.log(0.25 / 1e-4);
    expect(c.psi!).toBeCloseTo(psi, 12);
    expect(c.categories).toEqual([
      { value: "a", reference_share: 0.75, current_share: 0.25, reference_count: 3, current_count: 1 },
      { value: "b", reference_share: 0.25, current_share: 0.5, reference_count: 1, current_count: 2 },
      { value: "__other__", reference_share: 0, current_share: 0.25, reference_count: 0, current_count: 1 },
    ]);
    expect(c.unseen_values).toEqual([{ value: "z", count: 1 }]);
  });

  it("predictions: KS on the scores, positive rate, tier mix with chi-squared", () => {
    const p = r.predictions!;
    expect(p.ks).toEqual({ statistic: 0.5, p_value: expect.closeTo(54 / 70, 12), method: "exact" });
    expect(p.positive_rate).toEqual({ threshold: 0.5, reference: 0.5, current: 1 });
    expect(p.histogram).toEqual({ edges: [0.5], reference_shares: [0.5, 0.5], current_shares: [0, 1] });
    expect(p.risk_tiers.tiers).toEqual([
      { name: "HIGH", reference_share: 0.25, current_share: 0.5, reference_count: 1, current_count: 2 },
      { name: "LOW", reference_share: 0.75, current_share: 0.5, reference_count: 3, current_count: 2 },
    ]);
    expect(p.risk_tiers.statistic!).toBeCloseTo(8 / 15, 12);
    expect(p.risk_tiers.p_value!).toBeCloseTo(0.4652088184521417, 9);
    expect(p.status).toBe("ok");
  });

  it("overall: ok, with counts per arm and the settings used", () => {
    expect(r).toMatchObject({ status: "ok", model: "m", version: 3, window, drifted_features: [], samples: { total: 4, by_arm: { canary: 1, production: 3 } } });
    expect(r.settings).toEqual({ alpha: 0.05, psi_threshold: 0.1, min_samples: 1, correction: "none", window_hours: 24, alert: true });
    expect(r.reference).toEqual({ split: "validation", rows: 4, sample_size: 4 });
  });
});

describe("decisions", () => {
  it("drift needs a p-value below alpha and a PSI at the threshold", () => {
    // alpha 0.5: c (p 0.311) drifts, x (p 0.771) does not.
    expect(report({ alpha: 0.5 }).drifted_features).toEqual(["c"]);
    // The same p-values with a PSI threshold above c's PSI (2.68): nothing drifts.
    expect(report({ alpha: 0.5, psi_threshold: 3 }).status).toBe("ok");
    // A drifted feature makes the report drift.
    expect(report({ alpha: 0.5 }).status).toBe("drift");
  });

  it("Benjamini–Hochberg: c's p 0.311 adjusts to min(2 × 0.311, 0.771) = 0.623, no longer below alpha 0.5", () => {
    const corrected = report({ alpha: 0.5, correction: "benjamini-hochberg" });
    const [x, c] = corrected.features;
    expect(c!.p_value_adjusted!).toBeCloseTo(2 * Math.exp(-7 / 6), 9);
    expect(x!.p_value_adjusted!).toBeCloseTo(54 / 70, 12);
    expect(corrected.drifted_features).toEqual([]);
    expect(corrected.status).toBe("ok");
  });

  it("below min_samples every feature and the scores read insufficient_data with the statistics still shown", () => {
    const few = report({ min_samples: 5 });
    expect(few.status).toBe("insufficient_data");
    expect(few.features.map((f) => [f.status, f.note])).toEqual([
      ["insufficient_data", "4 current values, fewer than min_samples 5"],
      ["insufficient_data", "4 current values, fewer than min_samples 5"],
    ]);
    expect(few.features[0]!.p_value!).toBeCloseTo(54 / 70, 12);
    expect(few.predictions!.status).toBe("insufficient_data");
    // Insufficient features are left out of the correction and their adjusted p-value is null.
    expect(report({ min_samples: 5, correction: "benjamini-hochberg" }).features.map((f) => f.p_value_adjusted)).toEqual([null, null]);
  });

  it("a large shift on too few values is insufficient_data, never drift; missing values do not count", () => {
    const shifted = [...current.slice(0, 3), sample(null, "a", 0.1)];
    const r = report({ alpha: 0.99, psi_threshold: 0, min_samples: 4 }, { samples: shifted });
    expect(r.features[0]).toMatchObject({ current_n: 3, current_missing: 1, status: "insufficient_data" });
    expect(r.features[1]!.status).toBe("drift");
    expect(r.status).toBe("drift");
  });

  it("no samples, no reference", () => {
    expect(report({}, { samples: [] })).toMatchObject({ status: "no_samples", features: [], predictions: null, samples: { total: 0 } });
    const missing = report({}, { reference: { ok: false, reason: "reference.json not found" } });
    expect(missing).toMatchObject({ status: "no_reference", reason: "reference.json not found", reference: null, samples: { total: 4 } });
  });

  it("a feature the reference does not describe reads insufficient_data with a note", () => {
    const partial = { ...reference, features: reference.features.slice(1) };
    const r = report({}, { reference: { ok: true, value: partial } });
    expect(r.features[0]).toMatchObject({ name: "x", status: "insufficient_data", note: "reference.json has no numeric summary for this feature", p_value: null });
    expect(r.features[1]!.status).toBe("ok");
  });

  it("the same input gives the same report, byte for byte", () => {
    expect(JSON.stringify(report())).toBe(JSON.stringify(report()));
  });
});

describe("monitoringOf", () => {
  it("fills every default for a manifest without a monitoring block and keeps what a block sets", () => {
    expect(monitoringOf({})).toEqual({ window_hours: 24, min_samples: 100, alpha: 0.05, psi_threshold: 0.2, correction: "benjamini-hochberg", alert: true });
    expect(monitoringOf({ monitoring: { sample_rate: 0.25, window_hours: 6 } as MonitoringSettings })).toMatchObject({ sample_rate: 0.25, window_hours: 6, min_samples: 100 });
  });
});

describe("config.yaml monitoring:", () => {
  it("is parsed with defaults, strictly, and the repository's config sets every key", async () => {
    const { loadConfig, parseConfig, ConfigError } = await import("../../../trainer/config");
    const { config } = loadConfig("config.yaml");
    expect(config.monitoring).toEqual({ sample_rate: 0.1, window_hours: 24, min_samples: 100, alpha: 0.05, psi_threshold: 0.15, correction: "benjamini-hochberg", alert: true });
    const base = { ...config, monitoring: undefined } as Record<string, unknown>;
    expect(parseConfig(base).monitoring).toEqual(monitoringOf({}));
    const bad = (() => {
      try {
        parseConfig({ ...base, monitoring: { alpha: 2, correction: "bonferroni", windw_hours: 3 } });
      } catch (error) {
        return error as InstanceType<typeof ConfigError>;
      }
    })();
    expect(bad).toBeInstanceOf(ConfigError);
    expect(bad!.issues.map((i) => i.path).sort()).toEqual(["monitoring.alpha", "monitoring.correction", "monitoring.windw_hours"]);
  });
});
