/**
 * Median imputation, standard scaling and one-hot encoding, fitted on the training split only and
 * written in the manifest's `preprocessing` shape. `transform` reproduces the ONNX graph's float32
 * arithmetic step by step (the contract the graph builder follows), because trees branch on exact
 * float32 comparisons and the parity check allows 1e-5:
 *   v = fround(raw); missing -> v = impute; z = fround(fround(v - mean) * scale)
 * Columns: numeric features in order, then one column per category of each categorical feature.
 */
import type { FeatureRow, Manifest } from "../worker/contract/manifest";
import type { RawColumns } from "./data/load-csv";
import { DataError } from "./data/data-error";
import type { Matrix } from "./models/types";

export type Preprocessing = Manifest["preprocessing"];

export interface FitPreprocessingOptions {
  /** Feature order; defaults to the order of the columns' keys. */
  numeric?: string[];
  categorical?: string[];
  /** Columns filled with a constant at load time: serving imputes the same constant. */
  imputeConstants?: Record<string, number>;
}

export interface ObservedStats {
  count: number;
  min: number;
  max: number;
  mean: number;
  median: number;
}

export function fitPreprocessing(train: RawColumns, options: FitPreprocessingOptions = {}): Preprocessing {
  const numericNames = options.numeric ?? Object.keys(train.numeric);
  const categoricalNames = options.categorical ?? Object.keys(train.categorical);
  const numeric = numericNames.map((name) => {
    const column = train.numeric[name];
    if (!column) throw new Error(`no numeric column ${name} to fit`);
    const stats = observedStats(column);
    const constant = options.imputeConstants?.[name];
    if (stats.count === 0 && constant === undefined)
      throw new DataError(`numeric feature ${name} has no values in the training split to take a median from`);
    const impute = constant ?? stats.median;
    const { mean, std } = imputedMoments(column, impute);
    return { name, impute: Math.fround(impute), mean: Math.fround(mean), scale: Math.fround(std === 0 ? 1 : 1 / std) };
  });
  const categorical = categoricalNames.map((name) => {
    const column = train.categorical[name];
    if (!column) throw new Error(`no categorical column ${name} to fit`);
    // "" is the missing marker and always encodes as all zeros, so it is never a category.
    const categories = [...new Set(column)].filter((v) => v !== "").sort(compareCodeUnits);
    if (categories.length === 0) throw new DataError(`categorical feature ${name} has no values in the training split`);
    return { name, categories, handle_unknown: "ignore" as const };
  });
  return { numeric, categorical };
}

/** Width of the design matrix. */
export function encodedWidth(pre: Preprocessing): number {
  return pre.numeric.length + pre.categorical.reduce((n, c) => n + c.categories.length, 0);
}

/** Rows count comes from the columns; a categorical value missing from `categories` encodes as zeros. */
export function transform(pre: Preprocessing, columns: RawColumns): Matrix {
  const rows = columnLength(pre, columns);
  const cols = encodedWidth(pre);
  const data = new Float32Array(rows * cols);
  let offset = 0;
  for (const { name, impute, mean, scale } of pre.numeric) {
    const column = columns.numeric[name]!;
    for (let r = 0; r < rows; r++) {
      let v = Math.fround(column[r]!);
      if (Number.isNaN(v)) v = impute;
      data[r * cols + offset] = Math.fround(Math.fround(v - mean) * scale);
    }
    offset++;
  }
  for (const { name, categories } of pre.categorical) {
    const column = columns.categorical[name]!;
    const position = new Map(categories.map((c, i) => [c, i]));
    for (let r = 0; r < rows; r++) {
      const hit = position.get(column[r]!);
      if (hit !== undefined) data[r * cols + offset + hit] = 1;
    }
    offset += categories.length;
  }
  return { data, rows, cols };
}

/** JSON-like rows as the worker receives them: null or absent is missing. */
export function transformRows(pre: Preprocessing, rows: FeatureRow[]): Matrix {
  return transform(pre, rowsToColumns(pre, rows));
}

export function rowsToColumns(pre: Preprocessing, rows: FeatureRow[]): RawColumns {
  const columns: RawColumns = { numeric: {}, categorical: {} };
  for (const { name } of pre.numeric)
    columns.numeric[name] = Float64Array.from(rows, (row, i) => {
      const value = row[name];
      if (value === null || value === undefined) return Number.NaN;
      if (typeof value !== "number") throw new TypeError(`row ${i}: ${name} must be a number or null, got ${JSON.stringify(value)}`);
      return value;
    });
  for (const { name } of pre.categorical)
    columns.categorical[name] = rows.map((row) => {
      const value = row[name];
      return value === null || value === undefined ? "" : String(value);
    });
  return columns;
}

/** Count, min, max, mean and median of the non-NaN values. */
export function observedStats(column: Float64Array): ObservedStats {
  // A plain loop, not filter(): TypedArray filter calls back per element, ~20x slower at 1M rows.
  const present = new Float64Array(column.length);
  let n = 0;
  for (let i = 0; i < column.length; i++) if (!Number.isNaN(column[i]!)) present[n++] = column[i]!;
  const values = present.subarray(0, n).sort();
  if (n === 0) return { count: 0, min: Number.NaN, max: Number.NaN, mean: Number.NaN, median: Number.NaN };
  let sum = 0;
  for (const v of values) sum += v;
  const mid = n >> 1;
  const median = n % 2 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
  return { count: n, min: values[0]!, max: values[n - 1]!, mean: sum / n, median };
}

/**
 * Mean and population std (ddof 0) of the column with NaN replaced by `impute`, two-pass for
 * accuracy. A variance within rounding error of zero counts as constant (std 0), as scikit-learn's
 * StandardScaler does, so a constant column is not blown up by a scale of 1e17.
 */
function imputedMoments(column: Float64Array, impute: number): { mean: number; std: number } {
  const n = column.length;
  let sum = 0;
  for (const v of column) sum += Number.isNaN(v) ? impute : v;
  const mean = sum / n;
  let squares = 0;
  for (const v of column) {
    const d = (Number.isNaN(v) ? impute : v) - mean;
    squares += d * d;
  }
  const variance = squares / n;
  const eps = Number.EPSILON;
  const constant = variance <= n * eps * variance + (n * mean * eps) ** 2;
  return { mean, std: constant ? 0 : Math.sqrt(variance) };
}

function columnLength(pre: Preprocessing, columns: RawColumns): number {
  const lengths = [
    ...pre.numeric.map(({ name }) => columns.numeric[name]?.length),
    ...pre.categorical.map(({ name }) => columns.categorical[name]?.length),
  ];
  const missing = [...pre.numeric, ...pre.categorical].filter((_, i) => lengths[i] === undefined).map((c) => c.name);
  if (missing.length) throw new Error(`transform: no column for ${missing.join(", ")}`);
  if (new Set(lengths).size > 1) throw new Error(`transform: columns differ in length (${lengths.join(", ")})`);
  return lengths[0] ?? 0;
}

/** Locale-free ordering, so the one-hot column order is the same on every machine. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
