/**
 * Seeded train/validation and k-fold splits over row indices. Stratification is exact: each class
 * contributes round(n_class * val_size) rows to validation, so both splits keep the class balance
 * and a rare positive class cannot vanish from validation by chance. Index lists are returned sorted,
 * so the rows keep their file order within each split.
 */
import type { Rng } from "../random";
import { DataError } from "./data-error";

export interface SplitIndices {
  train: Int32Array;
  validation: Int32Array;
}

export interface SplitOptions {
  valSize: number;
  stratify: boolean;
  /** The stream to shuffle with; prepareData passes `root.fork("split")`. */
  rng: Rng;
  /** How errors name the two parts and the setting that sizes them. */
  names?: { train: string; validation: string; setting: string };
}

const SPLIT_NAMES = { train: "the training split", validation: "the validation split", setting: "training.val_size" };

export function trainValidationSplit(y: Uint8Array, { valSize, stratify, rng, names = SPLIT_NAMES }: SplitOptions): SplitIndices {
  if (!(valSize > 0 && valSize < 1)) throw new RangeError(`val_size must be in (0, 1), got ${valSize}`);
  const groups = stratify ? classIndices(y) : [Array.from(y, (_, i) => i)];
  const nVal = groups.map((group) => Math.round(group.length * valSize));
  const validation = new Int32Array(nVal.reduce((a, b) => a + b, 0));
  const train = new Int32Array(y.length - validation.length);
  // Element by element: spreading a group into push() passes one argument per row, which
  // overflows the call stack at a few hundred thousand rows.
  let v = 0;
  let t = 0;
  groups.forEach((group, g) => {
    rng.shuffle(group);
    for (let i = 0; i < group.length; i++) {
      if (i < nVal[g]!) validation[v++] = group[i]!;
      else train[t++] = group[i]!;
    }
  });
  const split = { train: train.sort(), validation: validation.sort() };
  requireBothClasses(y, split.train, names.train, names.setting);
  requireBothClasses(y, split.validation, names.validation, names.setting);
  return split;
}

/**
 * Stratified k-fold: each class is shuffled and dealt round-robin into the folds, the dealing
 * continuing from class to class, so fold sizes differ by at most one overall and per class.
 */
export function kFoldIndices(y: Uint8Array, k: number, rng: Rng): SplitIndices[] {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`k-fold needs an integer k >= 2, got ${k}`);
  const groups = classIndices(y);
  for (const [cls, group] of groups.entries())
    if (group.length < k)
      throw new DataError(`${k}-fold cross-validation needs at least ${k} rows of each class; class ${cls} has ${group.length}`);
  const foldOf = new Int32Array(y.length);
  let dealt = 0;
  for (const group of groups) {
    rng.shuffle(group);
    for (const index of group) foldOf[index] = dealt++ % k;
  }
  return Array.from({ length: k }, (_, fold) => {
    const train: number[] = [];
    const validation: number[] = [];
    for (let i = 0; i < y.length; i++) (foldOf[i] === fold ? validation : train).push(i);
    return { train: Int32Array.from(train), validation: Int32Array.from(validation) };
  });
}

/** Row indices of class 0 then class 1, each ascending, so shuffles depend only on the seed. */
function classIndices(y: Uint8Array): [number[], number[]] {
  const groups: [number[], number[]] = [[], []];
  for (let i = 0; i < y.length; i++) groups[y[i] === 1 ? 1 : 0].push(i);
  return groups;
}

/** Metrics such as ROC AUC are undefined on one class, so fail here with the reason. */
function requireBothClasses(y: Uint8Array, indices: Int32Array, what: string, setting: string): void {
  let positives = 0;
  for (const i of indices) positives += y[i]!;
  if (positives === 0 || positives === indices.length)
    throw new DataError(
      `${what} has ${indices.length} rows but ${positives === 0 ? "no positive" : "no negative"} rows; ` +
        `add data or change ${setting}`,
    );
}
