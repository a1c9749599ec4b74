/** MLflow scoring and Open Inference Protocol v2 request shapes, on real sessions. */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../worker/app";
import type { Manifest } from "../../worker/contract/manifest";
import { type Envelope, failingFields, get, postJson, registerFixture, VALID_ROW } from "./helpers";
import { oipInputs } from "../helpers/oip-inputs";

let manifest: Manifest;
let expected: number[];

beforeAll(async () => {
  ({ manifest } = await registerFixture("boosting"));
  expected = manifest.golden.map((g) => Math.round(g.probability * 10_000) / 10_000);
});

const rows = () => manifest.golden.map((g) => g.input);
const columns = () => manifest.features.map((f) => f.name);
type MlflowAnswer = { predictions: { churn_probability: number; churn_prediction: boolean; risk_tier: string }[] };

describe("MLflow scoring protocol", () => {
  it("accepts dataframe_split, dataframe_records, instances and inputs with the same answers", async () => {
    const cols = columns();
    const bodies = {
      dataframe_split: { dataframe_split: { columns: cols, data: rows().map((r) => cols.map((c) => r[c] ?? null)) } },
      dataframe_records: { dataframe_records: rows() },
      instances: { instances: rows() },
      inputs_records: { inputs: rows() },
      inputs_columns: { inputs: Object.fromEntries(cols.map((c) => [c, rows().map((r) => r[c] ?? null)])) },
    };
    for (const [shape, body] of Object.entries(bodies)) {
      const res = await postJson(`/models/${manifest.name}/invocations`, body);
      expect(res.status, shape).toBe(200);
      const answer = (await res.json()) as MlflowAnswer;
      expect(answer.predictions.map((p) => p.churn_probability), shape).toEqual(expected);
      expect(res.headers.get("x-model-version")).toBe("1");
    }
  });

  it("names failing cells in the caller's own layout", async () => {
    const cols = columns();
    const data = [cols.map((c) => (VALID_ROW as Record<string, unknown>)[c]), cols.map((c) => (c === "tenure" ? -3 : (VALID_ROW as Record<string, unknown>)[c]))];
    const res = await postJson(`/models/${manifest.name}/invocations`, { dataframe_split: { columns: cols, data } });
    expect(res.status).toBe(422);
    expect(failingFields((await res.json()) as Envelope)).toEqual([`dataframe_split.data[1][${cols.indexOf("tenure")}] (tenure)`]);
    const rec = await postJson(`/models/${manifest.name}/invocations`, { dataframe_records: [{ ...VALID_ROW, num_products: 0 }] });
    expect(failingFields((await rec.json()) as Envelope)).toEqual(["dataframe_records[0].num_products"]);
  });

  it("rejects zero or two formats, and ragged data", async () => {
    expect((await postJson(`/models/${manifest.name}/invocations`, { rows: [] })).status).toBe(422);
    expect((await postJson(`/models/${manifest.name}/invocations`, { instances: [], inputs: [] })).status).toBe(422);
    const ragged = await postJson(`/models/${manifest.name}/invocations`, { dataframe_split: { columns: ["a", "b"], data: [[1]] } });
    expect(failingFields((await ragged.json()) as Envelope)).toEqual(["dataframe_split.data[0]"]);
    expect((await postJson("/models/missing/invocations", { instances: [VALID_ROW] })).status).toBe(404);
  });
});

describe("Open Inference Protocol v2", () => {
  const tensors = () => oipInputs(manifest.features, rows(), { column: true });

  it("health, server and model metadata, readiness", async () => {
    expect(await (await get("/v2/health/live")).json()).toEqual({ live: true });
    expect(await (await get("/v2/health/ready")).json()).toEqual({ ready: true });
    expect(((await (await get("/v2")).json()) as { name: string }).name).toBe("edge-mlops");
    const meta = (await (await get(`/v2/models/${manifest.name}`)).json()) as { name: string; versions: string[]; inputs: { name: string; datatype: string }[] };
    expect(meta.name).toBe(manifest.name);
    expect(meta.versions).toEqual(["1"]);
    expect(meta.inputs.map((i) => `${i.name}:${i.datatype}`)).toContain("contract_type:BYTES");
    expect((await (await get(`/v2/models/${manifest.name}/versions/1`)).json()) as object).toMatchObject({ versions: ["1"] });
    expect(await (await get(`/v2/models/${manifest.name}/ready`)).json()).toEqual({ name: manifest.name, version: "1", ready: true });
  });

  it("infers from one tensor per feature and returns probabilities, labels and tiers", async () => {
    for (const path of [`/v2/models/${manifest.name}/infer`, `/v2/models/${manifest.name}/versions/1/infer`]) {
      const res = await postJson(path, { id: "req-1", inputs: tensors() });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { id: string; model_version: string; outputs: { name: string; shape: number[]; data: unknown[] }[] };
      expect(body.id).toBe("req-1");
      expect(body.model_version).toBe("1");
      const out = Object.fromEntries(body.outputs.map((o) => [o.name, o]));
      expect(out.probabilities!.shape).toEqual([rows().length, 2]);
      const p = out.probabilities!.data as number[];
      for (const [i, g] of manifest.golden.entries()) {
        expect(Math.abs(p[2 * i + 1]! - g.probability)).toBeLessThan(1e-6);
        expect(Math.abs(p[2 * i]! + p[2 * i + 1]! - 1)).toBeLessThan(1e-6);
      }
      expect(out.churn_probability!.data).toEqual(expected);
      expect(out.churn_prediction!.data).toEqual(manifest.golden.map((g) => g.probability >= 0.5));
    }
  });

  it("filters requested outputs", async () => {
    const res = await postJson(`/v2/models/${manifest.name}/infer`, { inputs: tensors(), outputs: [{ name: "risk_tier" }] });
    const body = (await res.json()) as { outputs: { name: string }[] };
    expect(body.outputs.map((o) => o.name)).toEqual(["risk_tier"]);
  });

  it("answers errors as {error: message}: 404 for unknown models, 400 for every client error", async () => {
    const missing = await get("/v2/models/nope");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "model nope is not registered" });

    const infer = (body: unknown) => postJson(`/v2/models/${manifest.name}/infer`, body);
    const expect400 = async (res: Response, message: RegExp) => {
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string };
      expect(Object.keys(body)).toEqual(["error"]);
      expect(body.error).toMatch(message);
    };
    const bad = tensors().map((t) => (t.name === "tenure" ? { ...t, data: t.data.map(() => -1) } : t));
    await expect400(await infer({ inputs: bad }), /inputs\[tenure\]\.data\[0\]/);
    await expect400(await infer({ inputs: tensors().filter((t) => t.name !== "tenure") }), /inputs\[tenure\]\.data\[0\]: required/);
    await expect400(await infer({ inputs: [{ ...tensors()[0]!, shape: [3, 2] }] }), /shape/);
    await expect400(await infer({ inputs: [{ ...tensors()[0]!, shape: [rows().length + 1, 1] }] }), /does not match/);
    await expect400(await infer({ inputs: [{ ...tensors()[0]!, datatype: "COMPLEX128" }] }), /unsupported datatype "COMPLEX128"/);
    await expect400(await infer({ inputs: [] }), /expected \{"inputs"/);
    await expect400(await infer("{nope"), /malformed JSON/);
  });

  it("accepts [N,1] data nested one level, and refuses deeper nesting with 400 without walking it", async () => {
    const nested = tensors().map((t) => ({ ...t, data: t.data.map((v) => [v]) }));
    const ok = await postJson(`/v2/models/${manifest.name}/infer`, { inputs: nested });
    expect(ok.status).toBe(200);

    // 40 KB of brackets, 20,000 levels deep: recursive flattening overflowed the stack (a 500).
    const deep = `${"[".repeat(20_000)}1${"]".repeat(20_000)}`;
    const body = `{"inputs":[{"name":"tenure","shape":[1,1],"datatype":"FP32","data":${deep}}]}`;
    expect(body.length).toBeLessThan(65_536);
    const res = await postJson(`/v2/models/${manifest.name}/infer`, body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/inputs\[tenure\]\.data: nested deeper than its shape/);

    const flatShape = await postJson(`/v2/models/${manifest.name}/infer`, { inputs: [{ ...tensors()[0]!, shape: [rows().length], data: nested[0]!.data }] });
    expect(flatShape.status).toBe(400);
  });
});

describe("OIP error shape covers the whole /v2 tree", () => {
  it("answers GET /v2 on a misconfigured Worker with {error} too, not the service envelope", async () => {
    const res = await createApp().request("/v2", {}, { ...env, MAX_BATCH_ROWS: "ten" });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: unknown };
    expect(typeof body.error).toBe("string");
    expect(body.error).toContain("MAX_BATCH_ROWS");
  });
});
