/**
 * Tree[] -> attributes of ai.onnx.ml opset-5 `TreeEnsemble` (one target).
 * Opset 5 keeps interior nodes and leaves in separate arrays: `tree_roots` and `nodes_*` index
 * interior nodes, and each branch says whether it points at a node or a leaf (`nodes_*leafs`).
 * Nodes are numbered in preorder from each root, so the layout depends only on the trees.
 */
import type { Tree } from "../models/types";
import type { AttributeValue } from "./graph-builder";

const BRANCH_LEQ = 0;
export const AGGREGATE = { AVERAGE: 0, SUM: 1 } as const;

export function treeEnsembleAttributes(
  trees: readonly Tree[],
  width: number,
  aggregate: (typeof AGGREGATE)[keyof typeof AGGREGATE],
): Record<string, AttributeValue> {
  if (trees.length === 0) throw new Error("tree ensemble: no trees to export");
  const roots: number[] = [];
  const featureIds: number[] = [];
  const splits: number[] = [];
  const trueIds: number[] = [];
  const trueLeafs: number[] = [];
  const falseIds: number[] = [];
  const falseLeafs: number[] = [];
  const leafWeights: number[] = [];

  const addLeaf = (value: number): number => {
    leafWeights.push(value);
    return leafWeights.length - 1;
  };

  trees.forEach((tree, t) => {
    const order = preorder(tree, t, width);
    roots.push(featureIds.length);
    if (order.length === 0) {
      // TreeEnsemble has no leaf-only tree: a split whose branches share one leaf scores the same.
      const leaf = addLeaf(leafValue(tree, t, 0));
      featureIds.push(0);
      splits.push(0);
      trueIds.push(leaf);
      trueLeafs.push(1);
      falseIds.push(leaf);
      falseLeafs.push(1);
      return;
    }
    const base = featureIds.length;
    const nodeId = new Map(order.map((node, i) => [node, base + i]));
    for (const node of order) {
      featureIds.push(tree.feature[node]!);
      splits.push(tree.threshold[node]!);
      for (const [child, ids, leafs] of [
        [tree.left[node]!, trueIds, trueLeafs],
        [tree.right[node]!, falseIds, falseLeafs],
      ] as const) {
        if (tree.feature[child]! < 0) {
          ids.push(addLeaf(leafValue(tree, t, child)));
          leafs.push(1);
        } else {
          ids.push(nodeId.get(child)!);
          leafs.push(0);
        }
      }
    }
  });

  return {
    aggregate_function: { int: aggregate },
    n_targets: { int: 1 },
    post_transform: { int: 0 },
    tree_roots: { ints: roots },
    nodes_featureids: { ints: featureIds },
    nodes_splits: { tensor: { type: "float", dims: [splits.length], values: splits } },
    nodes_modes: { tensor: { type: "uint8", dims: [splits.length], values: new Array<number>(splits.length).fill(BRANCH_LEQ) } },
    nodes_truenodeids: { ints: trueIds },
    nodes_trueleafs: { ints: trueLeafs },
    nodes_falsenodeids: { ints: falseIds },
    nodes_falseleafs: { ints: falseLeafs },
    leaf_targetids: { ints: new Array<number>(leafWeights.length).fill(0) },
    leaf_weights: { tensor: { type: "float", dims: [leafWeights.length], values: leafWeights } },
  };
}

/** Interior nodes reachable from the root, in preorder (left before right); validates the shape. */
function preorder(tree: Tree, t: number, width: number): number[] {
  const size = tree.feature.length;
  for (const [name, arr] of [["threshold", tree.threshold], ["left", tree.left], ["right", tree.right], ["value", tree.value]] as const)
    if (arr.length !== size) throw new Error(`tree ${t}: ${name} has ${arr.length} entries, feature has ${size}`);
  if (size === 0) throw new Error(`tree ${t}: no nodes`);
  const order: number[] = [];
  const seen = new Uint8Array(size);
  const stack = [0];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node < 0 || node >= size) throw new Error(`tree ${t}: child index ${node} is outside 0..${size - 1}`);
    if (seen[node]) throw new Error(`tree ${t}: node ${node} is reached twice`);
    seen[node] = 1;
    const feature = tree.feature[node]!;
    if (feature < 0) continue;
    if (feature >= width) throw new Error(`tree ${t}: node ${node} splits on column ${feature}, design matrix has ${width}`);
    if (!Number.isFinite(tree.threshold[node]!)) throw new Error(`tree ${t}: node ${node} has threshold ${tree.threshold[node]}`);
    order.push(node);
    stack.push(tree.right[node]!, tree.left[node]!);
  }
  return order;
}

function leafValue(tree: Tree, t: number, node: number): number {
  const value = tree.value[node]!;
  if (!Number.isFinite(value)) throw new Error(`tree ${t}: leaf ${node} has value ${value}`);
  return value;
}
