/**
 * worker/explain on explainers built directly (no training, no ONNX): a hand-computed tree,
 * invariants Shapley values must keep, and random ensembles against the textbook formula over
 * design vectors. The ONNX graph is the reference in onnx-brute-force.test.ts.
 */
import { describe, expect, it } from "vitest";
import { type Explainer, type ExplainerModel, type ExplainerTree, parseExplainer } from "../../../worker/contract/explainer";
import { explainRows } from "../../../worker/explain/explain-rows";
import { topContributions } from "../../../worker/explain/top-contributions";
import { preorderTree } from "../../../trainer/explain/build-explainer";
import { Rng } from "../../../trainer/random";
import { treeFromSpec, type TreeSpec } from "../../fixtures/fixture-models";
import { shapleyValues } from "./shapley-reference";

/** An explainer over `groups` (design columns per feature) with raw rows that only name the features. */
function explainer(model: ExplainerModel, groups: number[][], background: number[][]): Explainer {
  const width = groups.reduce((n, g) => n + g.length, 0);
  const space = model.kind === "random_forest" ? "probability" : "log_odds";
  return parseExplainer({
    version: 1,
    space,
    width,
    features: groups.map((columns, i) => ({ name: `f${i}`, columns })),
    model,
    background_design: background,
    background: background.map(() => Object.fromEntries(groups.map((_, i) => [`f${i}`, null]))),
  });
}

const forest = (...specs: TreeSpec[]): ExplainerModel => ({
  kind: "random_forest",
  aggregate: "average",
  bias: 0,
  trees: specs.map((s) => preorderTree(treeFromSpec(s))),
});
const boosting = (bias: number, ...specs: TreeSpec[]): ExplainerModel => ({
  kind: "gradient_boosting",
  aggregate: "sum",
  bias,
  trees: specs.map((s) => preorderTree(treeFromSpec(s))),
});

/** The model's output on one design row, by walking the trees plainly. */
function output(model: ExplainerModel, x: ArrayLike<number>): number {
  if (model.kind === "logistic_regression") return model.coef.reduce((s, w, c) => s + Math.fround(w) * x[c]!, Math.fround(model.intercept));
  const leaf = (t: ExplainerTree) => {
    let i = 0;
    while (t.column[i]! >= 0) i = Math.fround(x[t.column[i]!]!) <= Math.fround(t.value[i]!) ? i + 1 : t.right[i]!;
    return Math.fround(t.value[i]!);
  };
  const sum = model.trees.reduce((s, t) => s + leaf(t), 0);
  return model.aggregate === "average" ? sum / model.trees.length : Math.fround(model.bias) + sum;
}

/** Interventional Shapley values by brute force: v(S) = mean over z of f(x on S's columns, z elsewhere). */
function bruteForce(e: Explainer, x: number[]): number[] {
  return shapleyValues(e.features.length, (s) => {
    let total = 0;
    for (const z of e.background_design) {
      const hybrid = [...z];
      e.features.forEach((f, g) => {
        if (s & (1 << g)) for (const c of f.columns) hybrid[c] = x[c]!;
      });
      total += output(e.model, Float32Array.from(hybrid));
    }
    return total / e.background_design.length;
  });
}

describe("interventional TreeSHAP", () => {
  it("reproduces a tree worked out by hand", () => {
    // Root: column 0 <= 0 ? (column 1 <= 0 ? 1 : 2) : 4. x = (-1, 1) reaches 2, z = (1, -1) reaches 4.
    // v(∅) = f(z) = 4; v({A}) = f(-1, -1) = 1; v({B}) = f(1, 1) = 4; v({A,B}) = f(x) = 2.
    // φ_A = ½[(v(A) - v(∅)) + (v(AB) - v(B))] = ½[(1 - 4) + (2 - 4)] = -2.5
    // φ_B = ½[(v(B) - v(∅)) + (v(AB) - v(A))] = ½[(4 - 4) + (2 - 1)] = 0.5
    // A second background row z' = (-1, -1) reaches 1; against it only B differs on x's path:
    // φ_A = 0, φ_B = f(x) - f(z') = 1. Averaged: φ = (-1.25, 0.75), base = (4 + 1) / 2 = 2.5.
    const tree: TreeSpec = [0, 0, [1, 0, 1, 2], 4];
    const one = explainer(boosting(0, tree), [[0], [1]], [[1, -1]]);
    expect(explainRows(one, [[-1, 1]])).toEqual([{ base_value: 4, contributions: [-2.5, 0.5] }]);
    const two = explainer(boosting(0, tree), [[0], [1]], [[1, -1], [-1, -1]]);
    expect(explainRows(two, [[-1, 1]])).toEqual([{ base_value: 2.5, contributions: [-1.25, 0.75] }]);
  });

  it("gives exactly 0 to a feature no tree splits on", () => {
    const e = explainer(forest([0, 0.5, [2, 0, 0.1, 0.9], 0.4], [2, 1, 0.3, [0, 2, 0.7, 0.2]]), [[0], [1], [2]], [[0, 5, -1], [1, -5, 2], [3, 0, 0.5]]);
    const [row] = explainRows(e, [[2, 7, 0.2]]);
    expect(row!.contributions[1]).toBe(0);
    expect(row!.contributions[0]).not.toBe(0);
  });

  it("gives two identical features equal values", () => {
    // f0 and f1 are copies and the model is symmetric in them: (f0 > 0) + (f1 > 0).
    const e = explainer(boosting(0, [0, 0, 0, 1], [1, 0, 0, 1]), [[0], [1], [2]], [[-1, -1, 3], [2, 2, 1], [-3, -3, 0]]);
    const [row] = explainRows(e, [[1, 1, 9]]);
    expect(row!.contributions[0]).toBeCloseTo(row!.contributions[1]!, 15);
    expect(row!.contributions[0]).toBeCloseTo(2 / 3, 15);
    expect(row!.contributions[2]).toBe(0);
  });

  it("gives all zeros to a row equal to every background row", () => {
    const x = [0.25, 1, 0, -2];
    const e = explainer(forest([0, 0, 0.1, [3, -1, 0.5, 0.9]], [1, 0.5, 0.2, [2, 0.5, 0.3, 0.8]]), [[0], [1, 2], [3]], [x, x, x]);
    const [row] = explainRows(e, [x]);
    expect(row!.contributions).toEqual([0, 0, 0]);
    expect(row!.base_value).toBeCloseTo(output(e.model, Float32Array.from(x)), 15);
  });

  it("moves a categorical feature's columns together", () => {
    // One player owns columns 1-3 (a one-hot block). x is category c, z category a: taking only
    // column 3 from x would give (1, 0, 1), a row no encoder writes, and a leaf of its own (100).
    const tree: TreeSpec = [1, 0.5, [3, 0.5, 0, 100], [3, 0.5, 10, 20]];
    const e = explainer(boosting(0, tree), [[0], [1, 2, 3]], [[0, 1, 0, 0]]);
    const [row] = explainRows(e, [[0, 0, 0, 1]]);
    expect(row!.contributions).toEqual([0, 100 - 10]);
  });

  it("equals the textbook formula on random ensembles with ties, one-hot groups and repeated splits", () => {
    const rng = new Rng("tree-shap-random");
    for (let trial = 0; trial < 40; trial++) {
      const groups = randomGroups(rng);
      const width = groups.flat().length;
      const trees = Array.from({ length: 1 + rng.int(4) }, () => randomTree(rng, width, 1 + rng.int(5)));
      const model: ExplainerModel = trial % 2 ? { kind: "random_forest", aggregate: "average", bias: 0, trees } : { kind: "gradient_boosting", aggregate: "sum", bias: 0.5, trees };
      const background = Array.from({ length: 1 + rng.int(6) }, () => randomRow(rng, groups));
      const e = explainer(model, groups, background);
      const xs = Array.from({ length: 3 }, () => randomRow(rng, groups));
      xs.push([...background[0]!]);
      const got = explainRows(e, xs);
      xs.forEach((x, i) => {
        const expected = bruteForce(e, x);
        got[i]!.contributions.forEach((c, g) => expect(Math.abs(c - expected[g]!), `trial ${trial} row ${i} feature ${g}`).toBeLessThan(1e-12));
        const total = got[i]!.base_value + got[i]!.contributions.reduce((s, c) => s + c, 0);
        expect(total).toBeCloseTo(output(model, Float32Array.from(x)), 12);
      });
    }
  });

  it("explains logistic regression in closed form, equal to the textbook formula", () => {
    const groups = [[0], [1, 2, 3], [4]];
    const model: ExplainerModel = { kind: "logistic_regression", coef: [0.5, -1, 2, 0.25, -0.75], intercept: -0.3 };
    const background = [[0, 1, 0, 0, 2], [1.5, 0, 0, 1, -1], [-2, 0, 0, 0, 0]];
    const e = explainer(model, groups, background);
    const x = [1, 0, 1, 0, 0.5];
    const [row] = explainRows(e, [x]);
    const expected = bruteForce(e, x);
    row!.contributions.forEach((c, g) => expect(c).toBeCloseTo(expected[g]!, 12));
    // Hand: background means (-1/6, 1/3, 0, 1/3, 1/3); f0: 0.5 (1 + 1/6) = 0.58333...
    expect(row!.contributions[0]).toBeCloseTo(0.5 * (1 + 1 / 6), 12);
    expect(row!.contributions[1]).toBeCloseTo(-1 * (0 - 1 / 3) + 2 * 1 + 0.25 * (0 - 1 / 3), 12);
    expect(row!.base_value + row!.contributions.reduce((s, c) => s + c, 0)).toBeCloseTo(output(model, Float32Array.from(x)), 12);
  });

  it("explains against a prefix of the background when asked", () => {
    const background = [[1, -1], [-1, -1], [5, 5]];
    const e = explainer(boosting(0, [0, 0, [1, 0, 1, 2], 4]), [[0], [1]], background);
    const prefix = explainer(boosting(0, [0, 0, [1, 0, 1, 2], 4]), [[0], [1]], background.slice(0, 2));
    expect(explainRows(e, [[-1, 1]], { backgroundRows: 2 })).toEqual(explainRows(prefix, [[-1, 1]]));
    expect(() => explainRows(e, [[-1, 1]], { backgroundRows: 4 })).toThrow(/from 1 to 3/);
  });

  it("takes row-major Float32Array rows as well as arrays, and refuses a wrong width", () => {
    const e = explainer(forest([0, 0, 0.1, [1, 0.5, 0.6, 0.9]]), [[0], [1]], [[1, 1], [-1, 0]]);
    const rows = [[0.5, 0.25], [-0.5, 2]];
    expect(explainRows(e, Float32Array.from(rows.flat()))).toEqual(explainRows(e, rows));
    expect(() => explainRows(e, new Float32Array(3))).toThrow(/multiple of the width 2/);
    expect(() => explainRows(e, [[1, 2, 3]])).toThrow(/row 0 has 3 values/);
  });

  it("handles more than 32 background rows (several bitset words)", () => {
    const rng = new Rng("many-background");
    const groups = [[0], [1, 2], [3]];
    const trees = Array.from({ length: 3 }, () => randomTree(rng, 4, 4));
    const background = Array.from({ length: 70 }, () => randomRow(rng, groups));
    const e = explainer({ kind: "random_forest", aggregate: "average", bias: 0, trees }, groups, background);
    const x = randomRow(rng, groups);
    const [row] = explainRows(e, [x]);
    const expected = bruteForce(e, x);
    row!.contributions.forEach((c, g) => expect(c).toBeCloseTo(expected[g]!, 12));
  });
});

describe("topContributions", () => {
  it("orders by magnitude, keeps manifest order on ties and cuts at k", () => {
    const explanation = { base_value: 0.2, contributions: [0.1, -0.3, 0.3, 0, -0.05] };
    const names = ["a", "b", "c", "d", "e"];
    expect(topContributions(names, explanation, 3)).toEqual([
      { feature: "b", index: 1, contribution: -0.3 },
      { feature: "c", index: 2, contribution: 0.3 },
      { feature: "a", index: 0, contribution: 0.1 },
    ]);
    expect(topContributions(names, explanation).map((c) => c.feature)).toEqual(["b", "c", "a", "e", "d"]);
    expect(topContributions(names, explanation, 10)).toHaveLength(5);
    expect(() => topContributions(names, explanation, -1)).toThrow(/k must be/);
    expect(() => topContributions(["a"], explanation)).toThrow(/5 contributions for 1 features/);
  });
});

describe("explainer.json schema", () => {
  const good = () => ({
    version: 1,
    space: "probability",
    width: 2,
    features: [{ name: "a", columns: [0] }, { name: "b", columns: [1] }],
    model: { kind: "random_forest", aggregate: "average", bias: 0, trees: [{ column: [0, -1, -1], value: [0.5, 0.1, 0.9], right: [2, 0, 0] }] },
    background_design: [[0, 1]],
    background: [{ a: 1, b: null }],
  });

  it("accepts a well-formed file", () => {
    expect(() => parseExplainer(good())).not.toThrow();
  });

  it.each([
    ["a right child that skips the left subtree", (e: ReturnType<typeof good>) => (e.model.trees[0]!.right[0] = 1), /not where the left subtree/],
    ["a cycle back to the root", (e: ReturnType<typeof good>) => { e.model.trees[0] = { column: [0, 0, -1], value: [0, 0, 1], right: [2, 0, 0] }; }, /missing|not where/],
    ["a split on a column outside the width", (e: ReturnType<typeof good>) => (e.model.trees[0]!.column[0] = 2), /column 2, the design width is 2/],
    ["unreachable trailing nodes", (e: ReturnType<typeof good>) => { e.model.trees[0] = { column: [-1, -1], value: [1, 2], right: [0, 0] }; }, /not reachable/],
    ["a column owned twice", (e: ReturnType<typeof good>) => (e.features[1]!.columns = [0]), /already belongs to a/],
    ["a background row of the wrong width", (e: ReturnType<typeof good>) => (e.background_design[0] = [1]), /1 values, the design width is 2/],
    ["a forest in log-odds space", (e: ReturnType<typeof good>) => (e.space = "log_odds"), /random_forest explainer is in probability space/],
  ])("rejects %s", (_, tamper, message) => {
    const e = good();
    tamper(e);
    expect(() => parseExplainer(e)).toThrow(message);
  });
});

function randomGroups(rng: Rng): number[][] {
  const groups: number[][] = [];
  let column = 0;
  const count = 2 + rng.int(4);
  for (let g = 0; g < count; g++) {
    const size = rng.next() < 0.6 ? 1 : 2 + rng.int(2);
    groups.push(Array.from({ length: size }, () => column++));
  }
  return groups;
}

/** Numeric columns from a few values (so rows tie with thresholds); one-hot groups one-hot or all zeros. */
function randomRow(rng: Rng, groups: number[][]): number[] {
  const row: number[] = [];
  for (const g of groups) {
    if (g.length === 1) row.push([-1, 0, 0.5, 1, 2][rng.int(5)]!);
    else {
      const hot = rng.int(g.length + 1);
      for (let i = 0; i < g.length; i++) row.push(i === hot ? 1 : 0);
    }
  }
  return row;
}

function randomTree(rng: Rng, width: number, depth: number): ExplainerTree {
  const spec = (d: number): TreeSpec =>
    d === 0 || rng.next() < 0.15 ? Math.round(rng.normal() * 100) / 100 : [rng.int(width), [-1, 0, 0.5, 1][rng.int(4)]!, spec(d - 1), spec(d - 1)];
  return preorderTree(treeFromSpec(spec(depth)));
}
