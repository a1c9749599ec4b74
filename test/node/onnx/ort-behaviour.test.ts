/**
 * The onnxruntime-web 1.30 (wasm) behaviours the exporter relies on, checked directly on tiny
 * graphs so a runtime upgrade that changes one fails here with a clear name.
 */
import * as ort from "onnxruntime-web/wasm";
import { describe, expect, it } from "vitest";
import { DataType, GraphBuilder, ML_DOMAIN } from "../../../trainer/onnx/graph-builder";
import { createSession, type Session } from "../../../trainer/onnx/node-runtime";
import { Rng } from "../../../trainer/random";

const f32 = Math.fround;

async function session(build: (g: GraphBuilder) => void): Promise<Session> {
  const g = new GraphBuilder();
  build(g);
  return createSession(g.encode({
    graphName: "probe", irVersion: 10, opsets: { "": 19, [ML_DOMAIN]: 5 },
    producerName: "test", producerVersion: "0", docString: "",
  }));
}

describe("onnxruntime-web behaviours the exporter relies on", () => {
  it("Imputer + Scaler compute fround(fround(v - mean) * scale) bit for bit", async () => {
    const mean = [f32(38.2), f32(1397.47), f32(-3.3)];
    const scale = [f32(1 / 7.3), f32(1 / 2266.77), f32(3.7)];
    const impute = [f32(41.5), f32(800.25), f32(0.1)];
    const s = await session((g) => {
      const inputs = ["a", "b", "c"].map((n) => g.input(n, DataType.FLOAT, 1));
      const raw = g.node("Concat", inputs, "raw", { axis: { int: 1 } });
      const imputed = g.node("Imputer", [raw], "imputed", { imputed_value_floats: { floats: impute }, replaced_value_float: { float: Number.NaN } }, ML_DOMAIN);
      g.node("Scaler", [imputed], "z", { offset: { floats: mean }, scale: { floats: scale } }, ML_DOMAIN);
      g.output("z", DataType.FLOAT, 3);
    });
    const rng = new Rng("scaler-probe");
    const n = 50_000;
    const columns = mean.map((m, j) => Float32Array.from({ length: n }, () => (rng.next() < 0.01 ? Number.NaN : rng.normal(m, 3 / scale[j]!))));
    const feeds = Object.fromEntries(["a", "b", "c"].map((name, j) => [name, new ort.Tensor("float32", columns[j]!, [n, 1])]));
    const z = (await s.run(feeds)).z!.data as Float32Array;
    let mismatches = 0;
    let doubleRounding = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < 3; j++) {
        const v = Number.isNaN(columns[j]![i]!) ? impute[j]! : columns[j]![i]!;
        if (z[i * 3 + j] !== f32(f32(v - mean[j]!) * scale[j]!)) mismatches++;
        if (z[i * 3 + j] !== f32((v - mean[j]!) * scale[j]!)) doubleRounding++;
      }
    expect(mismatches).toBe(0);
    // Evaluating in float64 and rounding once would disagree often: the order of roundings matters.
    expect(doubleRounding).toBeGreaterThan(1000);
    await s.release();
  });

  it("Sigmoid is within 2e-7 of the exact logistic, and flushes far tails to 0 / 1", async () => {
    const s = await session((g) => {
      g.input("x", DataType.FLOAT, 1);
      g.node("Sigmoid", ["x"], "y");
      g.output("y", DataType.FLOAT, 1);
    });
    const n = 60_001;
    const x = Float32Array.from({ length: n }, (_, i) => -30 + (60 * i) / (n - 1));
    const y = (await s.run({ x: new ort.Tensor("float32", x, [n, 1]) })).y!.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(y[i]! - 1 / (1 + Math.exp(-x[i]!))));
    expect(worst).toBeLessThan(2e-7);
    expect(y[0]).toBe(0);
    expect(y[n - 1]).toBe(1);
    await s.release();
  });

  it("string Equal + Where replace the empty string with a constant, leaving other values as they are", async () => {
    const s = await session((g) => {
      g.input("c", DataType.STRING, 1);
      const empty = g.constant("empty", { type: "string", dims: [1], values: [""] });
      const fill = g.constant("fill", { type: "string", dims: [1], values: ["Unknown"] });
      const missing = g.node("Equal", ["c", empty], "missing");
      g.node("Where", [missing, fill, "c"], "y");
      g.output("y", DataType.STRING, 1);
    });
    const y = (await s.run({ c: new ort.Tensor("string", ["b", "", " ", "Unknown", "\u00e9t\u00e9"], [5, 1]) })).y!;
    expect(y.dims).toEqual([5, 1]);
    expect(Array.from(y.data as string[])).toEqual(["b", "Unknown", " ", "Unknown", "\u00e9t\u00e9"]);
    await s.release();
  });

  it("OneHotEncoder with zeros=1 gives [N,1,K], all zeros for unknown and empty strings", async () => {
    const s = await session((g) => {
      g.input("c", DataType.STRING, 1);
      g.node("OneHotEncoder", ["c"], "y", { cats_strings: { strings: ["a", "b"] }, zeros: { int: 1 } }, ML_DOMAIN);
      g.output("y", DataType.FLOAT, [1, 2]);
    });
    const y = (await s.run({ c: new ort.Tensor("string", ["b", "", "zz", "a"], [4, 1]) })).y!;
    expect(y.dims).toEqual([4, 1, 2]);
    expect(Array.from(y.data as Float32Array)).toEqual([0, 1, 0, 0, 0, 0, 1, 0]);
    await s.release();
  });
});
