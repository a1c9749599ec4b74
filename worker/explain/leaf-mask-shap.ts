/**
 * Exact interventional TreeSHAP by leaf masks: the same numbers as interventional-tree-shap.ts
 * (which stays as the fallback and the reference), computed leaf by leaf instead of per
 * (node, feature state).
 *
 * For a leaf, number the distinct players on its path 0..p-1 (in order of first appearance from
 * the root, so a split's number is shared by every leaf below it). Each player's splits on the
 * path make one constraint; M_x is the set of players whose constraint row x fails, M_z those a
 * background row z fails. The hybrid of x and z reaches the leaf for coalition S iff M_z ⊆ S and
 * M_x ∩ S = ∅: never when M_x ∩ M_z ≠ ∅, otherwise with A = M_z, B = M_x the leaf's value v adds
 *   i ∈ A: +v (a-1)! b! / (a+b)!,   j ∈ B: -v a! (b-1)! / (a+b)!
 * to the pair's Shapley values (the game in interventional-tree-shap.ts).
 *
 * Compile time, once per explainer and background size: per leaf, the histogram of M_z over the
 * background rows (distinct masks with their counts) and an index of it by player. Per row and
 * tree: one pass over the nodes in preorder computes M_x at every leaf (x fails a player's
 * constraint where the path leaves x's way); each leaf reads, through the index, only the masks
 * disjoint from M_x, and credits its players. A batch walks tree by tree, all its rows at once,
 * and computes a leaf's shares once per distinct M_x among them. Nothing is skipped: tracking
 * which background rows stay compatible (to skip subtrees) pruned about a third of the leaves of
 * the default forest and cost about what it saved.
 */
import type { CompiledExplainer, CompiledTree, CompiledTrees } from "./compile-explainer";

/** Path numbering of one tree; independent of how many background rows are used. */
export interface MaskTree {
  /** Per split: its player's number on the path (0..15); -1 for a leaf. */
  bit: Int8Array;
  /** Per node: how many distinct players its path has split on (a leaf's p). */
  width: Uint8Array;
}

/**
 * Per tree, the leaves' background mask histograms for one background size, each leaf one block
 * of `data` (so that a leaf costs one or two cache lines), in preorder:
 *  - word 0: the leaf's value as float32 (the graph's leaves are float32);
 *  - word 1: E | p << 24, E its entries, p its distinct path players;
 *  - ceil(p / 2) words: the players (feature indices) of path numbers 0..p-1, 16 bits each;
 *  - p × W words (W = ceil(E / 32)), an index by player: word i × W + w has bit e set when entry
 *    32w + e holds player i, so the entries compatible with M_x are those in no word of M_x's
 *    players, found without reading the others;
 *  - E entries, one distinct mask each: mask | count << 16 (a count above 65535 takes several).
 */
export interface LeafMasks {
  /** Per node: where its block starts (leaves only). */
  at: Int32Array;
  data: Uint32Array;
  /** data's float32 view, for the leaf values. */
  values: Float32Array;
}

export interface MaskForm {
  trees: MaskTree[];
  /** Leaf histograms over all the explainer's background rows. */
  leaves: LeafMasks[];
}

/** Widest path (distinct players) the packed entries hold. */
const MAX_PLAYERS = 16;

/**
 * The mask form of a compiled tree model, or null when some path has more than 16 distinct
 * players or the model more than 65535 (then the caller keeps the per-state algorithm).
 */
export function compileMaskForm(compiled: CompiledExplainer, model: CompiledTrees): MaskForm | null {
  // Leaf blocks name players in 16 bits.
  if (compiled.features.length > 0xffff) return null;
  const trees: MaskTree[] = [];
  for (const tree of model.trees) {
    const t = compileMaskTree(tree, compiled.features.length);
    if (!t) return null;
    trees.push(t);
  }
  return { trees, leaves: compileLeafMasks(compiled, model, trees, compiled.backgroundRows) };
}

function compileMaskTree(tree: CompiledTree, groups: number): MaskTree | null {
  const n = tree.column.length;
  const bit = new Int8Array(n).fill(-1);
  const width = new Uint8Array(n);
  const bitOf = new Int8Array(groups).fill(-1);
  let used = 0;
  let ok = true;
  const walk = (node: number): void => {
    width[node] = used;
    if (!ok || tree.column[node]! < 0) return;
    const g = tree.group[node]!;
    const fresh = bitOf[g]! < 0;
    if (fresh) {
      if (used === MAX_PLAYERS) {
        ok = false;
        return;
      }
      bitOf[g] = used++;
    }
    bit[node] = bitOf[g]!;
    walk(node + 1);
    walk(tree.right[node]!);
    if (fresh) {
      bitOf[g] = -1;
      used--;
    }
  };
  walk(0);
  return ok ? { bit, width } : null;
}

/** The leaves' histograms of background masks over the first `rows` background rows. */
export function compileLeafMasks(compiled: CompiledExplainer, model: CompiledTrees, trees: readonly MaskTree[], rows: number): LeafMasks[] {
  const { background, width } = compiled;
  const masks = new Int32Array((model.depth + 2) * rows);
  // The background column-major, so that a split reads its column's rows in a row.
  const byColumn = new Float32Array(width * rows);
  for (let r = 0; r < rows; r++) for (let c = 0; c < width; c++) byColumn[c * rows + r] = background[r * width + c]!;
  const dense = new Int32Array(1 << 12);
  const touched: number[] = [];
  return model.trees.map((tree, t) => {
    const { bit, width: players } = trees[t]!;
    const n = tree.column.length;
    const at = new Int32Array(n);
    let data = new Uint32Array(1 << 12);
    let length = 0;
    const entry: number[] = [];
    const add = (m: number, k: number): void => {
      for (; k > 0xffff; k -= 0xffff) entry.push((m | (0xffff << 16)) >>> 0);
      entry.push((m | (k << 16)) >>> 0);
    };
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    const playerOf = new Int32Array(MAX_PLAYERS);
    const walk = (node: number, level: number): void => {
      const c = tree.column[node]!;
      const src = level * rows;
      if (c < 0) {
        const p = players[node]!;
        if (p <= 12) {
          for (let r = 0; r < rows; r++) {
            const m = masks[src + r]!;
            if (dense[m] === 0) touched.push(m);
            dense[m]!++;
          }
          for (const m of touched) {
            add(m, dense[m]!);
            dense[m] = 0;
          }
          touched.length = 0;
        } else {
          const seen = new Map<number, number>();
          for (let r = 0; r < rows; r++) seen.set(masks[src + r]!, (seen.get(masks[src + r]!) ?? 0) + 1);
          for (const [m, k] of seen) add(m, k);
        }
        const e = entry.length;
        const words = (e + 31) >>> 5;
        const size = 2 + ((p + 1) >>> 1) + p * words + e;
        if (length + size > data.length) {
          const grown = new Uint32Array(Math.max(2 * data.length, length + size));
          grown.set(data.subarray(0, length));
          data = grown;
        }
        at[node] = length;
        f32[0] = tree.value[node]!;
        data[length] = u32[0]!;
        data[length + 1] = e | (p << 24);
        for (let i = 0; i < p; i += 2) data[length + 2 + (i >>> 1)] = playerOf[i]! | (i + 1 < p ? playerOf[i + 1]! << 16 : 0);
        const index = length + 2 + ((p + 1) >>> 1);
        for (let j = 0; j < e; j++) for (let q = entry[j]! & 0xffff; q !== 0; q &= q - 1) data[index + (31 - Math.clz32(q & -q)) * words + (j >>> 5)]! |= 1 << (j & 31);
        data.set(entry, index + p * words);
        length += size;
        entry.length = 0;
        return;
      }
      playerOf[bit[node]!] = tree.group[node]!;
      const b = 1 << bit[node]!;
      const thr = tree.threshold[node]!;
      const dst = src + rows;
      const col = c * rows;
      for (let r = 0; r < rows; r++) masks[dst + r] = masks[src + r]! | (byColumn[col + r]! <= thr ? 0 : b);
      walk(node + 1, level + 1);
      for (let r = 0; r < rows; r++) masks[dst + r] = masks[src + r]! | (byColumn[col + r]! <= thr ? b : 0);
      walk(tree.right[node]!, level + 1);
    };
    masks.fill(0, 0, rows);
    walk(0, 0);
    const packed = data.slice(0, length);
    return { at, data: packed, values: new Float32Array(packed.buffer) };
  });
}

/**
 * Rows whose M_x are computed together per tree: as many as 2^17 M_x values (512 KiB of
 * scratch) hold for the largest tree, at most 256 (the default forest: 256; MAX_EXPLAIN_ROWS is
 * 100, so a request's batch is one chunk and its rows share every leaf's memo).
 */
const CHUNK_VALUES = 1 << 17;
const MAX_CHUNK = 256;
/** Memoize a leaf's shares by M_x when leaves have at most this many players (2^12 slots). */
const MEMO_PLAYERS = 12;

/** Scratch space reused across rows of one explainer. */
export interface MaskScratch {
  /** Rows per chunk. */
  chunk: number;
  /** chunk × nodes of the largest tree: M_x of row j at node i in j × nodes + i. */
  failed: Int32Array;
  /** Per path number: Σ count · wPos over a leaf's compatible masks holding it. */
  pos: Float64Array;
  /** Widest leaf (players); memo slots are M_x when it is at most MEMO_PLAYERS, else slot 0 only. */
  players: number;
  /**
   * Per slot, the shares a leaf adds for one M_x: up to `players` (feature, amount) pairs, valid
   * while stamp[slot] equals the leaf's generation. Rows of a batch reaching a leaf with the same
   * M_x (common: few players, many rows) reuse them.
   */
  stamp: Float64Array;
  length: Int32Array;
  feature: Int32Array;
  amount: Float64Array;
  generation: number;
}

export function maskScratch(model: CompiledTrees, form: MaskForm): MaskScratch {
  let players = 1;
  for (const t of form.trees) for (const w of t.width) players = Math.max(players, w);
  const slots = players <= MEMO_PLAYERS ? 1 << players : 1;
  const nodes = model.trees.reduce((most, t) => Math.max(most, t.column.length), 0);
  const chunk = Math.max(1, Math.min(MAX_CHUNK, Math.floor(CHUNK_VALUES / nodes)));
  return {
    chunk,
    failed: new Int32Array(chunk * nodes),
    pos: new Float64Array(MAX_PLAYERS),
    players,
    stamp: new Float64Array(slots),
    length: new Int32Array(slots),
    feature: new Int32Array(slots * players),
    amount: new Float64Array(slots * players),
    generation: 0,
  };
}

/**
 * For each of `rows` design rows in `x` (row-major, `width` values each), adds to its slots of
 * `out` (row r: r × features .. + features) Σ over trees and background rows of the per-pair
 * Shapley values, unscaled, as addTreeShap does for one row. `leaves` are the histograms over the
 * background rows in use; `wPos`, `wNeg` and `k` the weight tables of TreeShapScratch.
 *
 * Trees are the outer loop, so a batch reads each tree's compiled form once while it is in cache.
 * Per tree and chunk of rows, one pass over the nodes in preorder (parents before children): a
 * split hands each row's M_x to its children, adding its player on the side the row does not
 * take; a leaf adds, to each row, its shares for the row's M_x, computed once per distinct M_x.
 */
export function addMaskShap(
  model: CompiledTrees,
  form: MaskForm,
  leaves: LeafMasks[],
  scratch: MaskScratch,
  weights: { wPos: Float64Array; wNeg: Float64Array; k: number },
  x: ArrayLike<number>,
  rows: number,
  width: number,
  out: Float64Array,
): void {
  const { failed, pos, stamp, length, feature, amount, players: slotSize } = scratch;
  const memo = stamp.length > 1;
  const { wPos, wNeg, k } = weights;
  const features = out.length / rows;
  for (let t = 0; t < model.trees.length; t++) {
    const { column, threshold, right } = model.trees[t]!;
    const bit = form.trees[t]!.bit;
    const { at, data, values } = leaves[t]!;
    const n = column.length;
    for (let r0 = 0; r0 < rows; r0 += scratch.chunk) {
      const chunk = Math.min(scratch.chunk, rows - r0);
      // A lone row adds each leaf's shares as it finds them; a chunk keeps them for rows to come.
      const direct = chunk === 1;
      for (let j = 0; j < chunk; j++) failed[j * n] = 0;
      // Preorder: a node's M_x (per row) is set by its parent before the node is reached.
      for (let node = 0; node < n; node++) {
        const c = column[node]!;
        if (c >= 0) {
          const pb = 1 << bit[node]!;
          const thr = threshold[node]!;
          const l = node + 1;
          const rt = right[node]!;
          for (let j = 0, xo = r0 * width + c, base = 0; j < chunk; j++, xo += width, base += n) {
            const mx = failed[base + node]!;
            const xLeft = x[xo]! <= thr;
            failed[base + l] = xLeft ? mx : mx | pb;
            failed[base + rt] = xLeft ? mx | pb : mx;
          }
          continue;
        }
        const block = at[node]!;
        const head = data[block + 1]!;
        const entries = head & 0xffffff;
        const p = head >>> 24;
        const words = (entries + 31) >>> 5;
        const players = block + 2;
        const index = players + ((p + 1) >>> 1);
        const from = index + p * words;
        const generation = ++scratch.generation;
        for (let j = 0; j < chunk; j++) {
          const mx = failed[j * n + node]!;
          const slot = memo ? mx : 0;
          const to = slot * slotSize;
          const o = (r0 + j) * features;
          if (direct || stamp[slot] !== generation) {
            // This leaf's shares for this M_x: +v Σ count · wPos over the compatible masks holding
            // each player, -v Σ count · wNeg over all compatible masks for each player of M_x.
            stamp[slot] = generation;
            const b = popcount(mx);
            let neg = 0;
            let touched = 0;
            for (let w = 0; w < words; w++) {
              let good = w === words - 1 && (entries & 31) !== 0 ? (1 << (entries & 31)) - 1 : -1;
              for (let m = mx; m !== 0; m &= m - 1) good &= ~data[index + (31 - Math.clz32(m & -m)) * words + w]!;
              for (; good !== 0; good &= good - 1) {
                const packed = data[from + w * 32 + (31 - Math.clz32(good & -good))]!;
                const m = packed & 0xffff;
                const a = popcount(m);
                const cnt = packed >>> 16;
                neg += cnt * wNeg[a * k + b]!;
                if (a === 0) continue;
                const wa = cnt * wPos[a * k + b]!;
                touched |= m;
                for (let q = m; q !== 0; q &= q - 1) pos[31 - Math.clz32(q & -q)]! += wa;
              }
            }
            let count = 0;
            // No background row compatible with x here (about a third of the leaves): nothing to add.
            if (neg !== 0 || touched !== 0) {
              const v = values[block]!;
              for (let q = touched; q !== 0; q &= q - 1) {
                const i = 31 - Math.clz32(q & -q);
                const f = (data[players + (i >>> 1)]! >>> ((i & 1) << 4)) & 0xffff;
                if (direct) out[o + f]! += v * pos[i]!;
                else {
                  feature[to + count] = f;
                  amount[to + count++] = v * pos[i]!;
                }
                pos[i] = 0;
              }
              const d = -(v * neg);
              for (let q = b === 0 ? 0 : mx; q !== 0; q &= q - 1) {
                const i = 31 - Math.clz32(q & -q);
                const f = (data[players + (i >>> 1)]! >>> ((i & 1) << 4)) & 0xffff;
                if (direct) out[o + f]! += d;
                else {
                  feature[to + count] = f;
                  amount[to + count++] = d;
                }
              }
            }
            length[slot] = count;
            if (direct) continue;
          }
          for (let q = to, end = to + length[slot]!; q < end; q++) out[o + feature[q]!]! += amount[q]!;
        }
      }
    }
  }
}

function popcount(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}
