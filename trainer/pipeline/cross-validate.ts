/**
 * Optional k-fold cross-validation on the training split (config training.cv_folds). The
 * preprocessing is the one fitted on the whole training split, so folds share its medians and
 * scales; the validation split is never touched. Each fold's model sees only the fold's training
 * rows: boosting carves its early-stopping rows out of those, never out of the held-out fold.
 */
import type { ModelConfig } from "../config";
import { kFoldIndices } from "../data/split";
import { evaluate, type EvaluationSummary, manifestMetrics, summariseFolds } from "../metrics/evaluate";
import type { RiskTierBound } from "../metrics/risk-tier-table";
import { fitModel } from "../models/fit-model";
import { predictProba } from "../models/predict";
import { selectLabelledRows } from "../models/select-rows";
import type { Matrix } from "../models/types";
import type { Rng } from "../random";

export function crossValidate(
  modelConfig: ModelConfig,
  train: { X: Matrix; y: Uint8Array },
  options: { folds: number; rng: Rng; threshold: number; riskTiers: RiskTierBound[]; onFold?: (fold: number) => void },
) {
  const folds = kFoldIndices(train.y, options.folds, options.rng.fork("cv-folds"));
  const evaluations: EvaluationSummary[] = folds.map((fold, k) => {
    const held = selectLabelledRows(train, fold.validation);
    const { model } = fitModel(modelConfig, selectLabelledRows(train, fold.train), { rng: options.rng.fork(`cv-${k}`) });
    options.onFold?.(k + 1);
    return manifestMetrics(evaluate(held.y, predictProba(model, held.X), options));
  });
  return { folds: options.folds, summary: summariseFolds(evaluations) };
}
