/**
 * Histogram gradient boosting for binary log loss, after scikit-learn's
 * HistGradientBoostingClassifier: raw score starts at the log-odds of the training positive rate,
 * each round fits a depth-limited tree to the gradients g = p - y and hessians h = p(1 - p), a split's
 * gain is GL²/(HL+λ) + GR²/(HR+λ) - G²/(H+λ), and a leaf adds the Newton step -G/(H+λ) times the
 * learning rate. Histograms are (G, H, count) per bin; a split builds the smaller child's histogram
 * and gets the sibling's by subtracting it from the parent's.
 *
 * Early stopping (when a validation set is given): stop once its log loss has not improved by more
 * than tol for early_stopping_rounds rounds, and keep only the best round's trees. fitModel passes
 * rows held out of the training rows here, never the validation split the model is judged on.
 *
 * Longer than 300 lines because the hot loops sit beside their one caller as small standalone
 * functions, the shape V8 optimises well.
 */
import type { ModelConfig } from "../config";
import { modelConfigSchema } from "../config";
import { applyBins, fitBinEdges, type BinnedMatrix } from "./binning";
import { addTreeValues } from "./predict";
import { partitionRows, TreeBuilder } from "./tree-builder";
import type { Matrix, Tree } from "./types";

export type GradientBoostingOptions = Omit<Extract<ModelConfig, { type: "gradient_boosting" }>, "type">;

const DEFAULTS: GradientBoostingOptions = modelConfigSchema.parse({
  type: "gradient_boosting",
}) as GradientBoostingOptions;

/** sklearn's min_hessian_to_split: a child with less curvature than this is not worth a leaf. */
const MIN_HESSIAN = 1e-3;

export interface GradientBoostingContext {
  validation?: { X: Matrix; y: Uint8Array };
  onProgress?: (roundsDone: number, maxRounds: number) => void;
}

export interface GradientBoostingResult {
  model: { family: "gradient_boosting"; trees: Tree[]; baseScore: number };
  /** Rounds actually run (>= the kept trees when early stopping fired). */
  nIter: number;
  /** Number of trees kept: the round with the best validation loss (all rounds without validation). */
  bestIteration: number;
  /** Validation log loss after 0, 1, ... rounds; empty without a validation set. */
  validationLoss: number[];
}

export function fitGradientBoosting(
  X: Matrix,
  y: Uint8Array,
  options: Partial<GradientBoostingOptions>,
  context: GradientBoostingContext = {},
): GradientBoostingResult {
  const opts: GradientBoostingOptions = { ...DEFAULTS, ...options };
  const n = X.rows;
  if (y.length !== n) throw new RangeError(`X has ${n} rows but y has ${y.length}`);
  let positives = 0;
  for (let r = 0; r < n; r++) positives += y[r]!;
  if (positives === 0 || positives === n) throw new RangeError("gradient boosting needs both classes in y");
  const baseScore = Math.log(positives / (n - positives));
  const binned = applyBins(X, fitBinEdges(X, { max_bins: opts.max_bins }));

  const raw = new Float64Array(n).fill(baseScore);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  const grower = new TreeGrower(binned, grad, hess, opts);

  const validation = context.validation;
  const valRaw = validation ? new Float64Array(validation.X.rows).fill(baseScore) : undefined;
  const validationLoss = validation && valRaw ? [logLoss(valRaw, validation.y)] : [];
  const stopping = validation !== undefined && opts.early_stopping_rounds > 0;
  let best = validationLoss[0] ?? Infinity;
  let bestIteration = 0;

  const trees: Tree[] = [];
  for (let it = 1; it <= opts.max_iter; it++) {
    computeGradients(raw, y, grad, hess);
    trees.push(grower.grow(raw));
    context.onProgress?.(it, opts.max_iter);
    if (!validation || !valRaw) {
      bestIteration = it;
      continue;
    }
    addTreeValues(trees[it - 1]!, validation.X, valRaw);
    const loss = logLoss(valRaw, validation.y);
    validationLoss.push(loss);
    if (!stopping) bestIteration = it;
    else if (loss < best - opts.tol) {
      best = loss;
      bestIteration = it;
    } else if (it - bestIteration >= opts.early_stopping_rounds) break;
  }
  return {
    model: { family: "gradient_boosting", trees: trees.slice(0, bestIteration), baseScore },
    nIter: trees.length,
    bestIteration,
    validationLoss,
  };
}

/** Log-loss gradient p - y and hessian p(1 - p) at the current raw scores. */
function computeGradients(raw: Float64Array, y: Uint8Array, grad: Float64Array, hess: Float64Array): void {
  for (let r = 0; r < raw.length; r++) {
    const p = 1 / (1 + Math.exp(-raw[r]!));
    grad[r] = p - y[r]!;
    hess[r] = p * (1 - p);
  }
}

/** Mean binary log loss from raw scores: softplus(z) - y z, stable for any z. */
export function logLoss(raw: Float64Array, y: Uint8Array): number {
  let sum = 0;
  for (let r = 0; r < raw.length; r++) {
    const z = raw[r]!;
    const softplus = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
    sum += softplus - y[r]! * z;
  }
  return sum / raw.length;
}

interface GrowNode {
  id: number;
  start: number;
  end: number;
  depth: number;
  g: number;
  h: number;
  hist: Float64Array;
}

/** Grows one tree per call, reusing its index and histogram buffers across rounds. */
class TreeGrower {
  /** Row ids, grouped by node; ascending within a node (stable partitions), so reads of grad[row]
   * and codes[row] walk forward through memory rather than jumping about. */
  private readonly index: Int32Array;
  private readonly scratch: Int32Array;
  /** A node's gradients and hessians gathered into row order once per histogram, so the per-feature
   * loops read them sequentially (one scattered read per row instead of one per row and feature). */
  private readonly ordGrad: Float64Array;
  private readonly ordHess: Float64Array;
  /**
   * Two-bin (one-hot) columns, at most 32, as one bit each per row: bits[row] has bit k set when
   * the row is in bin 1 of binary[k]. A one-hot row sets one bit per categorical feature, so one
   * pass over a node's rows adds each row to ~3 cells instead of visiting ~10 columns.
   */
  private readonly binary: Int32Array;
  private readonly bits: Int32Array;
  private readonly ordBits: Int32Array;
  private readonly binarySums: Float64Array;
  private readonly offsets: Int32Array;
  private readonly histSize: number;
  private readonly pool: Float64Array[] = [];

  constructor(
    readonly binned: BinnedMatrix,
    readonly grad: Float64Array,
    readonly hess: Float64Array,
    private readonly opts: GradientBoostingOptions,
  ) {
    this.index = new Int32Array(binned.rows);
    this.scratch = new Int32Array(binned.rows);
    this.ordGrad = new Float64Array(binned.rows);
    this.ordHess = new Float64Array(binned.rows);
    this.offsets = new Int32Array(binned.cols + 1);
    for (let f = 0; f < binned.cols; f++) this.offsets[f + 1] = this.offsets[f]! + binned.nBins[f]!;
    this.histSize = 3 * this.offsets[binned.cols]!;
    const binary: number[] = [];
    for (let f = 0; f < binned.cols && binary.length < 32; f++) if (binned.nBins[f] === 2) binary.push(f);
    this.binary = Int32Array.from(binary);
    this.bits = packBits(binned, this.binary);
    this.ordBits = new Int32Array(binned.rows);
    this.binarySums = new Float64Array(3 * binary.length);
  }

  /** Grows a tree on the current gradients and adds its leaf values to the training raw scores. */
  grow(raw: Float64Array): Tree {
    const { binned, grad, hess, index, opts } = this;
    const n = binned.rows;
    for (let r = 0; r < n; r++) index[r] = r;
    const lambda = opts.l2_regularization;
    const rate = opts.learning_rate;
    const tree = new TreeBuilder();
    const addLeaf = (g: number, h: number) => tree.addLeaf(h + lambda > 0 ? (-g / (h + lambda)) * rate : 0);

    let g0 = 0;
    let h0 = 0;
    for (let r = 0; r < n; r++) {
      g0 += grad[r]!;
      h0 += hess[r]!;
    }
    const rootHist = this.buildHistogram(0, n, g0, h0, true);
    const stack: GrowNode[] = [{ id: addLeaf(g0, h0), start: 0, end: n, depth: 0, g: g0, h: h0, hist: rootHist }];
    while (stack.length > 0) {
      const node = stack.pop()!;
      const split = node.depth < opts.max_depth ? this.findSplit(node) : undefined;
      if (!split) {
        addToRaw(raw, index, node.start, node.end, tree.valueOf(node.id));
        this.pool.push(node.hist);
        continue;
      }
      const mid = partitionRows(index, this.scratch, node.start, node.end, binned.codes, split.feature * n, split.bin);
      const l = addLeaf(split.gl, split.hl);
      const rt = addLeaf(node.g - split.gl, node.h - split.hl);
      tree.split(node.id, split.feature, binned.edges[split.feature]![split.bin]!, l, rt);
      const leftSmaller = mid - node.start <= node.end - mid;
      const small = leftSmaller
        ? this.buildHistogram(node.start, mid, split.gl, split.hl)
        : this.buildHistogram(mid, node.end, node.g - split.gl, node.h - split.hl);
      const large = node.hist;
      subtractInPlace(large, small);
      const depth = node.depth + 1;
      const lNode = { id: l, start: node.start, end: mid, depth, g: split.gl, h: split.hl };
      const rNode = { id: rt, start: mid, end: node.end, depth, g: node.g - split.gl, h: node.h - split.hl };
      stack.push({ ...rNode, hist: leftSmaller ? large : small });
      stack.push({ ...lNode, hist: leftSmaller ? small : large });
    }
    return tree.build();
  }

  /** g and h are the node's gradient and hessian totals (a binary feature's bin 0 is total - bin 1). */
  private buildHistogram(start: number, end: number, g: number, h: number, isRoot = false): Float64Array {
    const hist = this.pool.pop() ?? new Float64Array(this.histSize);
    hist.fill(0);
    const { codes, rows: n, cols } = this.binned;
    const { index, offsets, binary, binarySums } = this;
    // The root's rows are 0..n-1 in order: the per-row arrays are already in node order.
    const ordGrad = isRoot ? this.grad : this.ordGrad;
    const ordHess = isRoot ? this.hess : this.ordHess;
    const ordBits = isRoot ? this.bits : this.ordBits;
    if (!isRoot) gather(index, start, end, this.grad, this.hess, this.bits, ordGrad, ordHess, ordBits);
    let k = 0;
    for (let f = 0; f < cols; f++) {
      if (k < binary.length && binary[k] === f) k++;
      else addToHistogram(hist, 3 * offsets[f]!, codes, f * n, index, ordGrad, ordHess, start, end);
    }
    if (binary.length === 0) return hist;
    addBinarySums(binarySums, ordBits, ordGrad, ordHess, end - start);
    for (let b = 0; b < binary.length; b++) {
      // Bin 1 is the summed cell; bin 0 is the node total minus it.
      const off = 3 * offsets[binary[b]!]!;
      hist[off] = g - binarySums[3 * b]!;
      hist[off + 1] = h - binarySums[3 * b + 1]!;
      hist[off + 2] = end - start - binarySums[3 * b + 2]!;
      hist[off + 3] = binarySums[3 * b]!;
      hist[off + 4] = binarySums[3 * b + 1]!;
      hist[off + 5] = binarySums[3 * b + 2]!;
    }
    return hist;
  }

  private findSplit(node: GrowNode): SplitCandidate | undefined {
    const { opts, offsets, binned } = this;
    const count = node.end - node.start;
    if (count < 2 * opts.min_samples_leaf) return undefined;
    const best: SplitCandidate = { gain: 0, feature: -1, bin: -1, gl: 0, hl: 0 };
    for (let f = 0; f < binned.cols; f++)
      scanFeature(node.hist, 3 * offsets[f]!, binned.nBins[f]!, f, node, opts.min_samples_leaf, opts.l2_regularization, best);
    return best.feature >= 0 ? best : undefined;
  }
}

interface SplitCandidate {
  gain: number;
  feature: number;
  bin: number;
  gl: number;
  hl: number;
}

/**
 * Updates best with feature f's best split. The gain must be strictly positive (sklearn's
 * min_gain_to_split = 0) and strictly better than the best so far, so the first of equals wins.
 */
function scanFeature(
  hist: Float64Array,
  off: number,
  nb: number,
  f: number,
  node: GrowNode,
  minLeaf: number,
  lambda: number,
  best: SplitCandidate,
): void {
  const { g, h } = node;
  const count = node.end - node.start;
  const parentScore = (g * g) / (h + lambda);
  let gl = 0;
  let hl = 0;
  let nl = 0;
  for (let b = 0; b < nb - 1; b++) {
    const k = off + 3 * b;
    gl += hist[k]!;
    hl += hist[k + 1]!;
    nl += hist[k + 2]!;
    if (nl < minLeaf) continue;
    if (count - nl < minLeaf) break;
    const hr = h - hl;
    if (hl < MIN_HESSIAN || hr < MIN_HESSIAN) continue;
    const gr = g - gl;
    const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
    if (gain > best.gain) {
      best.gain = gain;
      best.feature = f;
      best.bin = b;
      best.gl = gl;
      best.hl = hl;
    }
  }
}

function subtractInPlace(large: Float64Array, small: Float64Array): void {
  for (let k = 0; k < large.length; k++) large[k]! -= small[k]!;
}

function addToRaw(raw: Float64Array, index: Int32Array, start: number, end: number, v: number): void {
  for (let i = start; i < end; i++) raw[index[i]!]! += v;
}

// Hot loops as small standalone functions, which V8 optimises far better than inlined in a big method.
// ordGrad/ordHess hold the node's rows in index order starting at 0 (index position i -> i - start).

function gather(
  index: Int32Array,
  start: number,
  end: number,
  grad: Float64Array,
  hess: Float64Array,
  bits: Int32Array,
  ordGrad: Float64Array,
  ordHess: Float64Array,
  ordBits: Int32Array,
): void {
  for (let i = start; i < end; i++) {
    const r = index[i]!;
    ordGrad[i - start] = grad[r]!;
    ordHess[i - start] = hess[r]!;
    ordBits[i - start] = bits[r]!;
  }
}

function addToHistogram(
  hist: Float64Array,
  off: number,
  codes: Uint8Array,
  base: number,
  index: Int32Array,
  ordGrad: Float64Array,
  ordHess: Float64Array,
  start: number,
  end: number,
): void {
  for (let i = start, j = 0; i < end; i++, j++) {
    const k = off + 3 * codes[base + index[i]!]!;
    hist[k]! += ordGrad[j]!;
    hist[k + 1]! += ordHess[j]!;
    hist[k + 2]!++;
  }
}

/** sums[3k..3k+2] = (G, H, count) of the rows whose bit k is set. */
function addBinarySums(sums: Float64Array, ordBits: Int32Array, ordGrad: Float64Array, ordHess: Float64Array, len: number): void {
  sums.fill(0);
  for (let j = 0; j < len; j++) {
    let m = ordBits[j]!;
    const g = ordGrad[j]!;
    const h = ordHess[j]!;
    while (m !== 0) {
      const k = 3 * (31 - Math.clz32(m & -m));
      sums[k]! += g;
      sums[k + 1]! += h;
      sums[k + 2]!++;
      m &= m - 1;
    }
  }
}

function packBits(binned: BinnedMatrix, binary: Int32Array): Int32Array {
  const { rows: n, codes } = binned;
  const bits = new Int32Array(n);
  for (let k = 0; k < binary.length; k++) {
    const base = binary[k]! * n;
    for (let r = 0; r < n; r++) bits[r]! |= codes[base + r]! << k;
  }
  return bits;
}
