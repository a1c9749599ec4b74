/**
 * TrainedModel + preprocessing + background rows -> explainer.json (worker/contract/explainer.ts).
 * Numbers are written as the graph holds them: thresholds, leaf weights, coefficients and the
 * boosting base are float32 in the ONNX file, so they are rounded to float32 here and printed with
 * the fewest digits that read back to the same float32 (which also keeps the file small).
 */
import {
  EXPLAINER_VERSION,
  type Explainer,
  type ExplainerModel,
  type ExplainerTree,
  explainerSchema,
} from "../../worker/contract/explainer";
import type { FeatureRow, FeatureSpec, Manifest } from "../../worker/contract/manifest";
import type { TrainedModel, Tree } from "../models/types";
import { numericCopies } from "../onnx/export";

export interface BuildExplainerInput {
  features: readonly FeatureSpec[];
  preprocessing: Manifest["preprocessing"];
  model: TrainedModel;
  /** Raw background rows (feature -> value, null for missing). */
  background: readonly FeatureRow[];
  /** The same rows as the graph's `design` output: row-major, background.length × width. */
  backgroundDesign: Float32Array;
}

export function buildExplainer(input: BuildExplainerInput): Explainer {
  const columns = featureColumns(input.features, input.preprocessing);
  const width = columns.reduce((n, f) => n + f.columns.length, 0);
  const rows = input.background.length;
  if (input.backgroundDesign.length !== rows * width)
    throw new Error(`background: ${rows} raw rows but ${input.backgroundDesign.length} design values (width ${width})`);
  const backgroundDesign = Array.from({ length: rows }, (_, r) =>
    Array.from(input.backgroundDesign.subarray(r * width, (r + 1) * width), shortestFloat32),
  );
  const model = explainerModel(input.model);
  return explainerSchema.parse({
    version: EXPLAINER_VERSION,
    space: model.kind === "random_forest" ? "probability" : "log_odds",
    width,
    features: columns,
    model,
    background_design: backgroundDesign,
    background: input.background.map((row) => Object.fromEntries(input.features.map((f) => [f.name, row[f.name] ?? null]))),
  } satisfies Explainer);
}

/**
 * The design columns each feature owns, features in manifest order. The design matrix is the
 * numeric block in preprocessing order (twice under missing: tree_default), then each categorical
 * feature's one-hot block.
 */
export function featureColumns(features: readonly FeatureSpec[], pre: Manifest["preprocessing"]): { name: string; columns: number[] }[] {
  const owned = new Map<string, number[]>();
  const n = pre.numeric.length;
  pre.numeric.forEach((feature, i) => owned.set(feature.name, numericCopies(pre) === 2 ? [i, n + i] : [i]));
  let offset = n * numericCopies(pre);
  for (const c of pre.categorical) {
    owned.set(c.name, c.categories.map((_, i) => offset + i));
    offset += c.categories.length;
  }
  return features.map((f) => {
    const columns = owned.get(f.name);
    if (!columns) throw new Error(`feature ${f.name} has no preprocessing entry`);
    return { name: f.name, columns };
  });
}

export function explainerModel(model: TrainedModel): ExplainerModel {
  switch (model.family) {
    case "random_forest":
      if (model.trees.length === 0) throw new Error("a forest needs at least one tree");
      return { kind: "random_forest", aggregate: "average", bias: 0, trees: model.trees.map(preorderTree) };
    case "gradient_boosting":
      return {
        kind: "gradient_boosting",
        aggregate: "sum",
        bias: shortestFloat32(model.baseScore),
        // The graph writes zero rounds as one zero-valued leaf (trainer/onnx/export.ts).
        trees: model.trees.length ? model.trees.map(preorderTree) : [{ column: [-1], value: [0], right: [0] }],
      };
    case "logistic_regression":
      return {
        kind: "logistic_regression",
        coef: Array.from(model.coef, shortestFloat32),
        intercept: shortestFloat32(model.intercept),
      };
  }
}

/** A Tree renumbered in preorder (left child = next node), values rounded to float32. */
export function preorderTree(tree: Tree): ExplainerTree {
  const out: ExplainerTree = { column: [], value: [], right: [] };
  const visit = (node: number): void => {
    const i = out.column.length;
    const f = tree.feature[node]!;
    out.column.push(f < 0 ? -1 : f);
    out.value.push(shortestFloat32(f < 0 ? tree.value[node]! : tree.threshold[node]!));
    out.right.push(0);
    if (f < 0) return;
    visit(tree.left[node]!);
    out.right[i] = out.column.length;
    visit(tree.right[node]!);
  };
  visit(0);
  return out;
}

/** The float32 nearest v, as the double with the fewest significant digits that rounds back to it. */
export function shortestFloat32(v: number): number {
  const f = Math.fround(v);
  if (!Number.isFinite(f)) throw new Error(`${v} is not a finite float32`);
  for (let digits = 1; digits < 9; digits++) {
    const short = Number(f.toPrecision(digits));
    if (Math.fround(short) === f) return short;
  }
  return f;
}
