/**
 * Attribution drift's pure parts on hand-computed cases: which rows are explained, mean
 * |contribution| against the manifest's reference, when a stored block is kept, and the block's
 * schema (strict, so a field the docs do not name fails).
 */
import { describe, expect, it } from "vitest";
import { meanAbsContributions } from "../../../worker/explain/global-importance";
import {
  attributionDriftSchema,
  chooseAttributionRows,
  reusableAttribution,
  rowsFingerprint,
  summariseAttribution,
} from "../../../worker/monitoring/attribution-drift";

const keyed = (...keys: number[]) => keys.map((sampleKey, id) => ({ id, sampleKey }));

describe("chooseAttributionRows", () => {
  it("takes the smallest keys, smallest first, whatever order the rows came in", () => {
    expect(chooseAttributionRows(keyed(0.9, 0.1, 0.5, 0.3), 2).map((r) => r.id)).toEqual([1, 3]);
  });

  it("keeps equal keys in their order and takes every row when there are fewer than the cap", () => {
    expect(chooseAttributionRows(keyed(0.4, 0.2, 0.4, 0.2), 10).map((r) => r.id)).toEqual([1, 3, 0, 2]);
    expect(chooseAttributionRows([], 5)).toEqual([]);
  });
});

describe("rowsFingerprint", () => {
  it("is the same for the same keys and differs when one changes or the order does", async () => {
    const a = await rowsFingerprint(keyed(0.1, 0.2));
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(await rowsFingerprint(keyed(0.1, 0.2))).toBe(a);
    expect(await rowsFingerprint(keyed(0.1, 0.25))).not.toBe(a);
    expect(await rowsFingerprint(keyed(0.2, 0.1))).not.toBe(a);
  });
});

describe("meanAbsContributions", () => {
  it("averages magnitudes per feature: rows (0.2, -0.1, 0) and (-0.4, 0.3, 0) give (0.3, 0.2, 0)", () => {
    const means = meanAbsContributions([
      { base_value: 0.5, contributions: [0.2, -0.1, 0] },
      { base_value: 0.5, contributions: [-0.4, 0.3, 0] },
    ]);
    expect(means[0]).toBeCloseTo(0.3, 15);
    expect(means[1]).toBeCloseTo(0.2, 15);
    expect(means[2]).toBe(0);
  });

  it("refuses no rows and rows of different lengths", () => {
    expect(() => meanAbsContributions([])).toThrow(/at least one/);
    expect(() => meanAbsContributions([{ base_value: 0, contributions: [1] }, { base_value: 0, contributions: [1, 2] }])).toThrow(/row 1/);
  });
});

describe("summariseAttribution", () => {
  const explanations = [
    { base_value: 0.3, contributions: [0.1, -0.05] },
    { base_value: 0.3, contributions: [-0.3, 0.15] },
    { base_value: 0.3, contributions: [0.2, 0.1] },
  ];
  const base = {
    space: "probability" as const,
    features: ["tenure", "contract_type"],
    explanations,
    windowRows: 600,
    skippedRows: 1,
    maxRows: 200,
    rowsFingerprint: "0123456789abcdef",
  };

  it("puts the window's mean |contribution| beside the reference, by name, in manifest order", () => {
    const block = summariseAttribution({ ...base, reference: { split: "validation", rows: 500, mean_abs: { contract_type: 0.04, tenure: 0.25 } } });
    expect(block).toMatchObject({
      status: "ok",
      space: "probability",
      rows: 3,
      window_rows: 600,
      skipped_rows: 1,
      max_rows: 200,
      selection: "smallest_sample_key",
      rows_fingerprint: "0123456789abcdef",
      reference: { split: "validation", rows: 500 },
    });
    // (0.1 + 0.3 + 0.2) / 3 = 0.2; (0.05 + 0.15 + 0.1) / 3 = 0.1
    expect(block.features.map((f) => [f.name, f.reference])).toEqual([
      ["tenure", 0.25],
      ["contract_type", 0.04],
    ]);
    expect(block.features[0]!.current).toBeCloseTo(0.2, 15);
    expect(block.features[1]!.current).toBeCloseTo(0.1, 15);
    expect(attributionDriftSchema.parse(block)).toEqual(block);
  });

  it("has null references without a training-time importance, or for a feature it does not name", () => {
    expect(summariseAttribution({ ...base, reference: undefined })).toMatchObject({ reference: null, features: [{ reference: null }, { reference: null }] });
    const partial = summariseAttribution({ ...base, reference: { split: "validation", rows: 9, mean_abs: { tenure: 0.1 } } });
    expect(partial.features.map((f) => f.reference)).toEqual([0.1, null]);
  });

  it("refuses explanations that do not have one contribution per feature", () => {
    expect(() => summariseAttribution({ ...base, features: ["tenure"], reference: undefined })).toThrow(/2 contributions per row for 1 features/);
  });
});

describe("reusableAttribution", () => {
  const block = summariseAttribution({
    space: "log_odds",
    features: ["x"],
    explanations: [{ base_value: 0, contributions: [1] }],
    reference: undefined,
    windowRows: 1,
    skippedRows: 0,
    maxRows: 200,
    rowsFingerprint: "aaaa",
  });

  it("keeps a stored block computed from the same rows under the same cap, and nothing else", () => {
    expect(reusableAttribution(block, "aaaa", 200)).toEqual(block);
    expect(reusableAttribution(block, "bbbb", 200)).toBeNull();
    expect(reusableAttribution(block, "aaaa", 100)).toBeNull();
    expect(reusableAttribution({ status: "error", reason: "explainer.json missing" }, "aaaa", 200)).toBeNull();
    expect(reusableAttribution(undefined, "aaaa", 200)).toBeNull();
    expect(reusableAttribution({ ...block, features: "garbled" }, "aaaa", 200)).toBeNull();
  });

  it("is a strict schema: an undocumented field does not parse", () => {
    expect(attributionDriftSchema.safeParse({ ...block, extra: 1 }).success).toBe(false);
    expect(attributionDriftSchema.safeParse({ status: "error", reason: "x" }).success).toBe(true);
  });
});
