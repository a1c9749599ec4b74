import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  OTHER_CATEGORY,
  categoryBucket,
  driftReferenceSchema,
  histogramBin,
  parseDriftReference,
  type CategoricalFeatureReference,
  type NumericFeatureReference,
} from "../../../worker/contract/drift-reference";
import type { FeatureRow, FeatureSpec } from "../../../worker/contract/manifest";
import { buildDriftReference, quantileSorted } from "../../../trainer/report/drift-reference";
import { Rng } from "../../../trainer/random";
import { continuousDataset } from "../metrics/fixtures/lcg-datasets";
import { sklearnReference } from "../metrics/fixtures/sklearn-reference";

const numeric = (name: string): FeatureSpec => ({ name, kind: "numeric", integer: false, nullable: true });
const categorical = (name: string, categories: string[]): FeatureSpec => ({
  name,
  kind: "categorical",
  categories,
  closed: false,
  nullable: false,
});

function build(features: FeatureSpec[], rows: FeatureRow[], options: { sampleSize?: number; seed?: number; scores?: number[] } = {}) {
  return buildDriftReference({
    features,
    rows,
    scores: Float64Array.from(options.scores ?? rows.map((_, i) => (i % 10) / 10)),
    sampleSize: options.sampleSize ?? 100,
    rng: new Rng(options.seed ?? 1).fork("drift-reference"),
  });
}

describe("quantileSorted", () => {
  it("interpolates linearly between order statistics (numpy's default)", () => {
    const xs = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(quantileSorted(xs, 0)).toBe(1);
    expect(quantileSorted(xs, 1)).toBe(10);
    expect(quantileSorted(xs, 0.5)).toBe(5.5);
    expect(quantileSorted(xs, 0.1)).toBeCloseTo(1.9, 14);
    expect(quantileSorted(xs, 0.01)).toBeCloseTo(1.09, 14);
    expect(quantileSorted(xs, 0.99)).toBeCloseTo(9.91, 14);
    expect(quantileSorted(Float64Array.from([4]), 0.3)).toBe(4);
  });

  it("matches numpy.quantile on 1000 continuous values within 1e-15", () => {
    const sorted = Float64Array.from(continuousDataset().p).sort();
    const { q, values } = sklearnReference.continuous.quantiles;
    q.forEach((level, i) => expect(Math.abs(quantileSorted(sorted, level) - values[i]!)).toBeLessThanOrEqual(1e-15));
  });
});

describe("histogramBin", () => {
  it("puts a value in the bin whose upper edge it does not exceed, with open ends", () => {
    const edges = [1, 2, 3];
    expect([0.5, 1, 1.5, 2, 3, 3.1, -Infinity, Infinity].map((v) => histogramBin(edges, v))).toEqual([0, 0, 1, 1, 2, 3, 0, 3]);
    expect(histogramBin([], 42)).toBe(0);
  });
});

describe("buildDriftReference: numeric features", () => {
  it("summarises values 1..10 with decile edges, one value per bin", () => {
    const rows = Array.from({ length: 10 }, (_, i) => ({ x: i + 1 }));
    const x = build([numeric("x")], rows).features[0] as NumericFeatureReference;
    expect(x).toMatchObject({ count: 10, missing: 0, mean: 5.5, min: 1, max: 10 });
    expect(x.std).toBeCloseTo(Math.sqrt(8.25), 14); // population variance of 1..10
    expect(x.quantiles.map((q) => q.q)).toEqual([0.01, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99]);
    expect(x.quantiles[5]!.value).toBe(5.5);
    expect(x.histogram.edges).toHaveLength(9);
    x.histogram.edges.forEach((e, i) => expect(e).toBeCloseTo(1.9 + 0.9 * i, 12));
    expect(x.histogram.counts).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it("counts null, blank, NaN and unparseable cells as missing and parses numeric strings", () => {
    const rows: FeatureRow[] = [{ x: 2 }, { x: "4" }, { x: null }, { x: "" }, { x: Number.NaN }, { x: "n/a" }, {}, { x: 4 }, { x: 4 }, { x: 5 }, { x: 5 }, { x: 7 }, { x: 9 }];
    const x = build([numeric("x")], rows).features[0] as NumericFeatureReference;
    expect(x).toMatchObject({ count: 8, missing: 5, mean: 5, std: 2, min: 2, max: 9 });
  });

  it("deduplicates repeated deciles of a discrete feature", () => {
    const rows = [1, 1, 1, 1, 2, 2, 2, 3, 3, 3].map((v) => ({ n: v }));
    const n = build([numeric("n")], rows).features[0] as NumericFeatureReference;
    expect(n.histogram.edges).toEqual([...new Set(n.histogram.edges)]);
    expect(n.histogram.counts.reduce((a, b) => a + b, 0)).toBe(10);
    expect(n.histogram.counts).toHaveLength(n.histogram.edges.length + 1);
  });

  it("keeps an all-missing feature valid: null statistics and one open bin", () => {
    const x = build([numeric("x")], [{ x: null }, { x: null }]).features[0] as NumericFeatureReference;
    expect(x).toMatchObject({ count: 0, missing: 2, mean: null, std: null, quantiles: [], histogram: { edges: [], counts: [0] } });
  });
});

describe("buildDriftReference: categorical features and scores", () => {
  it("counts training categories, an __other__ bucket for the rest, and missing cells", () => {
    const rows: FeatureRow[] = ["A", "A", "B", "Z", "Y", null, ""].map((c) => ({ c }));
    const c = build([categorical("c", ["A", "B", "C"])], rows).features[0] as CategoricalFeatureReference;
    expect(c.count).toBe(5);
    expect(c.missing).toBe(2);
    expect(c.categories).toEqual([
      { value: "A", count: 2, frequency: 0.4 },
      { value: "B", count: 1, frequency: 0.2 },
      { value: "C", count: 0, frequency: 0 },
      { value: OTHER_CATEGORY, count: 2, frequency: 0.4 },
    ]);
    expect(categoryBucket(c, "B")).toBe("B");
    expect(categoryBucket(c, "Q")).toBe(OTHER_CATEGORY);
  });

  it("refuses a training category named __other__", () => {
    expect(() => build([categorical("c", [OTHER_CATEGORY])], [{ c: "x" }])).toThrow(/reserved/);
  });

  it("bins scores on [0, 1] and records their quantiles", () => {
    const rows = [{}, {}, {}, {}, {}];
    const ref = build([], rows, { scores: [0, 0.1, 0.15, 0.5, 1] });
    expect(ref.scores.histogram.edges).toHaveLength(9);
    expect(ref.scores.histogram.counts).toEqual([2, 1, 0, 0, 1, 0, 0, 0, 0, 1]);
    expect(ref.scores.quantiles.find((q) => q.q === 0.5)!.value).toBe(0.15);
    expect(() => build([], [{}], { scores: [1.5] })).toThrow(/not a probability/);
  });
});

describe("buildDriftReference: sample", () => {
  const features = [numeric("id"), categorical("c", ["A", "B"])];
  const rows: FeatureRow[] = Array.from({ length: 500 }, (_, i) => ({ id: i, c: i % 3 === 0 ? "A" : "B", target: i % 2 }));

  it("keeps at most sampleSize rows, feature columns only, in row order with their scores", () => {
    const ref = build(features, rows, { sampleSize: 50 });
    expect(ref.sample.rows).toHaveLength(50);
    const ids = ref.sample.rows.map((r) => r.id as number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(50);
    expect(Object.keys(ref.sample.rows[0]!)).toEqual(["id", "c"]);
    ref.sample.rows.forEach((r, i) => expect(ref.sample.scores[i]).toBe(((r.id as number) % 10) / 10));
  });

  it("is the same for the same seed and differs for another", () => {
    const a = build(features, rows, { sampleSize: 50, seed: 7 });
    expect(build(features, rows, { sampleSize: 50, seed: 7 })).toEqual(a);
    expect(build(features, rows, { sampleSize: 50, seed: 8 }).sample).not.toEqual(a.sample);
  });

  it("keeps every row when sampleSize reaches the row count, and none for 0", () => {
    expect(build(features, rows, { sampleSize: 1000 }).sample.rows).toHaveLength(500);
    expect(build(features, rows, { sampleSize: 0 }).sample.rows).toEqual([]);
  });
});

describe("drift reference schema", () => {
  const rows: FeatureRow[] = Array.from({ length: 200 }, (_, i) => ({ x: i % 17 === 0 ? null : (i * 37) % 101, c: ["A", "B", "Q"][i % 3]! }));
  const ref = build([numeric("x"), categorical("c", ["A", "B"])], rows, { sampleSize: 20 });

  it("round-trips through JSON and the schema unchanged", () => {
    expect(parseDriftReference(JSON.parse(JSON.stringify(ref)))).toEqual(ref);
  });

  it("rejects inconsistent histograms, sample lengths and non-finite numbers", () => {
    const broken = structuredClone(ref);
    (broken.features[0] as NumericFeatureReference).histogram.counts.push(1);
    expect(driftReferenceSchema.safeParse(broken).success).toBe(false);
    const unsorted = structuredClone(ref);
    unsorted.scores.histogram.edges.reverse();
    expect(driftReferenceSchema.safeParse(unsorted).success).toBe(false);
    const short = structuredClone(ref);
    short.sample.scores.pop();
    expect(driftReferenceSchema.safeParse(short).success).toBe(false);
    const infinite = structuredClone(ref);
    infinite.scores.mean = Infinity;
    expect(driftReferenceSchema.safeParse(infinite).success).toBe(false);
  });

  it("imports nothing but zod, so the worker can load it", () => {
    const source = readFileSync(new URL("../../../worker/contract/drift-reference.ts", import.meta.url), "utf8");
    expect([...source.matchAll(/from "([^"]+)"/g)].map((m) => m[1])).toEqual(["zod"]);
  });
});
