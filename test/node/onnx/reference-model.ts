/**
 * A deliberately plain evaluation of the preprocessing contract and the models, independent of
 * the trainer's own code, as the second opinion the exported graphs are compared against.
 */
import type { FeatureRow } from "../../../worker/contract/manifest";
import type { TrainedModel, Tree } from "../../../trainer/models/types";
import type { Preprocessing } from "../../../trainer/onnx/export";

const f32 = Math.fround;

export function designRow(pre: Preprocessing, row: FeatureRow): Float32Array {
  const x: number[] = [];
  for (const { name, impute, mean, scale } of pre.numeric) {
    const raw = row[name];
    let v = raw === null || raw === undefined ? Number.NaN : f32(raw as number);
    if (Number.isNaN(v)) v = impute;
    x.push(f32(f32(v - mean) * scale));
  }
  for (const { name, categories } of pre.categorical) {
    const v = row[name] ?? "";
    for (const c of categories) x.push(v === c ? 1 : 0);
  }
  return Float32Array.from(x);
}

export function treeValue(tree: Tree, x: Float32Array): number {
  let node = 0;
  while (tree.feature[node]! >= 0)
    node = x[tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
  return tree.value[node]!;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

export function referenceP(model: TrainedModel, pre: Preprocessing, rows: FeatureRow[]): Float64Array {
  return Float64Array.from(rows, (row) => {
    const x = designRow(pre, row);
    switch (model.family) {
      case "random_forest":
        return model.trees.reduce((s, t) => s + treeValue(t, x), 0) / model.trees.length;
      case "gradient_boosting":
        return sigmoid(model.trees.reduce((s, t) => s + treeValue(t, x), model.baseScore));
      case "logistic_regression":
        return sigmoid(model.coef.reduce((s, w, i) => s + w * x[i]!, model.intercept));
    }
  });
}
