import { describe, expect, it } from "vitest";
import { fitGradientBoosting, logLoss } from "../../../trainer/models/gradient-boosting";
import { addTreeValues, predictProba } from "../../../trainer/models/predict";
import type { Matrix } from "../../../trainer/models/types";
import { Rng } from "../../../trainer/random";

const matrix = (rows: number[][]): Matrix => ({
  data: Float32Array.from(rows.flat()),
  rows: rows.length,
  cols: rows[0]!.length,
});

// x = 1..8, y = 0 0 1 0 1 1 1 1 (5 positives). Reference: scripts/reference/models_reference.py.
const X8 = matrix([[1], [2], [3], [4], [5], [6], [7], [8]]);
const Y8 = Uint8Array.from([0, 0, 1, 0, 1, 1, 1, 1]);
const stumps = { learning_rate: 0.5, max_depth: 1, min_samples_leaf: 1, l2_regularization: 0 } as const;

function rawScores(model: { trees: import("../../../trainer/models/types").Tree[]; baseScore: number }, X: Matrix) {
  const raw = new Float64Array(X.rows).fill(model.baseScore);
  for (const tree of model.trees) addTreeValues(tree, X, raw);
  return raw;
}

describe("gradient boosting", () => {
  it("starts from the log-odds and takes one exact Newton step per leaf", () => {
    // p0 = 5/8, g = p0 - y, h = p0(1 - p0) = 15/64. Gains G²/H summed over children per cut:
    // after x=1: 1.905, x=2: 4.444, x=3: 1.742, x=4: 4.8 (best), ... Left {1..4}: G = 4·5/8 - 1 = 1.5,
    // H = 4·15/64 = 0.9375, leaf = -0.5 · 1.5 / 0.9375 = -0.8; right mirrors it at +0.8.
    const { model, nIter, bestIteration } = fitGradientBoosting(X8, Y8, { ...stumps, max_iter: 1 });
    expect(model.baseScore).toBeCloseTo(Math.log(5 / 3), 15); // sklearn: 0.5108256237659907
    const tree = model.trees[0]!;
    expect(Array.from(tree.feature)).toEqual([0, -1, -1]);
    expect(tree.threshold[0]).toBe(4.5);
    expect(tree.value[1]).toBeCloseTo(-0.8, 14);
    expect(tree.value[2]).toBeCloseTo(0.8, 14);
    expect([nIter, bestIteration]).toEqual([1, 1]);
    // sklearn HistGradientBoostingClassifier(max_iter=1, ...) raw scores, tolerance 1e-12.
    const raw = rawScores(model, X8);
    for (let r = 0; r < 8; r++) expect(raw[r]).toBeCloseTo(r < 4 ? -0.28917437623400843 : 1.3108256237659899, 12);
  });

  it("matches sklearn after two rounds (second round refits to the updated gradients)", () => {
    const { model } = fitGradientBoosting(X8, Y8, { ...stumps, max_iter: 2 });
    const raw = rawScores(model, X8);
    const proba = predictProba(model, X8);
    // Tolerance 5e-7: sklearn stores gradients and hessians as float32 (we keep float64), which
    // moves the second round's leaves by ~4e-8. Round one's gradients are float32-exact (above).
    for (let r = 0; r < 8; r++) {
      expect(raw[r]).toBeCloseTo(GB2_RAW[r]!, 6);
      expect(proba[r]).toBeCloseTo(GB2_PROBA[r]!, 6);
    }
    expect(model.trees[1]!.threshold[0]).toBe(2.5);
  });

  it("shrinks leaves by l2_regularization: -lr · G / (H + λ)", () => {
    const { model } = fitGradientBoosting(X8, Y8, { ...stumps, max_iter: 1, l2_regularization: 1 });
    const tree = model.trees[0]!;
    expect(tree.threshold[0]).toBe(4.5);
    expect(tree.value[1]).toBeCloseTo((-0.5 * 1.5) / (0.9375 + 1), 14);
    expect(tree.value[2]).toBeCloseTo((-0.5 * -1.5) / (0.9375 + 1), 14);
  });

  it("takes the same Newton steps on a one-hot column (the binary histogram fast path)", () => {
    // x one-hot, y = 0 0 1 0 | 1 1 1 1 by x = 0 0 0 0 | 1 1 1 1 (rows shuffled): the same stump as
    // the x = 1..8 case, so the leaves are -0.8 and +0.8 again.
    const X = matrix([[1], [0], [1], [0], [1], [0], [1], [0]]);
    const y = Uint8Array.from([1, 0, 1, 0, 1, 1, 1, 0]);
    const { model } = fitGradientBoosting(X, y, { ...stumps, max_iter: 1 });
    const tree = model.trees[0]!;
    expect(tree.threshold[0]).toBe(0.5);
    expect(tree.value[1]).toBeCloseTo(-0.8, 14);
    expect(tree.value[2]).toBeCloseTo(0.8, 14);
    // Among 40 one-hot columns (32 are bit-packed, bit 31 being the sign bit; the rest take the
    // per-column path) the informative one is found wherever it sits.
    for (const informative of [5, 31, 37]) {
      const wide = matrix(
        Array.from({ length: 8 }, (_, r) =>
          Array.from({ length: 40 }, (_, c) => (c === informative ? X.data[r]! : (r + c) % 3 === 0 ? 1 : 0)),
        ),
      );
      const stump = fitGradientBoosting(wide, y, { ...stumps, max_iter: 1 }).model.trees[0]!;
      expect(stump.feature[0]).toBe(informative);
      expect(stump.value[1]).toBeCloseTo(-0.8, 14);
      expect(stump.value[2]).toBeCloseTo(0.8, 14);
    }
  });

  it("respects min_samples_leaf and max_depth", () => {
    const rng = new Rng("gb-leaf");
    const rows = Array.from({ length: 300 }, () => [rng.normal(), rng.normal()]);
    const y = Uint8Array.from(rows, (r) => (Math.sin(3 * r[0]!) + r[1]! + 0.3 * rng.normal() > 0 ? 1 : 0));
    const X = matrix(rows);
    const { model } = fitGradientBoosting(X, y, { max_iter: 5, max_depth: 4, min_samples_leaf: 25 });
    for (const tree of model.trees) {
      const counts = new Map<number, number>();
      for (let r = 0; r < X.rows; r++) {
        let node = 0;
        let depth = 0;
        while (tree.feature[node]! >= 0) {
          node = X.data[r * 2 + tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
          depth++;
        }
        expect(depth).toBeLessThanOrEqual(4);
        counts.set(node, (counts.get(node) ?? 0) + 1);
      }
      expect(counts.size).toBeGreaterThan(1);
      expect(Math.min(...counts.values())).toBeGreaterThanOrEqual(25);
    }
  });

  it("stops early on validation log loss and keeps the best round's trees", () => {
    const rng = new Rng("gb-stop");
    const make = (n: number) => {
      const rows = Array.from({ length: n }, () => [rng.normal(), rng.normal(), rng.normal()]);
      // Only the first feature matters; deep trees on 200 rows soon fit noise.
      return { X: matrix(rows), y: Uint8Array.from(rows, (r) => (r[0]! + rng.normal() > 0 ? 1 : 0)) };
    };
    const train = make(200);
    const validation = make(400);
    const options = { max_iter: 300, max_depth: 6, min_samples_leaf: 2, learning_rate: 0.3, early_stopping_rounds: 5 };
    const result = fitGradientBoosting(train.X, train.y, options, { validation });
    expect(result.nIter).toBeLessThan(300);
    expect(result.nIter - result.bestIteration).toBe(5);
    expect(result.model.trees.length).toBe(result.bestIteration);
    expect(result.validationLoss.length).toBe(result.nIter + 1); // round 0 = the baseline alone
    const best = Math.min(...result.validationLoss);
    expect(result.validationLoss[result.bestIteration]).toBe(best);
    const kept = predictProba(result.model, validation.X);
    const raw = Float64Array.from(kept, (p) => Math.log(p / (1 - p)));
    expect(logLoss(raw, validation.y)).toBeCloseTo(best, 10);

    // Patience 0 disables stopping; without a validation set every round is kept.
    expect(fitGradientBoosting(train.X, train.y, { ...options, max_iter: 40, early_stopping_rounds: 0 }, { validation }).model.trees.length).toBe(40);
    expect(fitGradientBoosting(train.X, train.y, { ...options, max_iter: 40 }).model.trees.length).toBe(40);
  });

  it("rejects a single-class target", () => {
    expect(() => fitGradientBoosting(X8, new Uint8Array(8), {})).toThrow(/both classes/);
  });

  it("computes log loss stably from raw scores", () => {
    const y = Uint8Array.from([1, 0, 1, 0]);
    const raw = Float64Array.from([0, 0, 800, -800]);
    expect(logLoss(raw, y)).toBeCloseTo((2 * Math.log(2)) / 4, 15);
  });
});

const GB2_RAW = [
  -1.1636151390897056, -1.1636151390897056, 0.1393089298411866, 0.1393089298411866, 1.7393089298411848,
  1.7393089298411848, 1.7393089298411848, 1.7393089298411848,
];
const GB2_PROBA = [
  0.23801101626930746, 0.23801101626930746, 0.5347710172768058, 0.5347710172768058, 0.8505992654426567,
  0.8505992654426567, 0.8505992654426567, 0.8505992654426567,
];
