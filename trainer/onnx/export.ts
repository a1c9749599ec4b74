/**
 * TrainedModel + manifest preprocessing -> one ONNX file that takes the raw features (one [N,1]
 * input per feature, named after it) and returns `probabilities` [N,2] = [1-p, p], and `design`
 * [N, width], the preprocessed matrix X the model saw (worker/explain/ explains that very vector, so
 * explaining cannot drift from serving; a caller that fetches only `probabilities` pays nothing).
 *
 * Preprocessing in the graph, matching trainer/preprocess.ts bit for bit in float32:
 *   numeric inputs -> Concat [N, n_numeric] -> Imputer (NaN -> impute) -> Scaler ((x - mean) * scale)
 *   (or, for an imported booster, `missing: tree_default`: the raw numbers twice, NaN -> -FLT_MAX
 *   in the first block and +FLT_MAX in the second; numericCopies)
 *   each categorical input -> [Equal "" + Where: "" -> its missing constant, when training filled
 *   one] -> OneHotEncoder (zeros=1: unknown and "" give all zeros) -> Flatten [N, K]
 *   X = Concat(numeric block, one-hot blocks in preprocessing order)
 * Model on X: forest = TreeEnsemble AVERAGE; boosting = TreeEnsemble SUM + base, Sigmoid;
 * logistic regression = MatMul + Add, Sigmoid. Then Concat(1 - p, p).
 */
import { createHash } from "node:crypto";
import type { FeatureSpec, Manifest } from "../../worker/contract/manifest";
import { DESIGN_OUTPUT } from "../../worker/contract/explainer";
import type { TrainedModel, Tree } from "../models/types";
import { DataType, GraphBuilder, ML_DOMAIN } from "./graph-builder";
import { AGGREGATE, treeEnsembleAttributes } from "./tree-ensemble";

export type Preprocessing = Manifest["preprocessing"];

const IR_VERSION = 10;
const OPSETS = { "": 19, [ML_DOMAIN]: 5 };
export const PROBABILITIES_OUTPUT = "probabilities";
export { DESIGN_OUTPUT };

export interface ExportOnnxOptions {
  modelName: string;
  features: readonly FeatureSpec[];
  preprocessing: Preprocessing;
  /**
   * Categorical features whose blank training cells were filled with a constant. The feeds send a
   * null category as "" (worker/contract/feature-feeds.ts), which would one-hot to all zeros while
   * training saw the constant: the graph maps "" to the constant first.
   */
  imputeCategories?: Readonly<Record<string, string>>;
  model: TrainedModel;
  producerVersion: string;
}

/** The format part of the manifest's `onnx` block. */
export function onnxFormat(): Pick<Manifest["onnx"], "ir_version" | "opsets" | "output"> {
  return { ir_version: IR_VERSION, opsets: { "ai.onnx": OPSETS[""], [ML_DOMAIN]: OPSETS[ML_DOMAIN] }, output: PROBABILITIES_OUTPUT };
}

/** The manifest's whole `onnx` block for an exported file. */
export function onnxManifestBlock(bytes: Uint8Array): Manifest["onnx"] {
  return { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.byteLength, ...onnxFormat() };
}

/** Width of the design matrix the preprocessing produces. */
export function designWidth(preprocessing: Preprocessing): number {
  return preprocessing.numeric.length * numericCopies(preprocessing) + preprocessing.categorical.reduce((n, c) => n + c.categories.length, 0);
}

/**
 * How many blocks of numeric columns lead the design matrix: one (imputed, scaled), or two for
 * `missing: tree_default`, where numeric feature i owns columns i and n + i (see designMatrix).
 */
export function numericCopies(preprocessing: Preprocessing): 1 | 2 {
  return preprocessing.missing === "tree_default" ? 2 : 1;
}

/**
 * Missing numbers under tree_default: the largest finite float32s, so that a split (x <= t, t a
 * finite float32 below FLT_MAX) sends -FLT_MAX left and +FLT_MAX right. Finite, so the design rows
 * stay valid JSON in explainer.json.
 */
export const MISSING_LOW = -3.4028234663852886e38;
export const MISSING_HIGH = 3.4028234663852886e38;

const ZERO_LEAF: Tree = {
  feature: Int32Array.of(-1),
  threshold: Float32Array.of(0),
  left: Int32Array.of(-1),
  right: Int32Array.of(-1),
  value: Float64Array.of(0),
};

export function exportOnnx(options: ExportOnnxOptions): Uint8Array {
  const { features, preprocessing, model, imputeCategories = {} } = options;
  checkFeatures(features, preprocessing);
  checkImputeCategories(imputeCategories, preprocessing);
  const g = new GraphBuilder();
  for (const feature of features)
    g.input(feature.name, feature.kind === "numeric" ? DataType.FLOAT : DataType.STRING, 1);
  // Intermediate names carry a "/" prefix; checkFeatures rejects feature names that could clash.
  const x = designMatrix(g, preprocessing, imputeCategories);
  const p = positiveProbability(g, x, model, designWidth(preprocessing));
  g.node("Identity", [x], DESIGN_OUTPUT);
  const one = g.constant("out/one", { type: "float", dims: [1], values: [1] });
  const q = g.node("Sub", [one, p], "out/q");
  g.node("Concat", [q, p], PROBABILITIES_OUTPUT, { axis: { int: 1 } });
  g.output(PROBABILITIES_OUTPUT, DataType.FLOAT, 2);
  g.output(DESIGN_OUTPUT, DataType.FLOAT, designWidth(preprocessing));
  return g.encode({
    graphName: options.modelName,
    irVersion: IR_VERSION,
    opsets: OPSETS,
    producerName: "edge-mlops-trainer",
    producerVersion: options.producerVersion,
    docString: `${model.family}: ${PROBABILITIES_OUTPUT} [N,2] = [1-p, p]; ${DESIGN_OUTPUT} [N,width] = the preprocessed features`,
  });
}

function designMatrix(g: GraphBuilder, pre: Preprocessing, imputeCategories: Readonly<Record<string, string>>): string {
  const blocks: string[] = [];
  if (pre.numeric.length > 0 && pre.missing === "tree_default") {
    // No imputation: an imported booster learned where missing values go at each split.
    const raw = concat(g, pre.numeric.map((n) => n.name), "pre/numeric");
    for (const [name, fill] of [["pre/missing_low", MISSING_LOW], ["pre/missing_high", MISSING_HIGH]] as const)
      blocks.push(g.node("Imputer", [raw], name, {
        imputed_value_floats: { floats: pre.numeric.map(() => fill) },
        replaced_value_float: { float: Number.NaN },
      }, ML_DOMAIN));
  } else if (pre.numeric.length > 0) {
    const raw = concat(g, pre.numeric.map((n) => n.name), "pre/numeric");
    const imputed = g.node("Imputer", [raw], "pre/imputed", {
      imputed_value_floats: { floats: pre.numeric.map((n) => n.impute) },
      replaced_value_float: { float: Number.NaN },
    }, ML_DOMAIN);
    blocks.push(g.node("Scaler", [imputed], "pre/scaled", {
      offset: { floats: pre.numeric.map((n) => n.mean) },
      scale: { floats: pre.numeric.map((n) => n.scale) },
    }, ML_DOMAIN));
  }
  pre.categorical.forEach((c, i) => {
    const fill = Object.hasOwn(imputeCategories, c.name) ? imputeCategories[c.name]! : "";
    let value = c.name;
    if (fill !== "") {
      const empty = g.constant(`pre/empty/${i}`, { type: "string", dims: [1], values: [""] });
      const constant = g.constant(`pre/fill/${i}`, { type: "string", dims: [1], values: [fill] });
      value = g.node("Where", [g.node("Equal", [c.name, empty], `pre/missing/${i}`), constant, c.name], `pre/filled/${i}`);
    }
    // OneHotEncoder appends the category axis: [N,1] -> [N,1,K].
    const onehot = g.node("OneHotEncoder", [value], `pre/onehot/${i}`, {
      cats_strings: { strings: c.categories },
      zeros: { int: 1 },
    }, ML_DOMAIN);
    blocks.push(g.node("Flatten", [onehot], `pre/onehot_flat/${i}`, { axis: { int: 1 } }));
  });
  return concat(g, blocks, "pre/X");
}

function concat(g: GraphBuilder, inputs: string[], name: string): string {
  return g.node("Concat", inputs, name, { axis: { int: 1 } });
}

function positiveProbability(g: GraphBuilder, x: string, model: TrainedModel, width: number): string {
  switch (model.family) {
    case "random_forest":
      return g.node("TreeEnsemble", [x], "model/p", treeEnsembleAttributes(model.trees, width, AGGREGATE.AVERAGE), ML_DOMAIN);
    case "gradient_boosting": {
      checkFinite("gradient boosting baseScore", model.baseScore);
      // Early stopping can keep zero rounds (none beat the baseline): p is then sigmoid(base),
      // written as one zero-valued leaf because TreeEnsemble needs at least one tree.
      const trees = model.trees.length ? model.trees : [ZERO_LEAF];
      const score = g.node("TreeEnsemble", [x], "model/score", treeEnsembleAttributes(trees, width, AGGREGATE.SUM), ML_DOMAIN);
      // Opset-5 TreeEnsemble has no base_values attribute.
      const base = g.constant("model/base", { type: "float", dims: [1], values: [model.baseScore] });
      return g.node("Sigmoid", [g.node("Add", [score, base], "model/logit")], "model/p");
    }
    case "logistic_regression": {
      if (model.coef.length !== width)
        throw new Error(`logistic regression has ${model.coef.length} coefficients, design matrix has ${width} columns`);
      model.coef.forEach((c, i) => checkFinite(`logistic regression coef[${i}]`, c));
      checkFinite("logistic regression intercept", model.intercept);
      const w = g.constant("model/coef", { type: "float", dims: [width, 1], values: model.coef });
      const b = g.constant("model/intercept", { type: "float", dims: [1], values: [model.intercept] });
      const logit = g.node("Add", [g.node("MatMul", [x, w], "model/xw"), b], "model/logit");
      return g.node("Sigmoid", [logit], "model/p");
    }
  }
}

/** Every feature is one graph input used by exactly one preprocessing entry of its kind. */
function checkFeatures(features: readonly FeatureSpec[], pre: Preprocessing): void {
  const byName = new Map<string, FeatureSpec>();
  for (const f of features) {
    if (byName.has(f.name)) throw new Error(`feature ${f.name} is listed twice`);
    if (f.name.includes("/") || f.name === PROBABILITIES_OUTPUT || f.name === DESIGN_OUTPUT)
      throw new Error(`feature name "${f.name}" clashes with graph tensor names ("/", "${PROBABILITIES_OUTPUT}" or "${DESIGN_OUTPUT}")`);
    byName.set(f.name, f);
  }
  const used = new Set<string>();
  const use = (name: string, kind: FeatureSpec["kind"]): void => {
    const f = byName.get(name);
    if (!f) throw new Error(`preprocessing ${kind} entry ${name} is not a feature`);
    if (f.kind !== kind) throw new Error(`preprocessing lists ${name} as ${kind}, the feature is ${f.kind}`);
    if (used.has(name)) throw new Error(`preprocessing lists ${name} twice`);
    used.add(name);
  };
  for (const n of pre.numeric) {
    use(n.name, "numeric");
    for (const key of ["impute", "mean", "scale"] as const) checkFinite(`${n.name}.${key}`, n[key]);
    if (pre.missing === "tree_default" && (n.mean !== 0 || n.scale !== 1))
      throw new Error(`${n.name}: missing tree_default feeds numbers unscaled, so mean must be 0 and scale 1 (got ${n.mean}, ${n.scale})`);
  }
  for (const c of pre.categorical) {
    use(c.name, "categorical");
    if (c.categories.length === 0) throw new Error(`categorical ${c.name} has no categories`);
    if (new Set(c.categories).size !== c.categories.length) throw new Error(`categorical ${c.name} has duplicate categories`);
    if (c.categories.includes("")) throw new Error(`categorical ${c.name}: "" means missing and cannot be a category`);
  }
  for (const f of features) if (!used.has(f.name)) throw new Error(`feature ${f.name} has no preprocessing entry`);
}

function checkImputeCategories(imputeCategories: Readonly<Record<string, string>>, pre: Preprocessing): void {
  const categorical = new Set(pre.categorical.map((c) => c.name));
  for (const name of Object.keys(imputeCategories))
    if (!categorical.has(name)) throw new Error(`imputeCategories names ${name}, which is not a categorical feature`);
}

function checkFinite(what: string, value: number): void {
  if (!Number.isFinite(value)) throw new Error(`${what} is ${value}, not a finite number`);
}
