/**
 * Quantile pre-binning for the histogram tree learners. Each column becomes small integer codes so a
 * node's split search is a pass over at most max_bins histogram cells instead of a sort.
 *
 * A bin is defined by float32 upper edges: bin(x) = the first b with x <= edges[b], else the last
 * bin. Because edges are strictly increasing, `bin(x) <= b` holds exactly when `x <= edges[b]` for
 * ANY float32 x, so a split learned on codes is the same split the tree (and the ONNX graph) applies
 * to raw values. Edges sit at float32 midpoints between adjacent training values, as scikit-learn
 * places thresholds, falling back to the lower value when the midpoint rounds onto the upper one.
 */
import type { Matrix } from "./types";

export interface BinningOptions {
  /** At most this many bins per column (codes are Uint8, so <= 256). */
  max_bins: number;
}

const DEFAULTS: BinningOptions = { max_bins: 255 };

export interface BinnedMatrix {
  rows: number;
  cols: number;
  /** Column-major codes, codes[c * rows + r], so one feature's histogram reads one contiguous run. */
  codes: Uint8Array;
  /** edges[c][b]: float32 upper edge of bin b; column c has edges[c].length + 1 bins. */
  edges: Float32Array[];
  /** nBins[c] = edges[c].length + 1. */
  nBins: Int32Array;
}

/** Learns each column's bin edges from the training matrix. */
export function fitBinEdges(X: Matrix, options: Partial<BinningOptions> = {}): Float32Array[] {
  const { max_bins: maxBins } = { ...DEFAULTS, ...options };
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > 256)
    throw new RangeError(`max_bins must be an integer in [2, 256], got ${maxBins}`);
  const column = new Float32Array(X.rows);
  const edges: Float32Array[] = [];
  for (let c = 0; c < X.cols; c++) {
    for (let r = 0; r < X.rows; r++) {
      const v = X.data[r * X.cols + c]!;
      if (Number.isNaN(v)) throw new RangeError(`column ${c} row ${r} is NaN; the design matrix must be imputed`);
      column[r] = v;
    }
    column.sort();
    edges.push(columnEdges(column, maxBins));
  }
  return edges;
}

/** Cuts between distinct values: one bin per value when they fit, else equal-count quantile bins. */
function columnEdges(sorted: Float32Array, maxBins: number): Float32Array {
  const n = sorted.length;
  const values: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = sorted[i]!;
    // -0 and +0 compare equal, so they share a bin as they share every threshold test.
    if (values.length > 0 && values[values.length - 1] === v) counts[counts.length - 1]!++;
    else {
      values.push(v);
      counts.push(1);
    }
  }
  const cuts: number[] = []; // index j: cut between values[j] and values[j + 1]
  if (values.length <= maxBins) {
    for (let j = 0; j + 1 < values.length; j++) cuts.push(j);
  } else {
    // Greedy equal-count targets; a heavy value (an imputed median, say) simply fills several targets.
    let k = 1;
    let cum = 0;
    for (let j = 0; j + 1 < values.length && k < maxBins; j++) {
      cum += counts[j]!;
      if (cum >= (k * n) / maxBins) {
        cuts.push(j);
        while (k < maxBins && cum >= (k * n) / maxBins) k++;
      }
    }
  }
  const edges = new Float32Array(cuts.length);
  for (let i = 0; i < cuts.length; i++) edges[i] = separatingEdge(values[cuts[i]!]!, values[cuts[i]! + 1]!);
  return edges;
}

/** A float32 t with lo <= t < hi: the midpoint when it stays below hi, else lo itself. */
export function separatingEdge(lo: number, hi: number): number {
  const mid = Math.fround(lo / 2 + hi / 2);
  return mid >= lo && mid < hi ? mid : lo;
}

/** The bin of one value: the first edge it does not exceed (binary search). */
export function binOf(edges: Float32Array, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Codes X with previously learned edges (training or validation rows alike). */
export function applyBins(X: Matrix, edges: Float32Array[]): BinnedMatrix {
  if (edges.length !== X.cols) throw new RangeError(`expected ${edges.length} columns, got ${X.cols}`);
  const { rows, cols, data } = X;
  const codes = new Uint8Array(rows * cols);
  const nBins = new Int32Array(cols);
  for (let c = 0; c < cols; c++) {
    const e = edges[c]!;
    nBins[c] = e.length + 1;
    if (e.length > 255) throw new RangeError(`column ${c} has ${e.length + 1} bins; codes hold at most 256`);
    const base = c * rows;
    for (let r = 0; r < rows; r++) codes[base + r] = binOf(e, data[r * cols + c]!);
  }
  return { rows, cols, codes, edges, nBins };
}

/** fitBinEdges then applyBins on the same matrix. */
export function binMatrix(X: Matrix, options: Partial<BinningOptions> = {}): BinnedMatrix {
  return applyBins(X, fitBinEdges(X, options));
}
