/**
 * A parsed explainer.json turned into what the per-row work reads: typed arrays per tree, each
 * split's feature (player) index, and, per split, the background rows that go left there as a
 * bitset. The bitsets are what lets one traversal per (row, tree) serve the whole background: a
 * set of background rows is split with a few word-wise ANDs instead of walking each row's pair.
 * Compiled once per explainer object (explainRows keeps them in a WeakMap).
 */
import type { Explainer, ExplainerTree } from "../contract/explainer";

export interface CompiledTree {
  /** Design column of a split, -1 for a leaf; the left child of node i is i + 1. */
  column: Int32Array;
  /** The feature (player) owning the split's column. */
  group: Int32Array;
  threshold: Float32Array;
  right: Int32Array;
  value: Float64Array;
  /** Bit r of word node * words + (r >> 5): background row r goes left at this split. */
  leftRows: Uint32Array;
}

export interface CompiledTrees {
  kind: "trees";
  trees: CompiledTree[];
  /** Forest: 1 / trees; boosting: 1. */
  scale: number;
  bias: number;
  /** Longest root-to-leaf path in splits, over all trees. */
  depth: number;
}

export interface CompiledLinear {
  kind: "linear";
  coef: Float64Array;
  intercept: number;
}

export interface CompiledExplainer {
  features: readonly string[];
  /** Feature index of each design column. */
  columnGroup: Int32Array;
  width: number;
  /** Background design rows, row-major float32. */
  background: Float32Array;
  backgroundRows: number;
  /** 32-bit words per background bitset. */
  words: number;
  /** The model's output (in the explainer's space) on each background row. */
  backgroundOutput: Float64Array;
  model: CompiledTrees | CompiledLinear;
}

export function compileExplainer(explainer: Explainer): CompiledExplainer {
  const { width } = explainer;
  const columnGroup = new Int32Array(width).fill(-1);
  explainer.features.forEach((f, g) => {
    for (const c of f.columns) columnGroup[c] = g;
  });
  const rows = explainer.background_design.length;
  const background = new Float32Array(rows * width);
  explainer.background_design.forEach((row, r) => background.set(row, r * width));
  const words = (rows + 31) >>> 5;
  const m = explainer.model;
  let model: CompiledTrees | CompiledLinear;
  const backgroundOutput = new Float64Array(rows);
  if (m.kind === "logistic_regression") {
    model = { kind: "linear", coef: Float64Array.from(m.coef, Math.fround), intercept: Math.fround(m.intercept) };
    for (let r = 0; r < rows; r++) {
      let z = model.intercept;
      for (let c = 0; c < width; c++) z += model.coef[c]! * background[r * width + c]!;
      backgroundOutput[r] = z;
    }
  } else {
    const scale = m.aggregate === "average" ? 1 / m.trees.length : 1;
    const bias = m.aggregate === "average" ? 0 : Math.fround(m.bias);
    let depth = 0;
    const trees = m.trees.map((t) => {
      const tree = compileTree(t, columnGroup, background, rows, width, words);
      depth = Math.max(depth, treeDepth(tree));
      for (let r = 0; r < rows; r++) backgroundOutput[r]! += tree.value[leafOf(tree, background, r * width)]!;
      return tree;
    });
    for (let r = 0; r < rows; r++) backgroundOutput[r] = bias + scale * backgroundOutput[r]!;
    model = { kind: "trees", trees, scale, bias, depth };
  }
  return { features: explainer.features.map((f) => f.name), columnGroup, width, background, backgroundRows: rows, words, backgroundOutput, model };
}

function compileTree(
  t: ExplainerTree,
  columnGroup: Int32Array,
  background: Float32Array,
  rows: number,
  width: number,
  words: number,
): CompiledTree {
  const n = t.column.length;
  const column = Int32Array.from(t.column);
  const threshold = new Float32Array(n);
  const value = new Float64Array(n);
  const group = new Int32Array(n).fill(-1);
  const leftRows = new Uint32Array(n * words);
  for (let node = 0; node < n; node++) {
    const c = column[node]!;
    if (c < 0) {
      // Leaves hold float32 weights in the graph; the file already stores float32 values.
      value[node] = Math.fround(t.value[node]!);
      continue;
    }
    group[node] = columnGroup[c]!;
    threshold[node] = t.value[node]!;
    const thr = threshold[node]!;
    const base = node * words;
    for (let r = 0; r < rows; r++) if (background[r * width + c]! <= thr) leftRows[base + (r >>> 5)]! |= 1 << (r & 31);
  }
  return { column, group, threshold, right: Int32Array.from(t.right), value, leftRows };
}

/** The leaf the design row at `offset` of `data` reaches. */
export function leafOf(tree: CompiledTree, data: ArrayLike<number>, offset: number): number {
  let node = 0;
  let c = tree.column[0]!;
  while (c >= 0) {
    node = data[offset + c]! <= tree.threshold[node]! ? node + 1 : tree.right[node]!;
    c = tree.column[node]!;
  }
  return node;
}

function treeDepth(tree: CompiledTree): number {
  let deepest = 0;
  const stack: number[] = [0, 0];
  while (stack.length > 0) {
    const d = stack.pop()!;
    const node = stack.pop()!;
    if (tree.column[node]! < 0) deepest = Math.max(deepest, d);
    else stack.push(node + 1, d + 1, tree.right[node]!, d + 1);
  }
  return deepest;
}
