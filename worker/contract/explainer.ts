/**
 * explainer.json: what the edge needs to explain a version's predictions (interventional SHAP
 * against a background set, worker/explain/), written by the trainer beside model.onnx and checked
 * by sha256 like it. Everything is in the graph's design space, the vector the graph's `design`
 * output returns, so serving and explaining read the same numbers:
 *  - `features`: the players, the manifest's features in manifest order, each with the design
 *    columns it owns (one for a numeric feature, one per category for a categorical one);
 *  - `model`: the trees or coefficients exactly as the graph holds them (float32 values);
 *  - `background_design`: the background rows as the graph preprocessed them;
 *  - `background`: the same rows raw (feature -> value, null for missing). Training data: the file
 *    is served only with the admin token, like reference.json.
 * Trees are in preorder with the left child implicit (node i's left child is i + 1), so a 200-tree
 * depth-8 forest stays near 1-2 MB of JSON.
 */
import { z } from "zod";

export const EXPLAINER_VERSION = 1;
/** Name of the graph output holding the preprocessed design matrix [N, width] (float32). */
export const DESIGN_OUTPUT = "design";

/** probability: base + Σ contributions = p (forest). log_odds: = logit(p) (boosting, logistic regression). */
export const explanationSpaceSchema = z.enum(["probability", "log_odds"]);
export type ExplanationSpace = z.infer<typeof explanationSpaceSchema>;

const finite = z.number().refine(Number.isFinite, { error: "must be a finite number" });
const column = z.number().int().min(0);

/**
 * One tree, nodes in preorder: node i is a split when column[i] >= 0 (go to i + 1 when
 * x[column] <= value[i], both float32, else to right[i]), a leaf when column[i] is -1 (its output is
 * value[i]; right[i] is 0 and unused).
 */
export const explainerTreeSchema = z.object({
  column: z.array(z.number().int().min(-1)).min(1),
  value: z.array(finite).min(1),
  right: z.array(z.number().int().min(0)).min(1),
});
export type ExplainerTree = z.infer<typeof explainerTreeSchema>;

const treeModel = z.object({
  kind: z.enum(["random_forest", "gradient_boosting"]),
  /** Forest: the mean of the trees' leaves. Boosting: bias + the sum of the trees' leaves (the margin). */
  aggregate: z.enum(["average", "sum"]),
  bias: finite,
  trees: z.array(explainerTreeSchema).min(1),
});

const linearModel = z.object({
  kind: z.literal("logistic_regression"),
  /** One per design column: the margin is intercept + coef · x. */
  coef: z.array(finite).min(1),
  intercept: finite,
});

export const explainerModelSchema = z.discriminatedUnion("kind", [treeModel, linearModel]);
export type ExplainerModel = z.infer<typeof explainerModelSchema>;
export type ExplainerTreeModel = z.infer<typeof treeModel>;

const featureValue = z.union([z.number(), z.string(), z.null()]);

export const explainerSchema = z
  .object({
    version: z.literal(EXPLAINER_VERSION),
    space: explanationSpaceSchema,
    /** Width of the design vector. */
    width: z.number().int().min(1),
    features: z.array(z.object({ name: z.string().min(1), columns: z.array(column).min(1) })).min(1),
    model: explainerModelSchema,
    background_design: z.array(z.array(finite)).min(1),
    background: z.array(z.record(z.string(), featureValue)).min(1),
  })
  .superRefine((e, ctx) => {
    const owner = new Array<number>(e.width).fill(-1);
    e.features.forEach((f, g) => {
      for (const c of f.columns) {
        if (c >= e.width) ctx.addIssue({ code: "custom", path: ["features", g, "columns"], message: `column ${c} is outside the design width ${e.width}` });
        else if (owner[c]! >= 0) ctx.addIssue({ code: "custom", path: ["features", g, "columns"], message: `column ${c} already belongs to ${e.features[owner[c]!]!.name}` });
        else owner[c] = g;
      }
    });
    if (owner.some((g) => g < 0)) ctx.addIssue({ code: "custom", path: ["features"], message: "every design column must belong to one feature" });
    const expected = e.model.kind === "logistic_regression" ? "log_odds" : e.model.aggregate === "average" ? "probability" : "log_odds";
    if (e.space !== expected) ctx.addIssue({ code: "custom", path: ["space"], message: `a ${e.model.kind} explainer is in ${expected} space` });
    if (e.model.kind === "logistic_regression" && e.model.coef.length !== e.width)
      ctx.addIssue({ code: "custom", path: ["model", "coef"], message: `${e.model.coef.length} coefficients for a design width of ${e.width}` });
    if (e.model.kind !== "logistic_regression")
      e.model.trees.forEach((tree, t) => {
        const problem = treeShapeProblem(tree, e.width);
        if (problem) ctx.addIssue({ code: "custom", path: ["model", "trees", t], message: problem });
      });
    e.background_design.forEach((row, i) => {
      if (row.length !== e.width) ctx.addIssue({ code: "custom", path: ["background_design", i], message: `${row.length} values, the design width is ${e.width}` });
    });
    if (e.background.length !== e.background_design.length)
      ctx.addIssue({ code: "custom", path: ["background"], message: `${e.background.length} raw rows for ${e.background_design.length} design rows` });
  });

export type Explainer = z.infer<typeof explainerSchema>;

/**
 * Why a tree is not a well-formed preorder tree over `width` columns, or null. Checked on parse so
 * that a tampered file cannot send the explainer into a loop or outside its arrays.
 */
export function treeShapeProblem(tree: ExplainerTree, width: number): string | null {
  const n = tree.column.length;
  if (tree.value.length !== n || tree.right.length !== n) return `column, value and right differ in length (${n}, ${tree.value.length}, ${tree.right.length})`;
  // Walks the preorder: each split's left subtree must end exactly where its right child starts.
  const pending: number[] = [];
  let next = 0;
  for (;;) {
    if (next >= n) return `node ${next} is missing: the tree has ${n} nodes`;
    const node = next;
    const c = tree.column[node]!;
    if (c >= width) return `node ${node} splits on column ${c}, the design width is ${width}`;
    if (c >= 0) {
      pending.push(tree.right[node]!);
      next = node + 1;
      continue;
    }
    if (pending.length === 0) break;
    const right = pending.pop()!;
    if (right !== node + 1) return `node ${right} is not where the left subtree ending at node ${node} stops`;
    next = right;
  }
  if (next + 1 !== n) return `nodes after ${next} are not reachable`;
  return null;
}

export function parseExplainer(json: unknown): Explainer {
  return explainerSchema.parse(json);
}

/** Per row: base_value + Σ contributions = the model's output in `space`; contributions in manifest feature order. */
export interface Explanation {
  base_value: number;
  contributions: number[];
}

export const explanationSchema = z.object({ base_value: finite, contributions: z.array(finite) });
