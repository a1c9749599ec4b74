import { describe, expect, it } from "vitest";
import { addTreeValues } from "../../../trainer/models/predict";
import { featuresPerNode, fitRandomForest } from "../../../trainer/models/random-forest";
import type { Matrix, Tree } from "../../../trainer/models/types";
import { Rng } from "../../../trainer/random";

const matrix = (rows: number[][]): Matrix => ({
  data: Float32Array.from(rows.flat()),
  rows: rows.length,
  cols: rows[0]!.length,
});

/** One tree, no bootstrap, every feature a candidate: a plain CART tree, as sklearn's DecisionTree. */
const cart = { n_estimators: 1, bootstrap: false, max_features: 1 } as const;

const treeOf = (X: Matrix, y: number[], options: Parameters<typeof fitRandomForest>[2], seed = 1): Tree =>
  fitRandomForest(X, Uint8Array.from(y), options, { rng: new Rng(seed) }).trees[0]!;

function leafOf(tree: Tree, X: Matrix, r: number): number {
  let node = 0;
  while (tree.feature[node]! >= 0)
    node = X.data[r * X.cols + tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
  return node;
}

// Reference values: scripts/reference/models_reference.py (scikit-learn 1.2.1).
describe("random forest", () => {
  it("fits a depth-1 stump with sklearn's threshold and leaf fractions", () => {
    // Gini proxy Σ(w0²+w1²)/w per cut after the k-th point: 3.6, 4, 4.667, 3.5, 4.4 -> cut after 0.3.
    const X = matrix([[0.1], [0.2], [0.3], [0.45], [0.7], [0.9]]);
    const tree = treeOf(X, [0, 0, 0, 1, 0, 1], { ...cart, max_depth: 1 });
    expect(Array.from(tree.feature)).toEqual([0, -1, -1]);
    expect(Array.from(tree.left)).toEqual([1, -1, -1]);
    expect(Array.from(tree.right)).toEqual([2, -1, -1]);
    expect(tree.threshold[0]).toBe(0.375); // sklearn: 0.375 (float32 midpoint of 0.3 and 0.45)
    expect(tree.value[1]).toBe(0);
    expect(tree.value[2]).toBe(2 / 3); // sklearn: 0.6666666666666666
    expect(tree.value[0]).toBe(2 / 6);
  });

  it("splits on the feature with the better Gini score", () => {
    // Feature a's best cut scores 4.667; feature b separates the classes exactly (score 6).
    const a = [1, 2, 3, 4, 5, 6];
    const b = [5, 6, 4, 1, 3, 2];
    const y = [0, 0, 0, 1, 0, 1].map((_, i) => (b[i]! <= 2 ? 1 : 0));
    for (const [cols, expected] of [
      [[a, b], 1],
      [[b, a], 0],
    ] as const) {
      const X = matrix(a.map((_, i) => cols.map((col) => col[i]!)));
      const tree = treeOf(X, y, { ...cart, max_depth: 1 });
      expect(tree.feature[0]).toBe(expected);
      expect(tree.threshold[0]).toBe(2.5);
      expect([tree.value[1], tree.value[2]]).toEqual([1, 0]);
    }
  });

  it("splits a one-hot column (2 bins, summed by the binary fast path) with exact weighted fractions", () => {
    // Column 0 is one-hot; column 1 a decoy constant. Left (0): y = 0,0,1 -> 1/3; right (1): 1,1,0,1 -> 3/4.
    const X = matrix([[0, 7], [0, 7], [1, 7], [1, 7], [0, 7], [1, 7], [1, 7]]);
    const tree = treeOf(X, [0, 0, 1, 1, 1, 0, 1], { ...cart, max_depth: 1 });
    expect(tree.feature[0]).toBe(0);
    expect(tree.threshold[0]).toBe(0.5);
    expect(tree.value[1]).toBe(1 / 3);
    expect(tree.value[2]).toBe(3 / 4);
  });

  it("reproduces sklearn's depth-3 tree on 24 points (every value its own bin)", () => {
    const X = matrix(TREE_X);
    const tree = treeOf(X, TREE_Y, { ...cart, max_depth: 3 });
    expect(tree.feature.length).toBe(7); // sklearn node_count
    const proba = new Float64Array(X.rows);
    addTreeValues(tree, X, proba);
    // Tolerance 1e-12: both sides are the same class fractions.
    for (let r = 0; r < X.rows; r++) expect(proba[r]).toBeCloseTo(TREE_PROBA[r]!, 12);
  });

  it("weights leaves by bootstrap draw counts (sklearn's sample_weight), drawn from fork tree-i", () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const y = [0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1];
    const X = matrix(xs.map((x) => [x]));
    const seed = 11;
    const forest = fitRandomForest(X, Uint8Array.from(y), { n_estimators: 3, max_depth: 1 }, { rng: new Rng(seed) });
    let splits = 0;
    for (let t = 0; t < 3; t++) {
      const draws = new Rng(seed).fork(`tree-${t}`);
      const counts = new Array(xs.length).fill(0);
      for (let i = 0; i < xs.length; i++) counts[draws.int(xs.length)]++;
      const tree = forest.trees[t]!;
      const fraction = (keep: (x: number) => boolean) => {
        let w = 0;
        let pos = 0;
        xs.forEach((x, i) => {
          if (keep(x)) {
            w += counts[i];
            pos += counts[i] * y[i]!;
          }
        });
        return pos / w;
      };
      expect(tree.value[0]).toBeCloseTo(fraction(() => true), 15);
      if (tree.feature[0] === 0) {
        splits++;
        const thr = tree.threshold[0]!;
        expect(tree.value[tree.left[0]!]).toBeCloseTo(fraction((x) => x <= thr), 15);
        expect(tree.value[tree.right[0]!]).toBeCloseTo(fraction((x) => x > thr), 15);
      }
    }
    expect(splits).toBeGreaterThan(0);
  });

  it("is deterministic per seed, differs across seeds, and does not depend on how many trees follow", () => {
    const rng = new Rng("rf-data");
    const rows = Array.from({ length: 300 }, () => [rng.normal(), rng.normal(), rng.next() < 0.5 ? 1 : 0, rng.normal()]);
    const y = Uint8Array.from(rows, (r) => (r[0]! + r[2]! + 0.5 * rng.normal() > 0.5 ? 1 : 0));
    const X = matrix(rows);
    const fit = (seed: number, n: number) => fitRandomForest(X, y, { n_estimators: n, max_depth: 5 }, { rng: new Rng(seed) });
    const a = fit(3, 4);
    expect(fit(3, 4)).toEqual(a);
    expect(fit(4, 4).trees[0]).not.toEqual(a.trees[0]);
    expect(fit(3, 2).trees).toEqual(a.trees.slice(0, 2));
  });

  it("respects min_samples_leaf, min_samples_split and max_depth", () => {
    const rng = new Rng("rf-leaf");
    const rows = Array.from({ length: 200 }, () => [rng.normal(), rng.normal(), rng.normal()]);
    const y = Uint8Array.from(rows, (r) => (r[0]! * r[1]! + 0.3 * rng.normal() > 0 ? 1 : 0));
    const X = matrix(rows);
    const options = { n_estimators: 1, bootstrap: false, max_features: 1, max_depth: 12 } as const;
    const leafSizes = (tree: Tree) => {
      const sizes = new Map<number, number>();
      for (let r = 0; r < X.rows; r++) sizes.set(leafOf(tree, X, r), (sizes.get(leafOf(tree, X, r)) ?? 0) + 1);
      return [...sizes.values()];
    };
    const unconstrained = fitRandomForest(X, y, options, { rng: new Rng(1) }).trees[0]!;
    expect(Math.min(...leafSizes(unconstrained))).toBeLessThan(7);
    const leafy = fitRandomForest(X, y, { ...options, min_samples_leaf: 7 }, { rng: new Rng(1) }).trees[0]!;
    expect(Math.min(...leafSizes(leafy))).toBeGreaterThanOrEqual(7);

    // A node with fewer than min_samples_split rows is never split: every internal node has >= 40.
    const split = fitRandomForest(X, y, { ...options, min_samples_split: 40 }, { rng: new Rng(1) }).trees[0]!;
    const reach = new Int32Array(split.feature.length);
    for (let r = 0; r < X.rows; r++) {
      let node = 0;
      reach[0]!++;
      while (split.feature[node]! >= 0) {
        node = X.data[r * 3 + split.feature[node]!]! <= split.threshold[node]! ? split.left[node]! : split.right[node]!;
        reach[node]!++;
      }
    }
    for (let k = 0; k < split.feature.length; k++) if (split.feature[k]! >= 0) expect(reach[k]).toBeGreaterThanOrEqual(40);

    const shallow = fitRandomForest(X, y, { ...options, max_depth: 2 }, { rng: new Rng(1) }).trees[0]!;
    expect(shallow.feature.length).toBeLessThanOrEqual(7);
  });

  it("rounds max_features as sklearn does and reports progress per tree", () => {
    expect(featuresPerNode("sqrt", 14)).toBe(3);
    expect(featuresPerNode("log2", 14)).toBe(3);
    expect(featuresPerNode(0.5, 14)).toBe(7);
    expect(featuresPerNode(0.01, 14)).toBe(1);
    expect(featuresPerNode(1, 14)).toBe(14);
    const calls: [number, number][] = [];
    fitRandomForest(matrix([[0], [1], [2]]), Uint8Array.from([0, 1, 1]), { n_estimators: 3 }, {
      rng: new Rng(1),
      onProgress: (done, total) => calls.push([done, total]),
    });
    expect(calls).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });

  it("makes a single leaf when a node is pure or no feature varies", () => {
    const pure = treeOf(matrix([[1], [2], [3]]), [1, 1, 1], cart);
    expect(Array.from(pure.feature)).toEqual([-1]);
    expect(pure.value[0]).toBe(1);
    const flat = treeOf(matrix([[5], [5], [5], [5]]), [0, 1, 1, 0], cart);
    expect(Array.from(flat.feature)).toEqual([-1]);
    expect(flat.value[0]).toBe(0.5);
  });
});

// scripts/reference/models_reference.py, dataset 2 (float32 values of these 2-decimal numbers).
const TREE_X = [
  [0.5, 1.59, 1.1], [-1.1, -0.8, 1.49], [-1.98, 1.28, 1.19], [-0.13, -0.79, -0.89], [-0.98, -0.22, 0.02],
  [0.21, 1.98, 1.17], [0.49, 1.96, -1.14], [-1.36, 0.45, -1.82], [-1.86, 0.06, -0.14], [1.67, 0.52, 0.06],
  [-0.01, -1.01, -1.95], [-1.23, 0.77, -1.2], [-0.52, -1.99, 1.32], [-1.38, -0.93, 1.52], [0.04, 1.39, 0.56],
  [0.97, -1.63, 0.16], [0.03, 1.49, -0.55], [0.39, -1.76, -0.45], [-0.71, -1.4, 1.27], [-0.48, 1.91, 0.36],
  [0.42, 0.55, 0.71], [-1.4, -0.24, -1.04], [-0.39, -1.61, 1.87], [-1.14, 0.69, -0.8],
];
const TREE_Y = [0, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0];
const TREE_PROBA = [
  2 / 3, 0, 0, 1, 0, 2 / 3, 2 / 3, 0, 0, 1, 0, 0, 1, 0, 2 / 3, 1, 2 / 3, 1, 1, 2 / 3, 1, 0, 1, 0,
];
