import type { Tree } from "./types";

/** Node lists grown during fitting, packed into the typed arrays of a Tree. */
export function packTree(nodes: { feature: number[]; threshold: number[]; left: number[]; right: number[]; value: number[] }): Tree {
  return {
    feature: Int32Array.from(nodes.feature),
    threshold: Float32Array.from(nodes.threshold),
    left: Int32Array.from(nodes.left),
    right: Int32Array.from(nodes.right),
    value: Float64Array.from(nodes.value),
  };
}
