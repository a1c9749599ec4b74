import { describe, expect, it } from "vitest";
import { applyBins, binMatrix, binOf, fitBinEdges, separatingEdge } from "../../../trainer/models/binning";
import type { Matrix } from "../../../trainer/models/types";
import { Rng } from "../../../trainer/random";

const column = (values: number[]): Matrix => ({ data: Float32Array.from(values), rows: values.length, cols: 1 });

/** For every training value and every edge: x <= edge[b] exactly when code <= b. */
function expectInvariant(X: Matrix, maxBins = 255): void {
  const binned = binMatrix(X, { max_bins: maxBins });
  for (let c = 0; c < X.cols; c++) {
    const edges = binned.edges[c]!;
    expect(edges.length + 1).toBeLessThanOrEqual(maxBins);
    for (let b = 1; b < edges.length; b++) expect(edges[b]!).toBeGreaterThan(edges[b - 1]!);
    for (let r = 0; r < X.rows; r++) {
      const x = X.data[r * X.cols + c]!;
      const code = binned.codes[c * X.rows + r]!;
      for (let b = 0; b < edges.length; b++) if (x <= edges[b]! !== code <= b) throw new Error(`x=${x} code=${code} b=${b}`);
    }
  }
}

describe("binning", () => {
  it("gives a one-hot column two bins split at 0.5", () => {
    const b = binMatrix(column([0, 1, 1, 0, 0]));
    expect(Array.from(b.edges[0]!)).toEqual([0.5]);
    expect(b.nBins[0]).toBe(2);
    expect(Array.from(b.codes)).toEqual([0, 1, 1, 0, 0]);
  });

  it("gives each distinct value its own bin with float32 midpoints as edges", () => {
    const b = binMatrix(column([3, 1, 2, 2, 5, 1]));
    expect(Array.from(b.edges[0]!)).toEqual([1.5, 2.5, 4]);
    expect(Array.from(b.codes)).toEqual([2, 0, 1, 1, 3, 0]);
    // 0.1 and 0.2 are not float32-exact: the edge is the float32 rounding of their midpoint.
    const e = binMatrix(column([0.1, 0.2])).edges[0]![0]!;
    expect(e).toBe(Math.fround(Math.fround(0.1) / 2 + Math.fround(0.2) / 2));
  });

  it("keeps a midpoint below the upper value, falling back to the lower value when it rounds up", () => {
    const ulp = 2 ** -23; // float32 spacing just above 1
    // Midpoint of two adjacent float32s is a tie; ties go to the even mantissa.
    expect(separatingEdge(1, 1 + ulp)).toBe(1); // rounds down to 1 (even): the midpoint is lo anyway
    expect(Math.fround(1 + ulp + ulp / 2)).toBe(1 + 2 * ulp); // this tie rounds up onto hi ...
    expect(separatingEdge(1 + ulp, 1 + 2 * ulp)).toBe(1 + ulp); // ... so the edge falls back to lo
    expect(separatingEdge(1, 3)).toBe(2);
    expectInvariant(column([1, 1 + ulp, 1 + 2 * ulp, 1 + ulp, 1, 1 + 3 * ulp]));
  });

  it("cuts many distinct values into equal-count quantile bins", () => {
    const values = Array.from({ length: 1000 }, (_, i) => i * 0.37 - 50);
    const b = binMatrix(column(values), { max_bins: 10 });
    expect(b.nBins[0]).toBe(10);
    const counts = new Array(10).fill(0);
    for (const code of b.codes) counts[code]++;
    expect(counts).toEqual(new Array(10).fill(100));
    expectInvariant(column(values), 10);
  });

  it("keeps a heavy repeated value (an imputed median) in one bin and stays within max_bins", () => {
    const values = [...new Array(600).fill(7), ...Array.from({ length: 400 }, (_, i) => i / 7)];
    const b = binMatrix(column(values), { max_bins: 16 });
    expect(b.nBins[0]).toBeLessThanOrEqual(16);
    const code7 = b.codes[0]!;
    for (let r = 0; r < 600; r++) expect(b.codes[r]).toBe(code7);
    expectInvariant(column(values), 16);
  });

  it("holds x <= edge <=> bin <= b on messy columns (duplicates, -0, huge, tiny, adjacent floats)", () => {
    const rng = new Rng("binning-invariant");
    const rows = 3000;
    const data = new Float32Array(rows * 4);
    for (let r = 0; r < rows; r++) {
      data[r * 4] = Math.round(rng.normal() * 20) / 4; // many duplicates
      data[r * 4 + 1] = [0, -0, 3.4e38, -3.4e38, 1e-40, 1 + 2 ** -23, 1][rng.int(7)]!;
      data[r * 4 + 2] = rng.normal() * 1e6; // all distinct: quantile bins
      data[r * 4 + 3] = rng.next() < 0.9 ? 0.25 : rng.next();
    }
    const X = { data, rows, cols: 4 };
    expectInvariant(X);
    expectInvariant(X, 7);
    expectInvariant(X, 2);
  });

  it("codes unseen values with the same edges so the invariant holds for any float32", () => {
    const edges = fitBinEdges(column([1, 2, 4, 8]));
    const probe = column([-5, 1, 1.5, 1.50001, 2, 3.9, 4, 6, 6.0001, 100]);
    const b = applyBins(probe, edges);
    expect(Array.from(b.codes)).toEqual([0, 0, 0, 1, 1, 2, 2, 2, 3, 3]);
    for (let r = 0; r < probe.rows; r++)
      for (let k = 0; k < edges[0]!.length; k++) expect(probe.data[r]! <= edges[0]![k]!).toBe(b.codes[r]! <= k);
    expect(binOf(edges[0]!, 1000)).toBe(3);
  });

  it("gives a constant column a single bin and rejects NaN and bad max_bins", () => {
    expect(binMatrix(column([4, 4, 4])).nBins[0]).toBe(1);
    expect(() => binMatrix(column([1, Number.NaN]))).toThrow(/NaN/);
    expect(() => binMatrix(column([1, 2]), { max_bins: 257 })).toThrow(/max_bins/);
    expect(() => binMatrix(column([1, 2]), { max_bins: 1 })).toThrow(/max_bins/);
  });
});
