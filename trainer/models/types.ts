/**
 * Shapes shared by the learners, the evaluator and the ONNX exporter.
 * X is always the preprocessed design matrix (imputed, scaled, one-hot), row-major float32,
 * exactly what the ONNX graph computes before the model node, so training and serving agree.
 */
export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** A binary decision tree in flat arrays. Node 0 is the root. Go left when x[feature] <= threshold. */
export interface Tree {
  /** Feature index, or -1 for a leaf. */
  feature: Int32Array;
  /** Float32 split value, compared as float32 (as ONNX BRANCH_LEQ does). */
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  /** Leaf output: the class-1 probability (forest) or the raw additive score (boosting). */
  value: Float64Array;
}

export type TrainedModel =
  | { family: "random_forest"; trees: Tree[] }
  | { family: "gradient_boosting"; trees: Tree[]; baseScore: number }
  | { family: "logistic_regression"; coef: Float64Array; intercept: number };

/** Probability of the positive class for each row. */
export type Probabilities = Float64Array;
