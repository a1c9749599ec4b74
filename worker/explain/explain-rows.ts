/**
 * Per-feature contributions for design rows (the graph's `design` output): interventional SHAP
 * against the explainer's background, exact. Trees: interventional-tree-shap.ts. Logistic
 * regression: closed form, coef · (x - mean background row) per column, summed per feature.
 * base_value + Σ contributions = the model's output on the row in the explainer's space (the
 * probability for a forest, the margin logit(p) for boosting and logistic regression).
 */
import type { Explainer, Explanation } from "../contract/explainer";
import { type CompiledExplainer, type CompiledLinear, type CompiledTrees, compileExplainer } from "./compile-explainer";
import { addTreeShap, type TreeShapScratch, treeShapScratch } from "./interventional-tree-shap";
import { addMaskShap, compileLeafMasks, compileMaskForm, type LeafMasks, type MaskForm, type MaskScratch, maskScratch } from "./leaf-mask-shap";

export interface ExplainOptions {
  /**
   * Explain against the first n background rows only (default: all). The trainer stores the
   * background in the order it was drawn, so a prefix is itself a random sample: fewer rows cost
   * proportionally less and explain against a noisier baseline.
   */
  backgroundRows?: number;
}

interface Prepared {
  compiled: CompiledExplainer;
  scratch: TreeShapScratch | null;
  /** Trees: the leaf-mask form, or null when a path is too wide for it (then addTreeShap). */
  masks: MaskForm | null;
  maskScratch: MaskScratch | null;
  /** Leaf histograms for the last background prefix asked for (see ExplainOptions.backgroundRows). */
  prefix: { rows: number; leaves: LeafMasks[] } | null;
}

const prepared = new WeakMap<Explainer, Prepared>();

/** The compiled form of a parsed explainer, built on first use and kept while the object lives. */
export function preparedExplainer(explainer: Explainer): CompiledExplainer {
  return prepare(explainer).compiled;
}

/**
 * Approximate memory of the compiled form (typed arrays of the compiled trees and the leaf-mask
 * histograms, including a cached background prefix), in bytes.
 */
export function preparedBytes(explainer: Explainer): number {
  const seen = new Set<ArrayBufferLike>();
  let bytes = 0;
  const walk = (v: unknown): void => {
    if (ArrayBuffer.isView(v)) {
      if (!seen.has(v.buffer)) bytes += v.buffer.byteLength;
      seen.add(v.buffer);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(prepare(explainer));
  return bytes;
}

function prepare(explainer: Explainer): Prepared {
  let p = prepared.get(explainer);
  if (!p) {
    const compiled = compileExplainer(explainer);
    const trees = compiled.model.kind === "trees" ? compiled.model : null;
    const masks = trees ? compileMaskForm(compiled, trees) : null;
    p = {
      compiled,
      scratch: trees ? treeShapScratch(compiled, trees) : null,
      masks,
      maskScratch: trees && masks ? maskScratch(trees, masks) : null,
      prefix: null,
    };
    prepared.set(explainer, p);
  }
  return p;
}

/**
 * Explains each design row: a row-major Float32Array of N × width values, or one array per row
 * (its numbers are compared as float32, as the graph does).
 */
export function explainRows(explainer: Explainer, designRows: Float32Array | readonly (readonly number[])[], opts: ExplainOptions = {}): Explanation[] {
  const p = prepare(explainer);
  const { compiled, scratch, masks } = p;
  const n = backgroundCount(compiled, opts.backgroundRows);
  const { width } = compiled;
  const data = designRows instanceof Float32Array ? designRows : flatten(designRows, width);
  if (data.length % width !== 0) throw new RangeError(`design rows hold ${data.length} values, not a multiple of the width ${width}`);
  const rows = data.length / width;
  const base = mean(compiled.backgroundOutput, n);
  const groups = compiled.features.length;
  const out: Explanation[] = [];
  const model = compiled.model;
  if (model.kind === "linear") {
    const centre = backgroundMean(compiled, n);
    for (let r = 0; r < rows; r++) out.push({ base_value: base, contributions: linearContributions(compiled, model, centre, data, r * width) });
    return out;
  }
  const factor = model.scale / n;
  const leaves = masks ? leafMasksFor(p, model, masks, n) : null;
  if (masks) {
    const acc = new Float64Array(rows * groups);
    addMaskShap(model, masks, leaves!, p.maskScratch!, scratch!, data, rows, width, acc);
    for (let r = 0; r < rows; r++) out.push({ base_value: base, contributions: Array.from(acc.subarray(r * groups, (r + 1) * groups), (v) => v * factor) });
    return out;
  }
  const acc = new Float64Array(groups);
  for (let r = 0; r < rows; r++) {
    acc.fill(0);
    addTreeShap(compiled, model, scratch!, data, r * width, n, acc);
    out.push({ base_value: base, contributions: Array.from(acc, (v) => v * factor) });
  }
  return out;
}

/** The leaf histograms over the first n background rows: compiled with the explainer for all of them, on demand (one prefix kept) for fewer. */
function leafMasksFor(p: Prepared, model: CompiledTrees, masks: MaskForm, n: number): LeafMasks[] {
  if (n === p.compiled.backgroundRows) return masks.leaves;
  if (p.prefix?.rows !== n) p.prefix = { rows: n, leaves: compileLeafMasks(p.compiled, model, masks.trees, n) };
  return p.prefix.leaves;
}

function linearContributions(compiled: CompiledExplainer, model: CompiledLinear, centre: Float64Array, data: Float32Array, offset: number): number[] {
  const contributions = new Array<number>(compiled.features.length).fill(0);
  for (let c = 0; c < compiled.width; c++) contributions[compiled.columnGroup[c]!]! += model.coef[c]! * (data[offset + c]! - centre[c]!);
  return contributions;
}

function backgroundMean(compiled: CompiledExplainer, n: number): Float64Array {
  const { width, background } = compiled;
  const centre = new Float64Array(width);
  for (let r = 0; r < n; r++) for (let c = 0; c < width; c++) centre[c]! += background[r * width + c]!;
  for (let c = 0; c < width; c++) centre[c]! /= n;
  return centre;
}

function backgroundCount(compiled: CompiledExplainer, requested: number | undefined): number {
  if (requested === undefined) return compiled.backgroundRows;
  if (!Number.isInteger(requested) || requested < 1 || requested > compiled.backgroundRows)
    throw new RangeError(`backgroundRows must be a whole number from 1 to ${compiled.backgroundRows}, got ${requested}`);
  return requested;
}

function mean(values: Float64Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  return sum / n;
}

function flatten(rows: readonly (readonly number[])[], width: number): Float32Array {
  const data = new Float32Array(rows.length * width);
  rows.forEach((row, r) => {
    if (row.length !== width) throw new RangeError(`design row ${r} has ${row.length} values, the width is ${width}`);
    data.set(row, r * width);
  });
  return data;
}
