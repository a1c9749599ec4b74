/**
 * The trainer normalises category values with the contract's one rule (normalizeCategory), not a
 * copy of it: swapped here for a rule the trainer could not have copied (trim and lower-case), the
 * loaded data, the constant for missing cells and the declared values must all follow it.
 */
import { describe, expect, it, vi } from "vitest";
import { loadCsv } from "../../../trainer/data/load-csv";
import { buildDriftReference } from "../../../trainer/report/drift-reference";
import { Rng } from "../../../trainer/random";
import { testConfig } from "./test-config";

vi.mock(import("../../../worker/contract/category-value"), () => ({
  normalizeCategory: (value: string) => value.trim().toLowerCase(),
}));

describe("category values follow the contract's normalizeCategory", () => {
  it("in loaded cells, the missing-cell constant and the declared values", async () => {
    const csv = "age,income,plan,churned\n1,1, Basic ,0\n2,2,,1\n3,3,GOLD,0\n";
    const config = testConfig({
      features: { columns: { plan: { missing: { constant: " Unknown " }, values: ["BASIC", "Gold", "unknown"], closed: true } } },
    });
    const d = await loadCsv({ text: csv }, config);
    expect(d.categorical.plan).toEqual(["basic", "unknown", "gold"]);
    expect(config.features.columns.plan!.values).toEqual(["basic", "gold", "unknown"]);
    expect(d.report.columns.plan!.undeclared).toEqual({ count: 0, rows: [], values: [] });
  });

  it("in the drift reference's category counts", () => {
    const reference = buildDriftReference({
      features: [{ name: "plan", kind: "categorical", categories: ["basic"], closed: false, nullable: true }],
      rows: [{ plan: " BASIC" }, { plan: "basic" }, { plan: "  " }],
      scores: Float64Array.of(0.1, 0.2, 0.3),
      sampleSize: 0,
      rng: new Rng(1),
    });
    const plan = reference.features[0]!;
    expect(plan).toMatchObject({ kind: "categorical", count: 2, missing: 1 });
    expect(plan.kind === "categorical" && plan.categories.find((c) => c.value === "basic")?.count).toBe(2);
  });
});
