import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FeatureRow, FeatureSpec } from "../../../worker/contract/manifest";
import type { TrainedModel, Tree } from "../../../trainer/models/types";
import { decodeModel } from "../../../trainer/onnx/graph-builder";
import { DESIGN_OUTPUT, exportOnnx, onnxFormat, onnxManifestBlock, PROBABILITIES_OUTPUT, type Preprocessing } from "../../../trainer/onnx/export";
import { buildTensors, createSession, runProbabilities, runRows, runWithDesign, type Session } from "../../../trainer/onnx/node-runtime";
import { Rng } from "../../../trainer/random";
import { treeFromSpec } from "../../fixtures/fixture-models";
import { designRow, referenceP } from "./reference-model";

const f32 = Math.fround;

/** Manifest order differs from preprocessing order on purpose: inputs go by name, X by preprocessing. */
const features: FeatureSpec[] = [
  { name: "plan", kind: "categorical", categories: ["basic", "plus", "pro"], closed: false, nullable: true },
  { name: "age", kind: "numeric", integer: false, nullable: true },
  { name: "region", kind: "categorical", categories: ["north", "south"], closed: false, nullable: true },
  { name: "income", kind: "numeric", integer: false, nullable: false },
];
// X columns: 0 age, 1 income, 2 basic, 3 plus, 4 pro, 5 north, 6 south.
const pre: Preprocessing = {
  numeric: [
    { name: "age", impute: 36, mean: 40, scale: 0.125 },
    { name: "income", impute: f32(52.5), mean: f32(48.3), scale: f32(1 / 17.9) },
  ],
  categorical: [
    { name: "plan", categories: ["basic", "plus", "pro"], handle_unknown: "ignore" },
    { name: "region", categories: ["north", "south"], handle_unknown: "ignore" },
  ],
};
const WIDTH = 7;

const nextUp = (v: number) => {
  const b = new Float32Array([v]);
  new Uint32Array(b.buffer)[0]! += 1;
  return b[0]!;
};
const incomeZ = (v: number) => f32(f32(f32(v) - f32(48.3)) * f32(1 / 17.9));
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** age <= 48 (z = 1) -> 0.25. */
const stump = treeFromSpec([0, 1, 0.25, 0.75]);
/** not pro: (south ? 0.375 : 0.125); pro: (income <= 48.3 ? 0.625 : 0.875). */
const depth2 = treeFromSpec([4, 0.5, [6, 0.5, 0.125, 0.375], [1, 0, 0.625, 0.875]]);
const leaf = treeFromSpec(0.5);

const base = { plan: "basic", age: 30, region: "north", income: 20 };
const exactRows: FeatureRow[] = [
  { ...base, age: 48 }, // on the age threshold: goes left
  { ...base, age: nextUp(48), plan: "pro", income: 48.3 }, // one float above it; income on its threshold
  { ...base, age: null, plan: "pro", income: nextUp(f32(48.3)) }, // null -> 36; income just above
  { ...base, age: Number.NaN, plan: "enterprise", region: "south" }, // NaN imputed; unknown plan -> zeros
  { ...base, age: 56, plan: "", region: "" }, // empty strings -> all zeros
  { ...base, age: 10, plan: null, region: "east" },
];
const stumpP = [0.25, 0.75, 0.25, 0.25, 0.75, 0.25];
const depth2P = [0.125, 0.625, 0.875, 0.375, 0.125, 0.125];

function exportModel(model: TrainedModel, feats: FeatureSpec[] = features, preprocessing: Preprocessing = pre): Uint8Array {
  return exportOnnx({ modelName: "test-model", features: feats, preprocessing, model, producerVersion: "0.0.0-test" });
}

async function predict(model: TrainedModel, rows: FeatureRow[]): Promise<Float32Array> {
  const session = await createSession(exportModel(model));
  try {
    return await runRows(session, features, rows);
  } finally {
    await session.release();
  }
}

describe("exportOnnx on hand-computed cases", () => {
  it("scores a stump exactly, with x <= t going left on the threshold itself", async () => {
    expect(Array.from(await predict({ family: "random_forest", trees: [stump] }, exactRows))).toEqual(stumpP);
  });

  it("scores a depth-2 tree over one-hot and scaled columns, unknown and empty categories as zeros", async () => {
    expect(Array.from(await predict({ family: "random_forest", trees: [depth2] }, exactRows))).toEqual(depth2P);
  });

  it("maps a missing category (null or \"\") to the training constant before one-hot encoding, when given one", async () => {
    const onnx = exportOnnx({
      modelName: "test-model",
      features,
      preprocessing: pre,
      imputeCategories: { plan: "pro", region: "south" },
      model: { family: "random_forest", trees: [depth2] },
      producerVersion: "0.0.0-test",
    });
    const session = await createSession(onnx);
    // Rows 4 (plan "", region "") and 5 (plan null, region "east") now score plan as "pro":
    // income 20 <= 48.3 -> 0.625; an unknown region stays all zeros. Rows 0-3 are unchanged.
    expect(Array.from(await runRows(session, features, exactRows))).toEqual([0.125, 0.625, 0.875, 0.375, 0.625, 0.625]);
    await session.release();
  });

  it("averages a forest of three trees, one of them a single leaf", async () => {
    const p = await predict({ family: "random_forest", trees: [stump, depth2, leaf] }, exactRows);
    exactRows.forEach((_, i) => expect(p[i]).toBeCloseTo((stumpP[i]! + depth2P[i]! + 0.5) / 3, 7));
  });

  it("sums boosting trees onto the base score and applies the sigmoid", async () => {
    const a = treeFromSpec([0, 1, -0.5, 0.75]);
    const b = treeFromSpec([4, 0.5, [6, 0.5, -0.25, 0.25], [1, 0, 0.5, 1]]);
    const c = treeFromSpec(0.125);
    const p = await predict({ family: "gradient_boosting", trees: [a, b, c], baseScore: -0.4 }, exactRows);
    const logits = [-0.4 - 0.5 - 0.25, -0.4 + 0.75 + 0.5, -0.4 - 0.5 + 1, -0.4 - 0.5 + 0.25, -0.4 + 0.75 - 0.25, -0.4 - 0.5 - 0.25];
    // ORT's float32 Sigmoid is within 2e-7 of the exact value (see ort-behaviour.test.ts).
    logits.forEach((z, i) => expect(Math.abs(p[i]! - sigmoid(z + 0.125))).toBeLessThan(1e-6));
  });

  it("exports boosting that kept zero rounds as the constant sigmoid(base)", async () => {
    const p = await predict({ family: "gradient_boosting", trees: [], baseScore: -1.25 }, exactRows);
    p.forEach((v) => expect(Math.abs(v - sigmoid(-1.25))).toBeLessThan(1e-6));
  });

  it("applies hand-set logistic regression coefficients to the design matrix", async () => {
    const coef = [0.8, -0.5, 0.3, -0.2, 1.1, 0.05, -0.4];
    const p = await predict({ family: "logistic_regression", coef: Float64Array.from(coef), intercept: -0.25 }, exactRows);
    const ageZ = [1, f32(f32(nextUp(48) - 40) * 0.125), -0.5, -0.5, 2, -3.75];
    const incZ = [incomeZ(20), 0, incomeZ(nextUp(f32(48.3))), incomeZ(20), incomeZ(20), incomeZ(20)];
    const oneHot = [0.3 + 0.05, 1.1 + 0.05, 1.1 + 0.05, -0.4, 0, 0];
    exactRows.forEach((_, i) => {
      const z = -0.25 + 0.8 * ageZ[i]! - 0.5 * incZ[i]! + oneHot[i]!;
      expect(Math.abs(p[i]! - sigmoid(z))).toBeLessThan(1e-6);
    });
  });
});

describe("exportOnnx against a plain TypeScript evaluation", () => {
  const rng = new Rng("onnx-export-test");
  const rows = randomRows(rng.fork("rows"), 400);
  // Thresholds are design-matrix values of real rows, so many rows land exactly on a split.
  const designs = rows.map((r) => designRow(pre, r));
  const forestTrees = Array.from({ length: 25 }, (_, t) => randomTree(rng.fork(`tree${t}`), designs, 5, false));
  const boostTrees = Array.from({ length: 25 }, (_, t) => randomTree(rng.fork(`boost${t}`), designs, 4, true));
  const coefRng = rng.fork("coef");
  const models: [string, TrainedModel, number][] = [
    ["random forest", { family: "random_forest", trees: forestTrees }, 1e-6],
    ["gradient boosting", { family: "gradient_boosting", trees: boostTrees, baseScore: -0.7 }, 1e-6],
    ["logistic regression", {
      family: "logistic_regression",
      coef: Float64Array.from({ length: WIDTH }, () => coefRng.normal(0, 1)),
      intercept: 0.3,
    }, 1e-6],
  ];

  for (const [label, model, tolerance] of models)
    it(`${label}: 400 random rows within ${tolerance}`, async () => {
      const p = await predict(model, rows);
      const expected = referenceP(model, pre, rows);
      let worst = 0;
      rows.forEach((_, i) => (worst = Math.max(worst, Math.abs(p[i]! - expected[i]!))));
      expect(worst).toBeLessThan(tolerance);
    });

  it("puts many rows exactly on split thresholds (the case float32 parity is about)", () => {
    let onThreshold = 0;
    for (const tree of forestTrees)
      for (const x of designs)
        for (let n = 0; n >= 0 && tree.feature[n]! >= 0; ) {
          if (x[tree.feature[n]!] === tree.threshold[n]) onThreshold++;
          n = x[tree.feature[n]!]! <= tree.threshold[n]! ? tree.left[n]! : tree.right[n]!;
        }
    expect(onThreshold).toBeGreaterThan(20);
  });
});

describe("exported graph", () => {
  const forest: TrainedModel = { family: "random_forest", trees: [stump, depth2, leaf] };
  let session: Session;
  beforeAll(async () => {
    session = await createSession(exportModel(forest));
  });
  afterAll(() => session.release());

  it("outputs probabilities [N,2] whose rows are [1-p, p] and sum to 1", async () => {
    const rows = randomRows(new Rng("shape"), 257);
    const { dims, data } = await runProbabilities(session, features, rows);
    expect(dims).toEqual([257, 2]);
    for (let i = 0; i < 257; i++) {
      expect(Math.abs(data[2 * i]! + data[2 * i + 1]! - 1)).toBeLessThanOrEqual(1e-7);
      expect(data[2 * i]).toBe(f32(1 - data[2 * i + 1]!));
    }
    expect(Array.from((await runProbabilities(session, features, [exactRows[0]!])).dims)).toEqual([1, 2]);
    expect(await runRows(session, features, [])).toEqual(new Float32Array(0));
  });

  it("declares one [N,1] input per feature in manifest order, typed by kind, and IR 10 with the declared opsets", () => {
    const model = decodeModel(exportModel(forest));
    expect(Number(model.irVersion)).toBe(onnxFormat().ir_version);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([["", 19], ["ai.onnx.ml", 5]]);
    expect(onnxFormat()).toEqual({ ir_version: 10, opsets: { "ai.onnx": 19, "ai.onnx.ml": 5 }, output: "probabilities" });
    const graph = model.graph!;
    expect(graph.input!.map((i) => [i.name, i.type!.tensorType!.elemType, i.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))]))
      .toEqual([["plan", 8, ["N", 1]], ["age", 1, ["N", 1]], ["region", 8, ["N", 1]], ["income", 1, ["N", 1]]]);
    expect(graph.output!.map((o) => [o.name, o.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))])).toEqual([
      ["probabilities", ["N", 2]],
      ["design", ["N", WIDTH]],
    ]);
    expect(graph.node!.map((n) => n.opType)).toEqual([
      "Concat", "Imputer", "Scaler", "OneHotEncoder", "Flatten", "OneHotEncoder", "Flatten", "Concat", "TreeEnsemble", "Identity", "Sub", "Concat",
    ]);
  });

  it("outputs the design matrix the model saw, alone or with the probabilities, and refuses a feature named after it", async () => {
    const session = await createSession(exportModel({ family: "random_forest", trees: [depth2] }));
    const tensors = buildTensors(features, exactRows);
    const both = await session.run(tensors, [PROBABILITIES_OUTPUT, DESIGN_OUTPUT]);
    const onlyP = await session.run(tensors, [PROBABILITIES_OUTPUT]);
    const onlyDesign = await session.run(tensors, [DESIGN_OUTPUT]);
    expect(Object.keys(onlyP)).toEqual([PROBABILITIES_OUTPUT]);
    expect(Object.keys(onlyDesign)).toEqual([DESIGN_OUTPUT]);
    expect(both[PROBABILITIES_OUTPUT]!.data).toEqual(onlyP[PROBABILITIES_OUTPUT]!.data);
    expect(Array.from(both[DESIGN_OUTPUT]!.dims)).toEqual([exactRows.length, WIDTH]);
    // The reference preprocessing, bit for bit: imputed, scaled, one-hot, unknown and "" as zeros.
    expect(both[DESIGN_OUTPUT]!.data).toEqual(Float32Array.from(exactRows.flatMap((r) => Array.from(designRow(pre, r)))));
    expect(onlyDesign[DESIGN_OUTPUT]!.data).toEqual(both[DESIGN_OUTPUT]!.data);
    const withDesign = await runWithDesign(session, features, exactRows);
    expect(Array.from(withDesign.p)).toEqual(depth2P);
    expect(withDesign.width).toBe(WIDTH);
    await session.release();
    const clash: FeatureSpec[] = [{ name: "design", kind: "numeric", integer: false, nullable: false }];
    expect(() => exportModel({ family: "random_forest", trees: [stump] }, clash, { numeric: [{ name: "design", impute: 0, mean: 0, scale: 1 }], categorical: [] }))
      .toThrow(/clashes with graph tensor names/);
  });

  it("is deterministic: the same inputs give byte-identical files", () => {
    const a = exportModel(forest);
    const b = exportModel({ family: "random_forest", trees: [treeFromSpec([0, 1, 0.25, 0.75]), depth2, treeFromSpec(0.5)] });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(onnxManifestBlock(a)).toEqual(onnxManifestBlock(b));
    expect(onnxManifestBlock(a).size).toBe(a.byteLength);
  });

  it("works without numeric or without categorical features", async () => {
    const catOnly = features.filter((f) => f.kind === "categorical");
    const numOnly = features.filter((f) => f.kind === "numeric");
    const a = await createSession(exportModel({ family: "random_forest", trees: [treeFromSpec([1, 0.5, 0.25, 0.75])] }, catOnly, { numeric: [], categorical: pre.categorical }));
    const b = await createSession(exportModel({ family: "random_forest", trees: [stump] }, numOnly, { numeric: pre.numeric, categorical: [] }));
    expect(Array.from(await runRows(a, catOnly, [{ plan: "plus" }, { plan: "pro" }]))).toEqual([0.75, 0.25]);
    expect(Array.from(await runRows(b, numOnly, [{ age: 48, income: 1 }, { age: 49, income: 1 }]))).toEqual([0.25, 0.75]);
    await Promise.all([a.release(), b.release()]);
  });
});

describe("exportOnnx rejects inconsistent inputs", () => {
  const forest: TrainedModel = { family: "random_forest", trees: [stump] };
  it.each([
    ["a coefficient count that is not the design width", () => exportModel({ family: "logistic_regression", coef: new Float64Array(6), intercept: 0 }), /6 coefficients, design matrix has 7/],
    ["a split on a column past the design matrix", () => exportModel({ family: "random_forest", trees: [treeFromSpec([7, 0, 0, 1])] }), /splits on column 7/],
    ["a feature without preprocessing", () => exportModel(forest, [...features, { name: "extra", kind: "numeric", integer: false, nullable: false }]), /extra has no preprocessing/],
    ["a kind mismatch", () => exportModel(forest, features.map((f) => (f.name === "income" ? { name: "income", kind: "categorical", categories: ["a"], closed: false, nullable: false } : f))), /lists income as numeric/],
    ["an empty-string category", () => exportModel(forest, features, { ...pre, categorical: [{ ...pre.categorical[0]!, categories: ["basic", ""] }, pre.categorical[1]!] }), /"" means missing/],
    ["a non-finite scale", () => exportModel(forest, features, { ...pre, numeric: [{ ...pre.numeric[0]!, scale: Number.POSITIVE_INFINITY }, pre.numeric[1]!] }), /age.scale is Infinity/],
    ["a tree with a cycle", () => exportModel({ family: "random_forest", trees: [{ ...stump, left: Int32Array.from([0, -1, -1]) }] }), /node 0 is reached twice/],
    ["no trees", () => exportModel({ family: "random_forest", trees: [] }), /no trees/],
    [
      "a missing-category constant for a numeric feature",
      () => exportOnnx({ modelName: "m", features, preprocessing: pre, imputeCategories: { age: "x" }, model: forest, producerVersion: "0" }),
      /imputeCategories names age, which is not a categorical feature/,
    ],
  ])("%s", (_, run, message) => {
    expect(run).toThrow(message);
  });
});

function randomRows(rng: Rng, n: number): FeatureRow[] {
  const cat = (values: string[]) => {
    const r = rng.next();
    if (r < 0.05) return null;
    if (r < 0.1) return "";
    if (r < 0.15) return "unseen";
    return values[rng.int(values.length)]!;
  };
  return Array.from({ length: n }, () => ({
    plan: cat(["basic", "plus", "pro"]),
    age: rng.next() < 0.1 ? null : Math.round(rng.normal(40, 12) * 10) / 10,
    region: cat(["north", "south"]),
    income: rng.normal(48, 18),
  }));
}

function randomTree(rng: Rng, designs: Float32Array[], depth: number, additive: boolean): Tree {
  const build = (d: number): Parameters<typeof treeFromSpec>[0] => {
    if (d === 0 || rng.next() < 0.15) return additive ? rng.normal(0, 0.5) : rng.next();
    const column = rng.int(WIDTH);
    const threshold = column < 2 ? designs[rng.int(designs.length)]![column]! : 0.5;
    return [column, threshold, build(d - 1), build(d - 1)];
  };
  return treeFromSpec(build(depth));
}
