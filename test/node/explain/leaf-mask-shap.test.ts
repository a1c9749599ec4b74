/**
 * The leaf-mask algorithm (leaf-mask-shap.ts, what explainRows runs) against the per-state one
 * (interventional-tree-shap.ts, kept as fallback and reference) on many random ensembles: deeper
 * trees, one-hot groups, wide paths and backgrounds of 1 to 200 rows, whole and as prefixes.
 */
import { describe, expect, it } from "vitest";
import { type Explainer, type ExplainerTree, parseExplainer } from "../../../worker/contract/explainer";
import { compileExplainer, type CompiledTrees } from "../../../worker/explain/compile-explainer";
import { explainRows } from "../../../worker/explain/explain-rows";
import { addTreeShap, treeShapScratch } from "../../../worker/explain/interventional-tree-shap";
import { compileMaskForm } from "../../../worker/explain/leaf-mask-shap";
import { preorderTree } from "../../../trainer/explain/build-explainer";
import { Rng } from "../../../trainer/random";
import { treeFromSpec, type TreeSpec } from "../../fixtures/fixture-models";

/** Numeric features and one-hot blocks of 2-4 columns, `count` players in all. */
function groupsOf(rng: Rng, count: number): number[][] {
  let column = 0;
  return Array.from({ length: count }, () => Array.from({ length: rng.next() < 0.7 ? 1 : 2 + rng.int(3) }, () => column++));
}

function row(rng: Rng, groups: number[][]): number[] {
  return groups.flatMap((g) => {
    if (g.length === 1) return [rng.next() < 0.3 ? [-1, 0, 1][rng.int(3)]! : Math.round(rng.normal() * 4) / 4];
    const hot = rng.int(g.length + 1);
    return g.map((_, i) => (i === hot ? 1 : 0));
  });
}

function tree(rng: Rng, width: number, depth: number): ExplainerTree {
  const spec = (d: number): TreeSpec =>
    d === 0 || rng.next() < 0.1 ? Math.round(rng.normal() * 1000) / 1000 : [rng.int(width), [-1, 0, 0.5, 1, -0.25][rng.int(5)]!, spec(d - 1), spec(d - 1)];
  return preorderTree(treeFromSpec(spec(depth)));
}

function randomExplainer(rng: Rng, players: number, depth: number, backgroundRows: number): Explainer {
  const groups = groupsOf(rng, players);
  const width = groups.flat().length;
  const forest = rng.next() < 0.5;
  const background = Array.from({ length: backgroundRows }, () => row(rng, groups));
  return parseExplainer({
    version: 1,
    space: forest ? "probability" : "log_odds",
    width,
    features: groups.map((columns, i) => ({ name: `f${i}`, columns })),
    model: {
      kind: forest ? "random_forest" : "gradient_boosting",
      aggregate: forest ? "average" : "sum",
      bias: forest ? 0 : 0.25,
      trees: Array.from({ length: 1 + rng.int(6) }, () => tree(rng, width, 1 + rng.int(depth))),
    },
    background_design: background,
    background: background.map(() => ({})),
  });
}

/** The per-state algorithm's contributions over the first n background rows. */
function reference(e: Explainer, x: number[], n: number): number[] {
  const compiled = compileExplainer(e);
  const model = compiled.model as CompiledTrees;
  const out = new Float64Array(e.features.length);
  addTreeShap(compiled, model, treeShapScratch(compiled, model), Float32Array.from(x), 0, n, out);
  return Array.from(out, (v) => (v * model.scale) / n);
}

function expectClose(got: number[], expected: number[], label: string): void {
  const scale = Math.max(1, ...expected.map(Math.abs));
  got.forEach((c, g) => expect(Math.abs(c - expected[g]!), `${label} feature ${g}`).toBeLessThan(1e-12 * scale));
}

describe("leaf-mask TreeSHAP", () => {
  it("equals the per-state algorithm on random ensembles (depth up to 10, backgrounds of 1 to 200 rows)", () => {
    const rng = new Rng("leaf-mask-random");
    for (let trial = 0; trial < 120; trial++) {
      const rows = trial < 20 ? 1 + trial : 1 + rng.int(200);
      const e = randomExplainer(rng, 2 + rng.int(10), 10, rows);
      const compiled = compileExplainer(e);
      expect(compileMaskForm(compiled, compiled.model as CompiledTrees), `trial ${trial}: paths fit 16 players`).not.toBeNull();
      const xs = [row(rng, e.features.map((f) => f.columns)), row(rng, e.features.map((f) => f.columns)), [...e.background_design[0]!]];
      const got = explainRows(e, xs);
      xs.forEach((x, i) => expectClose(got[i]!.contributions, reference(e, x, rows), `trial ${trial} (${rows} rows) row ${i}`));
      // A prefix of the background: histograms compiled on demand for that size.
      const n = 1 + rng.int(rows);
      const prefix = explainRows(e, xs, { backgroundRows: n });
      xs.forEach((x, i) => expectClose(prefix[i]!.contributions, reference(e, x, n), `trial ${trial} prefix ${n} row ${i}`));
    }
  });

  it("gives a batch (past one 256-row chunk, leaves' shares reused across rows) the same numbers as rows one at a time", () => {
    const rng = new Rng("leaf-mask-batch");
    const e = randomExplainer(rng, 6, 8, 50);
    const groups = e.features.map((f) => f.columns);
    // Few distinct rows, so that many rows reach a leaf with the same M_x.
    const pool = Array.from({ length: 12 }, () => row(rng, groups));
    const xs = Array.from({ length: 300 }, () => pool[rng.int(pool.length)]!);
    expect(explainRows(e, xs)).toEqual(xs.map((x) => explainRows(e, [x])[0]));
  });

  it("falls back to the per-state algorithm for paths over 16 distinct players, with the same results", () => {
    const rng = new Rng("leaf-mask-wide");
    // A chain on columns 0, 1, ..., 19: one path splits on 20 distinct players.
    const chain = (c: number): TreeSpec => (c === 20 ? 1 : [c, 0, chain(c + 1), c / 10]);
    const groups = Array.from({ length: 20 }, (_, i) => [i]);
    const background = Array.from({ length: 30 }, () => groups.map(() => (rng.next() < 0.8 ? -1 : 1)));
    const e = parseExplainer({
      version: 1,
      space: "log_odds",
      width: 20,
      features: groups.map((columns, i) => ({ name: `f${i}`, columns })),
      model: { kind: "gradient_boosting", aggregate: "sum", bias: 0, trees: [preorderTree(treeFromSpec(chain(0))), tree(rng, 20, 6)] },
      background_design: background,
      background: background.map(() => ({})),
    });
    const compiled = compileExplainer(e);
    expect(compileMaskForm(compiled, compiled.model as CompiledTrees)).toBeNull();
    const x = groups.map(() => (rng.next() < 0.8 ? -1 : 1));
    const [got] = explainRows(e, [x]);
    expectClose(got!.contributions, reference(e, x, 30), "wide path");
  });
});
