/**
 * Class-1 probabilities from any trained model. Trees branch on `x <= threshold` with both sides
 * float32 (X is a Float32Array, thresholds a Float32Array), the comparison ONNX BRANCH_LEQ makes.
 */
import type { Matrix, TrainedModel, Tree } from "./types";

export function predictProba(model: TrainedModel, X: Matrix): Float64Array {
  const out = new Float64Array(X.rows);
  switch (model.family) {
    case "random_forest": {
      if (model.trees.length === 0) throw new RangeError("a forest needs at least one tree");
      for (const tree of model.trees) addTreeValues(tree, X, out);
      for (let r = 0; r < X.rows; r++) out[r]! /= model.trees.length;
      return out;
    }
    case "gradient_boosting": {
      out.fill(model.baseScore);
      for (const tree of model.trees) addTreeValues(tree, X, out);
      for (let r = 0; r < X.rows; r++) out[r] = sigmoid(out[r]!);
      return out;
    }
    case "logistic_regression": {
      const { coef, intercept } = model;
      if (coef.length !== X.cols) throw new RangeError(`model has ${coef.length} coefficients, X has ${X.cols} columns`);
      for (let r = 0; r < X.rows; r++) {
        let z = intercept;
        const base = r * X.cols;
        for (let c = 0; c < X.cols; c++) z += coef[c]! * X.data[base + c]!;
        out[r] = sigmoid(z);
      }
      return out;
    }
  }
}

/** Adds each row's leaf value to out (the building block of forests and boosting alike). */
export function addTreeValues(tree: Tree, X: Matrix, out: Float64Array): void {
  const { feature, threshold, left, right, value } = tree;
  const { data, cols } = X;
  for (let r = 0; r < X.rows; r++) {
    const base = r * cols;
    let node = 0;
    let f = feature[0]!;
    while (f >= 0) {
      node = data[base + f]! <= threshold[node]! ? left[node]! : right[node]!;
      f = feature[node]!;
    }
    out[r]! += value[node]!;
  }
}

export function sigmoid(z: number): number {
  // Two branches so exp never overflows for large |z|.
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
