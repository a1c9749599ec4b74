/**
 * Data preparation for a training run: load the CSV under the config's policies, split it, fit the
 * preprocessing on the training rows only, and encode both splits. Everything downstream (learners,
 * metrics, ONNX export, manifest) starts from PreparedData.
 */
import { isAbsolute, resolve } from "node:path";
import type { Config } from "../config";
import { loadCsv, type LoadProgress, type RawColumns } from "../data/load-csv";
import type { DataReport } from "../data/data-report";
import { dataFingerprint, type DataFingerprint } from "../data/fingerprint";
import { trainValidationSplit } from "../data/split";
import { fitPreprocessing, observedStats, transform, type Preprocessing } from "../preprocess";
import type { Matrix } from "../models/types";
import { Rng } from "../random";
import type { FeatureRow, FeatureSpec } from "../../worker/contract/manifest";

/** Raw (unencoded) columns of one split, with each row's line in the source file. */
export interface RawSplit extends RawColumns {
  rowNumbers: Int32Array;
}

export interface PreparedSplit {
  X: Matrix;
  y: Uint8Array;
  raw: RawSplit;
}

export interface PreparedData {
  train: PreparedSplit;
  validation: PreparedSplit;
  preprocessing: Preprocessing;
  features: FeatureSpec[];
  /** [negative, positive], as spelt in the data. */
  classes: [string, string];
  /** Categorical features whose missing cells training filled with a constant (config
   * `missing: {constant}`): the exported graph must fill a served null the same way. */
  imputeCategories: Record<string, string>;
  report: DataReport;
  fingerprint: DataFingerprint;
}

export interface PrepareOptions {
  /** Directory config.data.train_path is relative to; defaults to the working directory. */
  baseDir?: string;
  /** Use this CSV text instead of reading train_path. */
  csvText?: string;
  onProgress?: (progress: LoadProgress) => void;
}

export async function prepareData(config: Config, opts: PrepareOptions = {}): Promise<PreparedData> {
  const path = config.data.train_path;
  const source =
    opts.csvText !== undefined
      ? { text: opts.csvText, name: path }
      : { path: isAbsolute(path) ? path : resolve(opts.baseDir ?? process.cwd(), path) };
  const data = await loadCsv(source, config, { onProgress: opts.onProgress });

  const split = trainValidationSplit(data.y, {
    valSize: config.training.val_size,
    stratify: config.training.stratify,
    rng: new Rng(config.training.random_state).fork("split"),
  });
  const trainRaw = selectRows(data, split.train);
  const validationRaw = selectRows(data, split.validation);

  const preprocessing = fitPreprocessing(trainRaw, {
    numeric: config.features.numeric,
    categorical: config.features.categorical,
    imputeConstants: data.imputeConstants,
  });
  const report: DataReport = { ...data.report, warnings: [...data.report.warnings] };
  const features = featureSpecs(config, trainRaw, preprocessing, report.warnings);

  return {
    train: { X: transform(preprocessing, trainRaw), y: pick(data.y, split.train), raw: trainRaw },
    validation: { X: transform(preprocessing, validationRaw), y: pick(data.y, split.validation), raw: validationRaw },
    preprocessing,
    features,
    classes: data.classes,
    imputeCategories: data.imputeCategories,
    report,
    fingerprint: dataFingerprint(data.sha256, {
      rows: data.report.rows_read,
      trainRows: split.train.length,
      validationRows: split.validation.length,
    }),
  };
}

/**
 * Raw rows as the serving API receives them (missing -> null), keys in feature order. For golden
 * rows, ONNX parity checks and the drift reference.
 */
export function rawRows(raw: RawColumns, limit = Number.POSITIVE_INFINITY): FeatureRow[] {
  const numeric = Object.entries(raw.numeric);
  const categorical = Object.entries(raw.categorical);
  const length = numeric[0]?.[1].length ?? categorical[0]?.[1].length ?? 0;
  const rows: FeatureRow[] = [];
  for (let r = 0; r < Math.min(length, limit); r++) {
    const row: FeatureRow = {};
    for (const [name, column] of numeric) row[name] = Number.isNaN(column[r]!) ? null : column[r]!;
    for (const [name, column] of categorical) row[name] = column[r] === "" ? null : column[r]!;
    rows.push(row);
  }
  return rows;
}

/** The given rows of every column, in the given order. */
export function selectRows(data: RawColumns & { rowNumbers: Int32Array }, indices: Int32Array): RawSplit {
  const numeric: Record<string, Float64Array> = {};
  const categorical: Record<string, string[]> = {};
  for (const [name, column] of Object.entries(data.numeric)) numeric[name] = pick(column, indices);
  for (const [name, column] of Object.entries(data.categorical)) categorical[name] = Array.from(indices, (i) => column[i]!);
  return { numeric, categorical, rowNumbers: pick(data.rowNumbers, indices) };
}

function pick<T extends Float64Array | Uint8Array | Int32Array>(column: T, indices: Int32Array): T {
  const out = new (column.constructor as new (n: number) => T)(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = column[indices[i]!]!;
  return out;
}

/** Manifest feature specs: serving constraints from config, categories and stats from the training split. */
function featureSpecs(config: Config, train: RawColumns, pre: Preprocessing, warnings: string[]): FeatureSpec[] {
  const numeric = config.features.numeric.map((name): FeatureSpec => {
    const spec = config.features.columns[name] ?? {};
    const { min, max, mean, median } = observedStats(train.numeric[name]!);
    return {
      name,
      kind: "numeric",
      integer: spec.integer ?? false,
      ...(spec.min !== undefined && { min: spec.min }),
      ...(spec.max !== undefined && { max: spec.max }),
      nullable: spec.nullable ?? false,
      ...(spec.description !== undefined && { description: spec.description }),
      stats: { min, max, mean, median },
    };
  });
  const categorical = pre.categorical.map(({ name, categories }): FeatureSpec => {
    const spec = config.features.columns[name] ?? {};
    const closed = spec.closed ?? false;
    const allowed = spec.values ?? (closed ? categories : undefined);
    for (const value of spec.values ?? [])
      if (!categories.includes(value))
        warnings.push(`${name}: declared value ${JSON.stringify(value)} never appears in the training split; it encodes as all zeros`);
    return {
      name,
      kind: "categorical",
      categories,
      closed,
      ...(allowed && { allowed }),
      nullable: spec.nullable ?? false,
      ...(spec.description !== undefined && { description: spec.description }),
    };
  });
  return [...numeric, ...categorical];
}
