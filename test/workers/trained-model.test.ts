/**
 * A model trained by the real trainer, served inside workerd, gives the trainer's probabilities:
 * the manifest's golden rows hold the trainer's own p (TypeScript model, float64) for 300
 * validation rows, including rows with imputed blanks.
 */
import { describe, expect, it } from "vitest";
import { postJson, registerFixture } from "./helpers";
import { oipInputs } from "../helpers/oip-inputs";

describe("trained model served at the edge", () => {
  it("reproduces the trainer's probabilities within 1e-5 on every golden row", async () => {
    const { manifest } = await registerFixture("trained");
    expect(manifest.model.family).toBe("random_forest");
    expect(manifest.golden.length).toBe(300);
    expect(manifest.golden.some((g) => g.input.total_charges === null)).toBe(true);
    // In chunks of the test environment's MAX_BATCH_ROWS (50).
    let worst = 0;
    for (let start = 0; start < manifest.golden.length; start += 50) {
      const chunk = manifest.golden.slice(start, start + 50);
      const inputs = oipInputs(manifest.features, chunk.map((g) => g.input), { column: true });
      const res = await postJson(`/v2/models/${manifest.name}/infer`, { inputs, outputs: [{ name: "probabilities" }] });
      expect(res.status).toBe(200);
      const [out] = ((await res.json()) as { outputs: { data: number[] }[] }).outputs;
      chunk.forEach((g, i) => {
        worst = Math.max(worst, Math.abs(out!.data[2 * i + 1]! - g.probability));
      });
    }
    expect(worst).toBeLessThanOrEqual(1e-5);

    const batch = await postJson(`/models/${manifest.name}/predict`, { instances: manifest.golden.slice(0, 50).map((g) => g.input) });
    const { predictions } = (await batch.json()) as { predictions: { churn_probability: number }[] };
    predictions.forEach((p, i) => expect(Math.abs(p.churn_probability - manifest.golden[i]!.probability)).toBeLessThanOrEqual(5e-5 + 1e-5));
  });

  it("scores a null payment method as the \"Unknown\" its blank training cells were filled with", async () => {
    const { manifest } = await registerFixture("trained");
    // Golden rows whose CSV cell was blank carry the constant, with the trainer's probability.
    const blanks = manifest.golden.filter((g) => g.input.payment_method === "Unknown").slice(0, 50);
    expect(blanks.length).toBeGreaterThan(10);
    const infer = async (rows: Record<string, unknown>[]) => {
      const inputs = oipInputs(manifest.features, rows, { column: true });
      const res = await postJson(`/v2/models/${manifest.name}/infer`, { inputs, outputs: [{ name: "probabilities" }] });
      expect(res.status).toBe(200);
      const [out] = ((await res.json()) as { outputs: { data: number[] }[] }).outputs;
      return rows.map((_, i) => out!.data[2 * i + 1]!);
    };
    const asNull = await infer(blanks.map((g) => ({ ...g.input, payment_method: null })));
    const asConstant = await infer(blanks.map((g) => g.input));
    expect(asNull).toEqual(asConstant);
    blanks.forEach((g, i) => expect(Math.abs(asNull[i]! - g.probability)).toBeLessThanOrEqual(1e-5));
  });
});
