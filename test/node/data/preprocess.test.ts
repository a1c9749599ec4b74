import { describe, expect, it } from "vitest";
import { manifestSchema } from "../../../worker/contract/manifest";
import type { RawColumns } from "../../../trainer/data/load-csv";
import {
  fitPreprocessing,
  observedStats,
  transform,
  transformRows,
  type Preprocessing,
} from "../../../trainer/preprocess";

const f32 = Math.fround;

/**
 * a: [1, NaN, 3, 10] -> median of {1,3,10} = 3; imputed [1,3,3,10]: mean 17/4 = 4.25,
 *    deviations -3.25,-1.25,-1.25,5.75 -> population variance 46.75/4 = 11.6875, std 3.4186985827943...
 * b: [2, 4, NaN, 6] -> median 4; imputed [2,4,4,6]: mean 4, variance 8/4 = 2, std sqrt(2)
 */
const train: RawColumns = {
  numeric: {
    a: Float64Array.from([1, Number.NaN, 3, 10]),
    b: Float64Array.from([2, 4, Number.NaN, 6]),
  },
  categorical: { color: ["red", "blue", "red", "Green"] },
};

describe("fitPreprocessing", () => {
  it("fits medians, means, population std and sorted categories on a hand-computed case", () => {
    // [2, 4, NaN, 6, 8]: median of an even count = (4+6)/2 = 5; imputed [2,4,5,6,8]: mean 5, variance 20/5 = 4, std 2
    const even: RawColumns = { numeric: { b: Float64Array.from([2, 4, Number.NaN, 6, 8]) }, categorical: {} };
    expect(fitPreprocessing(even).numeric).toEqual([{ name: "b", impute: 5, mean: 5, scale: 0.5 }]);

    const pre = fitPreprocessing(train);
    expect(pre.numeric[0]).toEqual({ name: "a", impute: 3, mean: 4.25, scale: f32(1 / 3.4186985827943) });
    expect(pre.numeric[0]!.scale).toBe(0.29250895977020264);
    // "Green" < "blue" < "red": code-unit order, not locale order
    expect(pre.categorical).toEqual([{ name: "color", categories: ["Green", "blue", "red"], handle_unknown: "ignore" }]);
    expect(manifestSchema.shape.preprocessing.parse(pre)).toEqual(pre);
  });

  it("stores every parameter already rounded to float32", () => {
    const pre = fitPreprocessing({ numeric: { x: Float64Array.from([0.1, 0.2, 0.3]) }, categorical: {} });
    const { impute, mean, scale } = pre.numeric[0]!;
    expect(impute).toBe(0.20000000298023224); // fround(0.2), not 0.2
    expect(mean).toBe(0.20000000298023224); // fround(0.6 / 3 = 0.19999999999999998)
    for (const v of [impute, mean, scale]) expect(f32(v)).toBe(v);
  });

  it("uses scale 1 for a constant column, even when its mean is not exact in binary", () => {
    const pre = fitPreprocessing({ numeric: { k: Float64Array.from([0.1, 0.1, 0.1, 0.1, 0.1]) }, categorical: {} });
    expect(pre.numeric[0]!.scale).toBe(1);
  });

  it("imputes a load-time constant instead of the median, and keeps the given feature order", () => {
    const pre = fitPreprocessing(train, { numeric: ["b", "a"], imputeConstants: { a: -1 } });
    expect(pre.numeric.map((n) => n.name)).toEqual(["b", "a"]);
    expect(pre.numeric[1]!.impute).toBe(-1);
    // imputed a = [1,-1,3,10]: mean 13/4
    expect(pre.numeric[1]!.mean).toBe(3.25);
  });

  it("never makes the missing marker a category and refuses an all-missing column", () => {
    expect(fitPreprocessing({ numeric: {}, categorical: { c: ["x", "", "w"] } }).categorical[0]!.categories).toEqual(["w", "x"]);
    expect(() => fitPreprocessing({ numeric: { n: Float64Array.from([Number.NaN]) }, categorical: {} })).toThrow(
      "numeric feature n has no values in the training split to take a median from",
    );
  });
});

describe("transform", () => {
  const pre = fitPreprocessing(train);

  it("lays out numeric columns then one column per category, imputing NaN", () => {
    const X = transform(pre, {
      numeric: { a: Float64Array.from([1, Number.NaN, 10]), b: Float64Array.from([2, 6, Number.NaN]) },
      categorical: { color: ["blue", "purple", ""] },
    });
    expect([X.rows, X.cols]).toEqual([3, 5]);
    const sb = pre.numeric[1]!.scale;
    expect(sb).toBe(f32(Math.SQRT1_2));
    expect(Array.from(X.data)).toEqual([
      -0.950654149055481, f32(-2 * sb), 0, 1, 0, // a=1: fround(fround(1 - 4.25) * scale); "blue"
      -0.3656361997127533, f32(2 * sb), 0, 0, 0, // a=NaN -> 3; unknown "purple" -> zeros
      1.6819264888763428, 0, 0, 0, 0, // b=NaN -> impute 4 = mean; "" (missing) -> zeros
    ]);
    // and close to the plain float64 standardisation
    expect(X.data[0]).toBeCloseTo((1 - 4.25) / 3.4186985827943, 6);
  });

  it("rounds the input and each step to float32 as the ONNX graph does", () => {
    const exact: Preprocessing = {
      numeric: [
        { name: "big", impute: 0, mean: 0, scale: 1 },
        { name: "x", impute: 0, mean: f32(3e-8), scale: 3 },
      ],
      categorical: [],
    };
    const X = transform(exact, { numeric: { big: Float64Array.from([16777217]), x: Float64Array.from([1]) }, categorical: {} });
    expect(X.data[0]).toBe(16777216); // 2^24 + 1 is not a float32
    // float32: 1 - 3e-8 rounds to 0.99999994, times 3 rounds to 2.9999998; float64 would give 3
    expect(X.data[1]).toBe(2.999999761581421);
  });

  it("rejects columns of different lengths or a missing column", () => {
    expect(() =>
      transform(pre, { numeric: { a: Float64Array.from([1]), b: Float64Array.from([1, 2]) }, categorical: { color: ["red"] } }),
    ).toThrow(/differ in length/);
    expect(() => transform(pre, { numeric: { a: Float64Array.from([1]) }, categorical: { color: ["red"] } })).toThrow(
      "transform: no column for b",
    );
  });
});

describe("transformRows", () => {
  const pre = fitPreprocessing(train);

  it("treats null and absent as missing, like the worker", () => {
    const fromRows = transformRows(pre, [
      { a: null, b: 6, color: "red" },
      { b: 2, color: null },
    ]);
    const fromColumns = transform(pre, {
      numeric: { a: Float64Array.from([Number.NaN, Number.NaN]), b: Float64Array.from([6, 2]) },
      categorical: { color: ["red", ""] },
    });
    expect(Array.from(fromRows.data)).toEqual(Array.from(fromColumns.data));
    expect(fromRows.data[4]).toBe(1);
  });

  it("refuses a string for a numeric feature", () => {
    expect(() => transformRows(pre, [{ a: "1", b: 1, color: "red" }])).toThrow('row 0: a must be a number or null, got "1"');
  });
});

describe("observedStats", () => {
  it("ignores NaN", () => {
    expect(observedStats(Float64Array.from([4, Number.NaN, 1, 3, 2]))).toEqual({ count: 4, min: 1, max: 4, mean: 2.5, median: 2.5 });
  });
});
