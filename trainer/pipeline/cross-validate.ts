/**
 * Optional k-fold cross-validation on the training split (config training.cv_folds). The
 * preprocessing is the one fitted on the whole training split, so folds share its medians and
 * scales; the validation split is never touched.
 */
import type { ModelConfig } from "../config";
import { kFoldIndices } from "../data/split";
import { evaluate, type EvaluationSummary, manifestMetrics, summariseFolds } from "../metrics/evaluate";
import type { RiskTierBound } from "../metrics/risk-tier-table";
import { fitModel } from "../models/fit-model";
import { predictProba } from "../models/predict";
import type { Matrix } from "../models/types";
import type { Rng } from "../random";

export function selectMatrixRows(X: Matrix, rows: Int32Array): Matrix {
  const data = new Float32Array(rows.length * X.cols);
  for (let i = 0; i < rows.length; i++) data.set(X.data.subarray(rows[i]! * X.cols, (rows[i]! + 1) * X.cols), i * X.cols);
  return { data, rows: rows.length, cols: X.cols };
}

export function crossValidate(
  modelConfig: ModelConfig,
  train: { X: Matrix; y: Uint8Array },
  options: { folds: number; rng: Rng; threshold: number; riskTiers: RiskTierBound[]; onFold?: (fold: number) => void },
) {
  const folds = kFoldIndices(train.y, options.folds, options.rng.fork("cv-folds"));
  const evaluations: EvaluationSummary[] = folds.map((fold, k) => {
    const part = (idx: Int32Array) => ({ X: selectMatrixRows(train.X, idx), y: Uint8Array.from(idx, (i) => train.y[i]!) });
    const fit = part(fold.train);
    const held = part(fold.validation);
    const { model } = fitModel(modelConfig, fit, { rng: options.rng.fork(`cv-${k}`), validation: held });
    options.onFold?.(k + 1);
    return manifestMetrics(evaluate(held.y, predictProba(model, held.X), options));
  });
  return { folds: options.folds, summary: summariseFolds(evaluations) };
}
