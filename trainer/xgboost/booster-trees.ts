/**
 * XGBoost trees -> the trainer's Tree (trainer/models/types.ts) over the tree_default design matrix,
 * so the ONNX exporter and the explainer take them as they take a trained booster:
 *  - XGBoost goes left when x < t; Tree goes left when x <= t. For float32 x and t these agree with
 *    t replaced by the next float32 below it, so a value exactly on a threshold still goes right.
 *  - a split on numeric feature i reads column i (missing -> -FLT_MAX, goes left) when its default
 *    direction is left, else column n + i (missing -> +FLT_MAX, goes right);
 *  - a split on a one-hot column reads that category's column (0 or 1, never missing).
 * The margin is logit(base_score) + Σ leaves, as XGBoost's binary:logistic computes it.
 */
import type { TrainedModel, Tree } from "../models/types";
import { MISSING_HIGH } from "../onnx/export";
import { UsageError } from "../user-errors";
import type { BoosterLayout } from "./map-features";
import type { Booster, BoosterTree } from "./read-booster";

export function boosterModel(booster: Booster, layout: BoosterLayout): Extract<TrainedModel, { family: "gradient_boosting" }> {
  const p = Math.fround(booster.baseScore);
  return {
    family: "gradient_boosting",
    trees: booster.trees.map((tree, t) => convertTree(tree, layout, `tree ${t}`)),
    baseScore: Math.fround(Math.log(p / (1 - p))),
  };
}

function convertTree(tree: BoosterTree, layout: BoosterLayout, where: string): Tree {
  const size = tree.left.length;
  const out: Tree = {
    feature: new Int32Array(size),
    threshold: new Float32Array(size),
    left: new Int32Array(size),
    right: new Int32Array(size),
    value: new Float64Array(size),
  };
  const n = layout.numeric.length;
  const seen = new Uint8Array(size);
  const stack = [0];
  while (stack.length) {
    const node = stack.pop()!;
    if (seen[node]) throw new UsageError(`${where}: node ${node} is reached twice`);
    seen[node] = 1;
    if (tree.left[node] === -1) {
      out.feature[node] = -1;
      out.left[node] = out.right[node] = -1;
      out.value[node] = tree.condition[node]!;
      continue;
    }
    const source = layout.columns[tree.feature[node]!]!;
    out.feature[node] = source.kind === "numeric" ? source.index + (tree.defaultLeft[node] ? 0 : n) : source.column;
    out.threshold[node] = belowFloat32(tree.condition[node]!, where, node);
    out.left[node] = tree.left[node]!;
    out.right[node] = tree.right[node]!;
    stack.push(tree.right[node]!, tree.left[node]!);
  }
  // Nodes pruning freed and nothing reused: never visited, kept as zero-valued leaves.
  for (let node = 0; node < size; node++)
    if (!seen[node]) {
      out.feature[node] = -1;
      out.left[node] = out.right[node] = -1;
    }
  return out;
}

const f32 = new Float32Array(1);
const bits = new Int32Array(f32.buffer);

/** The largest float32 below t (t a finite float32): x < t ⇔ x <= belowFloat32(t) for float32 x. */
export function belowFloat32(t: number, where = "", node = 0): number {
  f32[0] = t;
  const v = f32[0]!;
  if (v === 0) return -1.401298464324817e-45;
  bits[0] = bits[0]! + (v > 0 ? -1 : 1);
  const below = f32[0]!;
  // The missing markers must stay on their side of every split: -FLT_MAX <= t', +FLT_MAX > t'.
  if (!(below >= -MISSING_HIGH && below < MISSING_HIGH)) throw new UsageError(`${where}: node ${node}'s threshold ${t} is at the float32 limit`);
  return below;
}
