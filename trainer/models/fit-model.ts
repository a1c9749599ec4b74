/**
 * The one entry point the CLI calls: config model section + prepared design matrices in, a
 * TrainedModel plus a flat info record (for logging as run metrics/params) out. It is given the
 * training rows only: whatever a learner holds out (boosting's early-stopping rows) comes from
 * them, so the rows a model is evaluated and gated on never shape it.
 */
import type { ModelConfig } from "../config";
import type { Rng } from "../random";
import { trainValidationSplit } from "../data/split";
import { fitGradientBoosting } from "./gradient-boosting";
import { fitLogisticRegression } from "./logistic-regression";
import { fitRandomForest } from "./random-forest";
import { selectLabelledRows } from "./select-rows";
import type { Matrix, TrainedModel } from "./types";

export interface LabelledMatrix {
  X: Matrix;
  /** 0/1 labels, 1 = the configured positive class. */
  y: Uint8Array;
}

export interface FitModelOptions {
  rng: Rng;
  /** phase: "trees" (forest), "boosting" or "newton". */
  onProgress?: (done: number, total: number, phase: string) => void;
}

export interface FitModelResult {
  model: TrainedModel;
  info: Record<string, unknown>;
}

export function fitModel(modelConfig: ModelConfig, train: LabelledMatrix, opts: FitModelOptions): FitModelResult {
  checkLabels(train, "train");
  const started = performance.now();
  const seconds = () => Math.round(performance.now() - started) / 1000;
  switch (modelConfig.type) {
    case "random_forest": {
      const model = fitRandomForest(train.X, train.y, modelConfig, {
        rng: opts.rng.fork("random_forest"),
        onProgress: (done, total) => opts.onProgress?.(done, total, "trees"),
      });
      return { model, info: { n_trees: model.trees.length, n_nodes: countNodes(model.trees), fit_seconds: seconds() } };
    }
    case "gradient_boosting": {
      const { fit, stopping } = earlyStoppingSplit(train, modelConfig, opts.rng.fork("early-stopping"));
      const result = fitGradientBoosting(fit.X, fit.y, modelConfig, {
        validation: stopping,
        onProgress: (done, total) => opts.onProgress?.(done, total, "boosting"),
      });
      const { validationLoss } = result;
      return {
        model: result.model,
        info: {
          n_iter: result.nIter,
          best_iteration: result.bestIteration,
          stopped_early: result.nIter < modelConfig.max_iter,
          fit_rows: fit.X.rows,
          early_stopping_rows: stopping?.X.rows ?? 0,
          ...(validationLoss.length > 0 ? { best_early_stopping_log_loss: validationLoss[result.bestIteration] } : {}),
          base_score: result.model.baseScore,
          fit_seconds: seconds(),
        },
      };
    }
    case "logistic_regression": {
      const result = fitLogisticRegression(train.X, train.y, modelConfig);
      opts.onProgress?.(result.nIter, result.nIter, "newton");
      return {
        model: result.model,
        info: { n_iter: result.nIter, converged: result.converged, objective: result.objective, fit_seconds: seconds() },
      };
    }
  }
}

/**
 * Boosting's early-stopping rows: a stratified validation_fraction of the training rows, as
 * scikit-learn's HistGradientBoosting holds out; none when early stopping is off.
 */
function earlyStoppingSplit(
  train: LabelledMatrix,
  config: Extract<ModelConfig, { type: "gradient_boosting" }>,
  rng: Rng,
): { fit: LabelledMatrix; stopping?: LabelledMatrix } {
  if (config.early_stopping_rounds === 0) return { fit: train };
  const split = trainValidationSplit(train.y, {
    valSize: config.validation_fraction,
    stratify: true,
    rng,
    names: { train: "the rows boosting fits", validation: "the early-stopping rows", setting: "model.validation_fraction" },
  });
  return { fit: selectLabelledRows(train, split.train), stopping: selectLabelledRows(train, split.validation) };
}

function checkLabels({ X, y }: LabelledMatrix, name: string): void {
  if (X.data.length !== X.rows * X.cols)
    throw new RangeError(`${name}: X holds ${X.data.length} values, expected ${X.rows} x ${X.cols}`);
  if (y.length !== X.rows) throw new RangeError(`${name}: X has ${X.rows} rows but y has ${y.length}`);
  for (let r = 0; r < y.length; r++)
    if (y[r]! > 1) throw new RangeError(`${name}: label ${y[r]} at row ${r}; labels must be 0 or 1`);
}

function countNodes(trees: { feature: Int32Array }[]): number {
  let total = 0;
  for (const t of trees) total += t.feature.length;
  return total;
}
