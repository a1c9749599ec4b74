import { describe, expect, it } from "vitest";
import { DataError } from "../../../trainer/data/data-error";
import { kFoldIndices, trainValidationSplit } from "../../../trainer/data/split";
import { Rng } from "../../../trainer/random";

/** 37 negatives and 13 positives, interleaved. */
const y = Uint8Array.from({ length: 50 }, (_, i) => (i % 4 === 1 ? 1 : 0));

const positives = (indices: Int32Array) => Array.from(indices).filter((i) => y[i] === 1).length;

describe("trainValidationSplit", () => {
  it("is the fixture it claims to be", () => {
    expect(y.reduce((n, v) => n + v, 0)).toBe(13);
  });

  it("takes round(n_class * val_size) of each class for validation", () => {
    const split = trainValidationSplit(y, { valSize: 0.2, stratify: true, rng: new Rng(1).fork("split") });
    // negatives: round(37 * 0.2) = round(7.4) = 7; positives: round(13 * 0.2) = round(2.6) = 3
    expect(split.validation.length).toBe(10);
    expect(positives(split.validation)).toBe(3);
    expect(split.train.length).toBe(40);
    expect(positives(split.train)).toBe(10);
  });

  it("partitions the rows, each split in ascending order", () => {
    const { train, validation } = trainValidationSplit(y, { valSize: 0.3, stratify: true, rng: new Rng(2) });
    const all = [...train, ...validation].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(train)).toEqual([...train].sort((a, b) => a - b));
    expect(Array.from(validation)).toEqual([...validation].sort((a, b) => a - b));
  });

  it("repeats for the same seed and changes with another", () => {
    const split = (seed: number) =>
      Array.from(trainValidationSplit(y, { valSize: 0.2, stratify: true, rng: new Rng(seed).fork("split") }).validation);
    expect(split(42)).toEqual(split(42));
    expect(split(42)).not.toEqual(split(43));
  });

  it("takes round(n * val_size) overall when not stratified", () => {
    const split = trainValidationSplit(y, { valSize: 0.25, stratify: false, rng: new Rng(3) });
    expect(split.validation.length).toBe(13); // round(12.5) = 13 in JS
    expect(split.train.length).toBe(37);
  });

  it("fails with the reason when a split would lack a class", () => {
    const rare = Uint8Array.from({ length: 20 }, (_, i) => (i === 0 || i === 1 ? 1 : 0));
    // round(2 * 0.2) = 0 positives in validation
    expect(() => trainValidationSplit(rare, { valSize: 0.2, stratify: true, rng: new Rng(1) })).toThrow(
      new DataError("the validation split has 4 rows but no positive rows; add data or change training.val_size"),
    );
  });

  it("keeps the splits an earlier implementation made for these seeds (trained models stay reproducible)", () => {
    const stratified = trainValidationSplit(y, { valSize: 0.2, stratify: true, rng: new Rng(1).fork("split") });
    expect(Array.from(stratified.validation)).toEqual([4, 10, 13, 30, 33, 36, 38, 40, 45, 48]);
    const plain = trainValidationSplit(y, { valSize: 0.25, stratify: false, rng: new Rng(3) });
    expect(Array.from(plain.validation)).toEqual([1, 3, 5, 11, 13, 14, 26, 27, 32, 34, 39, 41, 42]);
  });

  it("splits 300k rows: no argument list grows with the data (push(...rows) overflowed the stack)", () => {
    // 10% positives: 270k negatives, of which 216k go to training in one class group.
    const big = Uint8Array.from({ length: 300_000 }, (_, i) => (i % 10 === 0 ? 1 : 0));
    for (const stratify of [true, false]) {
      const split = trainValidationSplit(big, { valSize: 0.2, stratify, rng: new Rng(11) });
      expect(split.train.length + split.validation.length).toBe(300_000);
      expect(split.validation.length).toBe(60_000);
      expect(split.train.every((v, i) => i === 0 || v > split.train[i - 1]!)).toBe(true);
    }
  });

  it("rejects a val_size outside (0, 1)", () => {
    expect(() => trainValidationSplit(y, { valSize: 1, stratify: true, rng: new Rng(1) })).toThrow(RangeError);
  });
});

describe("kFoldIndices", () => {
  it("puts every row in exactly one validation fold, with balanced sizes per class", () => {
    const folds = kFoldIndices(y, 4, new Rng(5));
    expect(folds).toHaveLength(4);
    const seen = new Int32Array(50);
    for (const fold of folds) {
      for (const i of fold.validation) seen[i]!++;
      expect(fold.train.length + fold.validation.length).toBe(50);
      expect(new Set([...fold.train, ...fold.validation]).size).toBe(50);
    }
    expect(Array.from(seen).every((n) => n === 1)).toBe(true);
    // 37 negatives over 4 folds: 10,9,9,9; dealing continues into the 13 positives: 3,4,3,3 (fold 1 gets the extra)
    expect(folds.map((f) => f.validation.length - positives(f.validation))).toEqual([10, 9, 9, 9]);
    expect(folds.map((f) => positives(f.validation))).toEqual([3, 4, 3, 3]);
    expect(folds.map((f) => f.validation.length)).toEqual([13, 13, 12, 12]);
  });

  it("is deterministic for a seed", () => {
    const a = kFoldIndices(y, 3, new Rng(9)).map((f) => Array.from(f.validation));
    const b = kFoldIndices(y, 3, new Rng(9)).map((f) => Array.from(f.validation));
    const c = kFoldIndices(y, 3, new Rng(10)).map((f) => Array.from(f.validation));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it("needs k rows of each class", () => {
    const rare = Uint8Array.from([1, 1, 0, 0, 0, 0, 0]);
    expect(() => kFoldIndices(rare, 3, new Rng(1))).toThrow(
      "3-fold cross-validation needs at least 3 rows of each class; class 1 has 2",
    );
    expect(() => kFoldIndices(rare, 1, new Rng(1))).toThrow(RangeError);
  });
});
