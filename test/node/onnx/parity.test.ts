import { describe, expect, it } from "vitest";
import type { TrainedModel } from "../../../trainer/models/types";
import { assertParity, checkParity, ParityError } from "../../../trainer/onnx/parity";
import { exportOnnx } from "../../../trainer/onnx/export";
import { Rng } from "../../../trainer/random";
import { churnFeatures, churnPreprocessing, randomChurnRows, treeFromSpec } from "../../fixtures/fixture-models";
import { referenceP } from "./reference-model";

const model: TrainedModel = {
  family: "gradient_boosting",
  baseScore: -1,
  trees: [treeFromSpec([0, -0.3, 0.8, -0.4]), treeFromSpec([4, 0.5, -0.2, 0.6]), treeFromSpec([2, 0.1, 0.1, -0.1])],
};
const onnx = exportOnnx({ modelName: "parity", features: churnFeatures, preprocessing: churnPreprocessing, model, producerVersion: "0" });
const rows = randomChurnRows(new Rng("parity-test"), 200);
const expected = referenceP(model, churnPreprocessing, rows);

describe("checkParity", () => {
  it("passes when the trainer's probabilities match the ONNX file", async () => {
    const report = await checkParity({ onnx, features: churnFeatures, rows, expected });
    expect(report.ok).toBe(true);
    expect(report.rows).toBe(200);
    expect(report.tolerance).toBe(1e-5);
    expect(report.maxAbsDiff).toBeLessThan(1e-6);
    expect(report.worstRow).toBeGreaterThanOrEqual(0);
  });

  it("names the worst row when one prediction is off", async () => {
    const off = Float64Array.from(expected);
    off[37]! += 2e-5;
    off[90]! -= 1e-3;
    const report = await checkParity({ onnx, features: churnFeatures, rows, expected: off });
    expect(report).toMatchObject({ ok: false, worstRow: 90, rows: 200 });
    expect(report.maxAbsDiff).toBeCloseTo(1e-3, 6);
    await expect(assertParity({ onnx, features: churnFeatures, rows, expected: off })).rejects.toThrow(
      /ONNX parity failed: max \|p_onnx - p_trainer\| = 1\.000e-3 > 0\.00001 at row 90 of 200 .*"tenure":/,
    );
    await expect(assertParity({ onnx, features: churnFeatures, rows, expected: off, tolerance: 1e-2 })).resolves.toMatchObject({ ok: true });
  });

  it("fails on NaN instead of treating it as a small difference", async () => {
    const nan = Float64Array.from(expected);
    nan[5] = Number.NaN;
    const error = await assertParity({ onnx, features: churnFeatures, rows, expected: nan }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParityError);
    expect((error as ParityError).report).toMatchObject({ ok: false, worstRow: 5, maxAbsDiff: Number.POSITIVE_INFINITY });
  });

  it("rejects a row count that does not match the expected probabilities", async () => {
    await expect(checkParity({ onnx, features: churnFeatures, rows, expected: expected.subarray(1) })).rejects.toThrow(/200 rows but 199/);
  });
});
