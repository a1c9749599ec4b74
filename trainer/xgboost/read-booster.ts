/**
 * XGBoost's JSON model (`Booster.save_model("model.json")`, the format of 1.x, checked with 1.7)
 * -> the parts the importer uses. Whatever this file cannot reproduce exactly is refused with a
 * message naming it: other objectives, dart, multi-class or multi-target models, categorical
 * (enable_categorical) splits, vector leaves.
 *
 * In this format a leaf's output is its `split_conditions` entry (already scaled by the learning
 * rate; `base_weights` is not), a split sends x < split_conditions[i] left and a missing x to the
 * left child when default_left[i] is 1, and base_score is in probability space for
 * binary:logistic: the margin starts at logit(base_score).
 */
import { z } from "zod";
import { UsageError } from "../user-errors";

export const SUPPORTED_OBJECTIVES = ["binary:logistic"] as const;

/** One tree as XGBoost stores it: node i is a leaf when left[i] is -1. */
export interface BoosterTree {
  left: Int32Array;
  right: Int32Array;
  feature: Int32Array;
  /** Split threshold (float32), or the leaf's output for a leaf. */
  condition: Float32Array;
  defaultLeft: Uint8Array;
}

export interface Booster {
  /** "1.7.4". */
  version: string;
  objective: (typeof SUPPORTED_OBJECTIVES)[number];
  /** In probability space, as stored. */
  baseScore: number;
  featureNames: string[];
  /** XGBoost's feature types ("float", "int", "i", "q"), or null when the booster has none. */
  featureTypes: string[] | null;
  trees: BoosterTree[];
  /** learner.attributes.best_iteration, when training stopped early: the importer keeps every tree. */
  bestIteration: number | null;
}

const numberish = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isFinite(n)) ctx.addIssue({ code: "custom", message: `${JSON.stringify(v)} is not a finite number` });
  return n;
});

const treeSchema = z.object({
  left_children: z.array(z.number().int()),
  right_children: z.array(z.number().int()),
  split_indices: z.array(z.number().int().min(0)),
  split_conditions: z.array(z.number()),
  default_left: z.array(z.union([z.number().int(), z.boolean()])),
  split_type: z.array(z.number().int()).optional(),
  tree_param: z.object({ num_nodes: numberish, size_leaf_vector: numberish.optional() }).loose(),
}).loose();

const modelSchema = z.object({
  version: z.array(z.number().int()).min(2),
  learner: z.object({
    attributes: z.record(z.string(), z.string()).optional(),
    feature_names: z.array(z.string()).optional(),
    feature_types: z.array(z.string()).optional(),
    learner_model_param: z.object({ base_score: numberish, num_class: numberish.optional(), num_feature: numberish, num_target: numberish.optional() }).loose(),
    objective: z.object({ name: z.string() }).loose(),
    gradient_booster: z.object({
      name: z.string(),
      model: z.object({ trees: z.array(treeSchema), tree_info: z.array(z.number().int()).optional() }).loose().optional(),
    }).loose(),
  }).loose(),
}).loose();

/** Parses and checks model.json's text; `source` names the file in messages. */
export function parseBooster(text: string, source: string): Booster {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source} is not JSON (${(error as Error).message}); save the booster with Booster.save_model("model.json") (the .json ending selects the JSON format)`);
  }
  const parsed = modelSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new UsageError(`${source} is not an XGBoost JSON model: ${issues.join("; ")}`);
  }
  const { learner, version } = parsed.data;
  const fail = (what: string): never => {
    throw new UsageError(`${source}: ${what}`);
  };
  const objective = learner.objective.name;
  if (!(SUPPORTED_OBJECTIVES as readonly string[]).includes(objective))
    fail(`objective ${objective} is not supported; supported: ${SUPPORTED_OBJECTIVES.join(", ")} (binary classification)`);
  if (learner.gradient_booster.name !== "gbtree")
    fail(`booster ${learner.gradient_booster.name} is not supported; only gbtree (dart and gblinear are not)`);
  const params = learner.learner_model_param;
  if ((params.num_class ?? 0) > 1) fail(`num_class is ${params.num_class}: only binary models are supported`);
  if ((params.num_target ?? 1) > 1) fail(`num_target is ${params.num_target}: only single-target models are supported`);
  const baseScore = params.base_score;
  if (!(baseScore > 0 && baseScore < 1)) fail(`base_score ${baseScore} is not a probability strictly between 0 and 1`);
  const width = params.num_feature;
  const featureNames = learner.feature_names ?? Array.from({ length: width }, (_, i) => `f${i}`);
  if (featureNames.length !== width) fail(`${featureNames.length} feature_names for num_feature ${width}`);
  if (new Set(featureNames).size !== featureNames.length) fail("feature_names has duplicates");
  const featureTypes = learner.feature_types ?? null;
  featureTypes?.forEach((type, i) => {
    if (type === "c") fail(`feature ${featureNames[i]} is categorical (enable_categorical); one-hot encode it before training instead`);
  });
  const stored = learner.gradient_booster.model?.trees ?? [];
  if (stored.length === 0) fail("the booster has no trees");
  learner.gradient_booster.model?.tree_info?.forEach((group, t) => {
    if (group !== 0) fail(`tree ${t} belongs to output group ${group}: only one output group is supported`);
  });
  const trees = stored.map((tree, t) => readTree(tree, width, (what) => fail(`tree ${t}: ${what}`)));
  const best = learner.attributes?.best_iteration;
  return {
    version: version.join("."),
    objective: objective as Booster["objective"],
    baseScore,
    featureNames,
    featureTypes,
    trees,
    bestIteration: best === undefined ? null : Number(best),
  };
}

function readTree(tree: z.infer<typeof treeSchema>, width: number, fail: (what: string) => never): BoosterTree {
  const n = tree.left_children.length;
  if (n === 0) fail("no nodes");
  if (tree.tree_param.num_nodes !== n) fail(`num_nodes is ${tree.tree_param.num_nodes}, left_children has ${n}`);
  if ((tree.tree_param.size_leaf_vector ?? 0) > 1) fail("vector leaves (multi-output trees) are not supported");
  for (const [name, array] of [["right_children", tree.right_children], ["split_indices", tree.split_indices], ["split_conditions", tree.split_conditions], ["default_left", tree.default_left]] as const)
    if (array.length !== n) fail(`${name} has ${array.length} entries, left_children has ${n}`);
  if (tree.split_type?.some((type) => type !== 0)) fail("categorical splits (enable_categorical) are not supported; one-hot encode before training");
  for (let i = 0; i < n; i++) {
    const [l, r] = [tree.left_children[i]!, tree.right_children[i]!];
    const leaf = l === -1;
    if (leaf !== (r === -1)) fail(`node ${i} has one child`);
    // Pruning can free nodes that later splits reuse, so a child may precede its parent; the
    // walk in booster-trees.ts checks that every node is reached once.
    if (!leaf && (l < 0 || r < 0 || l >= n || r >= n || l === r)) fail(`node ${i} has children ${l} and ${r}, the tree has nodes 0..${n - 1}`);
    if (!leaf && tree.split_indices[i]! >= width) fail(`node ${i} splits on feature ${tree.split_indices[i]}, the booster has ${width}`);
    if (!Number.isFinite(tree.split_conditions[i]!)) fail(`node ${i} has ${leaf ? "leaf value" : "threshold"} ${tree.split_conditions[i]}`);
  }
  return {
    left: Int32Array.from(tree.left_children),
    right: Int32Array.from(tree.right_children),
    feature: Int32Array.from(tree.split_indices),
    condition: Float32Array.from(tree.split_conditions),
    defaultLeft: Uint8Array.from(tree.default_left, (v) => (v === true || v === 1 ? 1 : 0)),
  };
}
