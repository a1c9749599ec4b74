/**
 * The manifest-driven row schema and feature feeds: numbers must fit in float32 (the graph's input
 * type), and category values follow the trainer's rule (normalizeCategory: trim) on both paths.
 */
import { describe, expect, it } from "vitest";
import { buildFeeds } from "../../../worker/contract/feature-feeds";
import type { FeatureSpec, Manifest } from "../../../worker/contract/manifest";
import { buildRowSchema } from "../../../worker/contract/row-schema";

const features: FeatureSpec[] = [
  { name: "tenure", kind: "numeric", integer: false, min: 0, nullable: false },
  { name: "charge", kind: "numeric", integer: false, nullable: false },
  { name: "count", kind: "numeric", integer: true, nullable: true },
  { name: "contract", kind: "categorical", categories: ["Month-to-month", "One year"], closed: true, nullable: false },
  { name: "payment", kind: "categorical", categories: ["Card", "Cash"], closed: false, nullable: false },
];
const schema = buildRowSchema({ features } as Manifest);
const ROW = { tenure: 1, charge: -2, count: 3, contract: "One year", payment: "Card" };

function issues(row: unknown) {
  const result = schema.safeParse(row);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("numbers must fit in float32", () => {
  it("rejects values finite in JSON but infinite in float32, one issue per field", () => {
    expect(issues({ ...ROW, tenure: 1e39 })).toEqual(["tenure: must fit in float32 (|x| <= 3.4028234663852886e38)"]);
    // Below its min and out of float32: only the float32 reason, which alone explains the refusal.
    expect(issues({ ...ROW, tenure: -1e39, charge: -1e39, count: 1e39 })).toEqual([
      "tenure: must fit in float32 (|x| <= 3.4028234663852886e38)",
      "charge: must fit in float32 (|x| <= 3.4028234663852886e38)",
      "count: must fit in float32 (|x| <= 3.4028234663852886e38)",
    ]);
  });

  it("accepts the float32 extremes", () => {
    const max = 3.4028234663852886e38;
    expect(Math.fround(max)).toBe(max);
    expect(issues({ ...ROW, tenure: max, charge: -max })).toEqual([]);
    expect(issues({ ...ROW, charge: 1e-45 })).toEqual([]); // underflows to a float32 subnormal, still finite
  });
});

describe("category values are trimmed, as the trainer reads them", () => {
  it("a closed feature accepts a value with surrounding whitespace, as its trimmed value", () => {
    const result = schema.safeParse({ ...ROW, contract: " One year ", payment: "Cash\t" });
    expect(result.success).toBe(true);
    expect(result.data).toMatchObject({ contract: "One year", payment: "Cash" });
  });

  it("a closed feature still rejects what trimming does not make allowed, naming the trimmed value", () => {
    expect(issues({ ...ROW, contract: " Weekly " })).toEqual(['contract: must be one of: Month-to-month, One year (got "Weekly")']);
    expect(issues({ ...ROW, payment: 3 })).toEqual(["payment: expected a string, got number 3"]);
  });

  it("feeds send the trimmed value and do not count it as unknown", () => {
    const { feeds, unknownCategories } = buildFeeds(features, [
      { ...ROW, contract: "One year ", payment: " Cash" },
      { ...ROW, payment: " Crypto " },
    ]);
    expect(feeds.contract).toEqual({ kind: "string", data: ["One year", "One year"] });
    expect(feeds.payment).toEqual({ kind: "string", data: ["Cash", "Crypto"] });
    expect(unknownCategories).toEqual({ payment: 1 });
  });
});
