/**
 * Exact interventional TreeSHAP against a background set, with features (players) that own several
 * design columns, as shap's TreeExplainer(model, data, feature_perturbation="interventional")
 * computes it per (x, background row z) pair (tree_shap.h, "independent" algorithm).
 *
 * The game for one pair is v(S) = f(hybrid), the hybrid taking the columns of every feature in S
 * from x and all others from z. A leaf is reached by the hybrid exactly when every feature whose
 * splits on the leaf's path separate x from z is taken from the side the path follows: with A the
 * features that must come from x and B those that must come from z (|A| = a, |B| = b), the leaf
 * adds v · 1[A ⊆ S, B ∩ S = ∅], whose Shapley values are
 *   i ∈ A: +v (a-1)! b! / (a+b)!,   j ∈ B: -v a! (b-1)! / (a+b)!.
 * φ is the mean of these over the background rows, so Σφ = f(x) - mean f(z).
 *
 * One traversal per (x, tree) serves all background rows at once: it carries the set of
 * background rows that share the traversal's state (which features are fixed to x or to z), as a
 * bitset. At a split on feature g:
 *  - g fixed to x: every row follows x;
 *  - g fixed to z: the set splits by each row's own direction (precompiled bitsets);
 *  - g free: rows going x's way continue with g free; the others fork into an x side (g fixed to
 *    x, x's child) and a z side (g fixed to z, the other child).
 * Leaves weigh their value by the number of rows that reach them in that state. As in tree_shap.h,
 * the leaves' weighted sums flow back up as (pos, neg) and are credited to g where g was fixed:
 * pos of the x side plus neg of the z side.
 */
import type { CompiledExplainer, CompiledTree, CompiledTrees } from "./compile-explainer";

const FREE = 0;
const FROM_X = 1;
const FROM_Z = 2;

/** Scratch space reused across rows of one explainer. */
export interface TreeShapScratch {
  state: Int8Array;
  /** (depth + 2) levels × 2 bitsets × words. */
  sets: Uint32Array;
  /** wPos[a * k + b] = (a-1)! b! / (a+b)!, wNeg[a * k + b] = a! (b-1)! / (a+b)!, for a + b < k. */
  wPos: Float64Array;
  wNeg: Float64Array;
  k: number;
}

export function treeShapScratch(compiled: CompiledExplainer, model: CompiledTrees): TreeShapScratch {
  // a + b counts distinct features on one path: at most the depth and the number of features.
  const k = Math.min(model.depth, compiled.features.length) + 1;
  const wPos = new Float64Array(k * k);
  const wNeg = new Float64Array(k * k);
  for (let a = 0; a < k; a++)
    for (let b = 0; a + b < k; b++) {
      const n = a + b;
      if (a > 0) wPos[a * k + b] = 1 / (n * binomial(n - 1, b));
      if (b > 0) wNeg[a * k + b] = 1 / (n * binomial(n - 1, a));
    }
  return {
    state: new Int8Array(compiled.features.length),
    sets: new Uint32Array((model.depth + 2) * 2 * compiled.words),
    wPos,
    wNeg,
    k,
  };
}

function binomial(n: number, r: number): number {
  let result = 1;
  for (let i = 1; i <= r; i++) result = (result * (n - r + i)) / i;
  return result;
}

/**
 * Adds to `out` (one slot per feature) Σ over trees and the first `rows` background rows of the
 * per-pair Shapley values, unscaled: the caller divides by the row count and applies the
 * ensemble's scale.
 */
export function addTreeShap(
  compiled: CompiledExplainer,
  model: CompiledTrees,
  scratch: TreeShapScratch,
  x: ArrayLike<number>,
  xOffset: number,
  rows: number,
  out: Float64Array,
): void {
  const words = compiled.words;
  const { state, sets, wPos, wNeg, k } = scratch;
  let neg = 0;
  let tree: CompiledTree = model.trees[0]!;

  const visit = (node: number, set: number, level: number, a: number, b: number): number => {
    const c = tree.column[node]!;
    if (c < 0) {
      if (a + b === 0) {
        neg = 0;
        return 0;
      }
      let count = 0;
      for (let w = 0; w < words; w++) count += popcount(sets[set + w]!);
      const v = tree.value[node]! * count;
      neg = b > 0 ? -v * wNeg[a * k + b]! : 0;
      return a > 0 ? v * wPos[a * k + b]! : 0;
    }
    const xLeft = x[xOffset + c]! <= tree.threshold[node]!;
    const xChild = xLeft ? node + 1 : tree.right[node]!;
    const g = tree.group[node]!;
    const s = state[g]!;
    if (s === FROM_X) return visit(xChild, set, level, a, b);
    const first = (level + 1) * 2 * words;
    const second = first + words;
    const mask = node * words;
    let anyFirst = 0;
    let anySecond = 0;
    // FROM_Z: first = rows going left, second = rows going right.
    // FREE: first = rows going x's way, second = rows going the other way.
    const flip = s === FREE && !xLeft ? -1 : 0;
    for (let w = 0; w < words; w++) {
      const rowsHere = sets[set + w]!;
      const left = tree.leftRows[mask + w]! ^ flip;
      const f = rowsHere & left;
      const o = rowsHere & ~left;
      sets[first + w] = f;
      sets[second + w] = o;
      anyFirst |= f;
      anySecond |= o;
    }
    let pos = 0;
    let negSum = 0;
    if (s === FROM_Z) {
      if (anyFirst !== 0) {
        pos += visit(node + 1, first, level + 1, a, b);
        negSum += neg;
      }
      if (anySecond !== 0) {
        pos += visit(tree.right[node]!, second, level + 1, a, b);
        negSum += neg;
      }
      neg = negSum;
      return pos;
    }
    if (anyFirst !== 0) {
      pos += visit(xChild, first, level + 1, a, b);
      negSum += neg;
    }
    if (anySecond !== 0) {
      state[g] = FROM_X;
      const posX = visit(xChild, second, level + 1, a + 1, b);
      const negX = neg;
      state[g] = FROM_Z;
      const posZ = visit(xLeft ? tree.right[node]! : node + 1, second, level + 1, a, b + 1);
      const negZ = neg;
      state[g] = FREE;
      out[g]! += posX + negZ;
      pos += posX + posZ;
      negSum += negX + negZ;
    }
    neg = negSum;
    return pos;
  };

  // Level 0, first set: the background rows in use.
  for (let w = 0; w < words; w++) {
    const remaining = rows - w * 32;
    sets[w] = remaining >= 32 ? 0xffffffff : remaining > 0 ? (1 << remaining) - 1 : 0;
  }
  for (const t of model.trees) {
    tree = t;
    visit(0, 0, 0, 0, 0);
  }
}

function popcount(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}
