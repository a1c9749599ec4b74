/** The release gate's decision on hand-computed cases (trainer/gate/release-gate.ts). */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../trainer/config";
import { decideReleaseGate } from "../../trainer/gate/release-gate";
import { TRAINED_FIXTURE_CONFIG } from "../fixtures/trained-model";

describe("decideReleaseGate", () => {
  it("passes a candidate within the margin below production, and fails one beyond it", () => {
    // production 0.800, margin 0.005: the limit is 0.795.
    const within = decideReleaseGate(0.796, 0.8, { aucMargin: 0.005 });
    expect(within.passed).toBe(true);
    expect(within.checks).toHaveLength(1);
    expect(within.checks[0]!.rule).toBe("production_minus_margin");
    expect(within.checks[0]!.limit).toBeCloseTo(0.795, 12);
    expect(decideReleaseGate(0.794, 0.8, { aucMargin: 0.005 }).passed).toBe(false);
  });

  it("passes a candidate exactly at production minus the margin (0.9 - 0.3 is not exact in binary)", () => {
    expect(0.9 - 0.3).toBeGreaterThan(0.6);
    expect(decideReleaseGate(0.6, 0.9, { aucMargin: 0.3 }).passed).toBe(true);
    expect(decideReleaseGate(0.5999, 0.9, { aucMargin: 0.3 }).passed).toBe(false);
    expect(decideReleaseGate(0.75, 0.75, { aucMargin: 0 }).passed).toBe(true);
    expect(decideReleaseGate(0.7499, 0.75, { aucMargin: 0 }).passed).toBe(false);
  });

  it("needs the minimum as well as the margin: near production but below min_roc_auc fails", () => {
    const decision = decideReleaseGate(0.7, 0.702, { aucMargin: 0.005, minRocAuc: 0.75 });
    expect(decision.passed).toBe(false);
    expect(decision.checks.map((c) => [c.rule, c.passed])).toEqual([
      ["production_minus_margin", true],
      ["min_roc_auc", false],
    ]);
  });

  it("judges a first model (no production) on the minimum alone", () => {
    expect(decideReleaseGate(0.76, null, { aucMargin: 0.005, minRocAuc: 0.75 })).toEqual({
      passed: true,
      checks: [{ rule: "min_roc_auc", limit: 0.75, value: 0.76, passed: true }],
    });
    expect(decideReleaseGate(0.74, null, { aucMargin: 0.005, minRocAuc: 0.75 }).passed).toBe(false);
    // No production and no minimum: nothing to check, so nothing blocks the first release.
    expect(decideReleaseGate(0.51, null, { aucMargin: 0.005 })).toEqual({ passed: true, checks: [] });
  });

  it("a much better candidate passes; the margin does not apply upwards", () => {
    expect(decideReleaseGate(0.95, 0.7, { aucMargin: 0 }).passed).toBe(true);
  });

  it("refuses AUCs or a margin outside [0, 1]", () => {
    expect(() => decideReleaseGate(Number.NaN, 0.8, { aucMargin: 0.005 })).toThrow(/candidate AUC/);
    expect(() => decideReleaseGate(0.8, 1.2, { aucMargin: 0.005 })).toThrow(/production AUC/);
    expect(() => decideReleaseGate(0.8, 0.8, { aucMargin: -0.1 })).toThrow(/auc_margin/);
  });
});

describe("gate.auc_margin in config", () => {
  it("defaults to 0.005 with or without a gate block, and names the key when out of range", () => {
    expect(parseConfig(TRAINED_FIXTURE_CONFIG).gate).toEqual({ auc_margin: 0.005 });
    expect(parseConfig({ ...TRAINED_FIXTURE_CONFIG, gate: { min_roc_auc: 0.7 } }).gate).toEqual({ min_roc_auc: 0.7, auc_margin: 0.005 });
    expect(parseConfig({ ...TRAINED_FIXTURE_CONFIG, gate: { auc_margin: 0.02 } }).gate.auc_margin).toBe(0.02);
    expect(() => parseConfig({ ...TRAINED_FIXTURE_CONFIG, gate: { auc_margin: -0.1 } })).toThrow(/gate\.auc_margin/);
  });
});
