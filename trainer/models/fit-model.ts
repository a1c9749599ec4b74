/**
 * The one entry point the CLI calls: config model section + prepared design matrices in, a
 * TrainedModel plus a flat info record (for logging as run metrics/params) out.
 */
import type { ModelConfig } from "../config";
import type { Rng } from "../random";
import { fitGradientBoosting } from "./gradient-boosting";
import { fitLogisticRegression } from "./logistic-regression";
import { fitRandomForest } from "./random-forest";
import type { Matrix, TrainedModel } from "./types";

export interface LabelledMatrix {
  X: Matrix;
  /** 0/1 labels, 1 = the configured positive class. */
  y: Uint8Array;
}

export interface FitModelOptions {
  rng: Rng;
  /** Used by gradient boosting for early stopping; ignored by the other families. */
  validation?: LabelledMatrix;
  /** phase: "trees" (forest), "boosting" or "newton". */
  onProgress?: (done: number, total: number, phase: string) => void;
}

export interface FitModelResult {
  model: TrainedModel;
  info: Record<string, unknown>;
}

export function fitModel(modelConfig: ModelConfig, train: LabelledMatrix, opts: FitModelOptions): FitModelResult {
  checkLabels(train, "train");
  if (opts.validation) checkLabels(opts.validation, "validation");
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
      const result = fitGradientBoosting(train.X, train.y, modelConfig, {
        validation: opts.validation,
        onProgress: (done, total) => opts.onProgress?.(done, total, "boosting"),
      });
      const { validationLoss } = result;
      return {
        model: result.model,
        info: {
          n_iter: result.nIter,
          best_iteration: result.bestIteration,
          stopped_early: result.nIter < modelConfig.max_iter,
          ...(validationLoss.length > 0 ? { best_validation_log_loss: validationLoss[result.bestIteration] } : {}),
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
