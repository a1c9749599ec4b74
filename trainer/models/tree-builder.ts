/**
 * What the forest and boosting learners share while growing a tree depth-first: the node lists
 * (node 0 the root, packed into a Tree's typed arrays at the end) and the partition of a node's rows
 * at a split. Each learner keeps its own split search and leaf value.
 */
import type { Tree } from "./types";

export class TreeBuilder {
  private readonly feature: number[] = [];
  private readonly threshold: number[] = [];
  private readonly left: number[] = [];
  private readonly right: number[] = [];
  private readonly value: number[] = [];

  /** A new leaf; returns its id. Every node starts as a leaf, and split() may turn it into a split later. */
  addLeaf(value: number): number {
    this.feature.push(-1);
    this.threshold.push(0);
    this.left.push(-1);
    this.right.push(-1);
    this.value.push(value);
    return this.value.length - 1;
  }

  valueOf(id: number): number {
    return this.value[id]!;
  }

  /** Node id sends x[feature] <= threshold to left, the rest to right; it keeps its value. */
  split(id: number, feature: number, threshold: number, left: number, right: number): void {
    this.feature[id] = feature;
    this.threshold[id] = threshold;
    this.left[id] = left;
    this.right[id] = right;
  }

  build(): Tree {
    return {
      feature: Int32Array.from(this.feature),
      threshold: Float32Array.from(this.threshold),
      left: Int32Array.from(this.left),
      right: Int32Array.from(this.right),
      value: Float64Array.from(this.value),
    };
  }
}

/**
 * Stable partition of index[start, end): rows whose code in the column starting at codes[base] is
 * <= bin first, each side keeping its order (so row ids stay ascending within a node and later
 * reads walk forward through memory). scratch is any buffer as long as index. Returns where the
 * right-hand rows begin.
 */
export function partitionRows(
  index: Int32Array,
  scratch: Int32Array,
  start: number,
  end: number,
  codes: Uint8Array,
  base: number,
  bin: number,
): number {
  let l = start;
  let r = 0;
  // Branch-free: which side a row goes is a coin flip to the branch predictor, so write it to both
  // and advance only the matching cursor.
  for (let i = start; i < end; i++) {
    const row = index[i]!;
    const goLeft = 1 - ((bin - codes[base + row]!) >>> 31);
    index[l] = row;
    scratch[r] = row;
    l += goLeft;
    r += 1 - goLeft;
  }
  index.set(scratch.subarray(0, r), l);
  return l;
}
