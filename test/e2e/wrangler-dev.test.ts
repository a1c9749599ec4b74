/**
 * End to end against a real `wrangler dev`: local D1 + R2 state prepared the way `npm start` does
 * (migrations applied, a model trained by the real trainer published through the worker's own
 * publishVersion() with the Node ORT), then plain HTTP over loopback, as a client would call it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishVersion } from "../../worker/registry/publish-version";
import type { Manifest } from "../../worker/contract/manifest";
import { applyLocalMigrations, localPublishTarget, withLocalBindings } from "../../trainer/local-registry";
import { cachedFixtureModels } from "../fixtures/fixture-cache";
import { oipInputs } from "../helpers/oip-inputs";
import { startWranglerDev, type WranglerDev } from "../../scripts/lib/wrangler-dev-server";

let dir: string;
let server: WranglerDev | undefined;
let base: string;
let manifest: Manifest;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "e2e-wrangler-"));
  const trained = (await cachedFixtureModels("churn-trained"))[0]!;
  manifest = trained.manifest;
  applyLocalMigrations(dir);
  await withLocalBindings(
    (env) => publishVersion(localPublishTarget(env), { manifest, onnx: trained.onnx, explainer: trained.explainer, createdBy: "e2e", aliases: ["production"] }),
    dir,
  );
  server = await startWranglerDev(dir, { DEFAULT_MODEL: manifest.name });
  base = server.base;
}, 180_000);

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const post = (path: string, body: unknown, type = "application/json") =>
  fetch(`${base}${path}`, { method: "POST", headers: { "content-type": type }, body: typeof body === "string" ? body : JSON.stringify(body) });

describe("wrangler dev, end to end", () => {
  it("is ready and serves the prediction contract with the trainer's probabilities", async () => {
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    for (const golden of manifest.golden.slice(0, 10)) {
      const res = await post("/predict", golden.input);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { churn_probability: number; churn_prediction: boolean; risk_tier: string; model_version: string; request_id: string };
      expect(Math.abs(body.churn_probability - golden.probability)).toBeLessThanOrEqual(5e-5 + 1e-5);
      expect(body.churn_prediction).toBe(golden.probability >= manifest.output.threshold);
      expect(res.headers.get("x-model-version")).toBe("1");
      expect(res.headers.get("x-request-id")).toBe(body.request_id);
    }
  });

  it("answers a batch, MLflow and OIP on the same model", async () => {
    const rows = manifest.golden.slice(0, 20).map((g) => g.input);
    const batch = (await (await post("/predict", { instances: rows })).json()) as { predictions: Record<string, unknown>[] };
    expect(batch.predictions).toHaveLength(20);
    const mlflow = (await (await post("/invocations", { dataframe_records: rows })).json()) as { predictions: unknown[] };
    expect(mlflow.predictions).toEqual(batch.predictions);
    const inputs = oipInputs(manifest.features, rows, { numeric: "FP64" });
    const oip = await post(`/v2/models/${manifest.name}/infer`, { id: "e2e-oip", inputs });
    expect(oip.status).toBe(200);
    const body = (await oip.json()) as { model_name: string; model_version: string; id: string; outputs: { name: string; datatype: string; shape: number[]; data: unknown[] }[] };
    expect({ model_name: body.model_name, model_version: body.model_version, id: body.id }).toEqual({ model_name: manifest.name, model_version: "1", id: "e2e-oip" });
    const label = manifest.output.label;
    expect(body.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      [manifest.onnx.output, "FP32", [20, 2]],
      [`${label}_probability`, "FP32", [20]],
      [`${label}_prediction`, "BOOL", [20]],
      ["risk_tier", "BYTES", [20]],
    ]);
    const [raw, probability, prediction, tier] = body.outputs.map((o) => o.data);
    // The same answer as /predict, row for row; the raw tensor is the graph's float32 output, which
    // /predict shows rounded to 4 decimals, and whose two columns sum to 1.
    expect(probability).toEqual(batch.predictions.map((p) => p[`${label}_probability`]));
    expect(prediction).toEqual(batch.predictions.map((p) => p[`${label}_prediction`]));
    expect(tier).toEqual(batch.predictions.map((p) => p.risk_tier));
    batch.predictions.forEach((p, i) => {
      const [p0, p1] = [raw![2 * i] as number, raw![2 * i + 1] as number];
      expect(Math.abs(p1 - (p[`${label}_probability`] as number)), `row ${i}`).toBeLessThanOrEqual(5e-5 + 1e-7);
      expect(Math.abs(p0 + p1 - 1), `row ${i}`).toBeLessThanOrEqual(1e-6);
    });
  });

  it("gives clear errors: 400, 422 naming fields, 404, 413", async () => {
    expect((await post("/predict", "{oops")).status).toBe(400);
    expect((await post("/predict", "{}", "text/plain")).status).toBe(400);
    const invalid = await post("/predict", { ...manifest.golden[0]!.input, contract_type: "Weekly", tenure: -5 });
    expect(invalid.status).toBe(422);
    const fields = ((await invalid.json()) as { error: { details: { issues: { field: string }[] } } }).error.details.issues.map((i) => i.field);
    expect(fields.sort()).toEqual(["contract_type", "tenure"]);
    expect((await post("/models/unknown/predict", manifest.golden[0]!.input)).status).toBe(404);
    expect((await post("/predict", "x".repeat(1_100_000))).status).toBe(413);
  });

  it("publishes OpenAPI and the registry", async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
      openapi: string;
      info: { description: string };
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: { Row: { properties: Record<string, Record<string, unknown>>; required: string[] } } };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.description).toContain(`Default model: ${manifest.name}.`);
    for (const path of ["/predict", "/invocations", `/models/{name}/predict`, "/v2/models/{name}/infer"]) expect(Object.keys(doc.paths[path] ?? {}), path).toContain("post");
    // Row is the served default model's own row schema, feature by feature.
    const row = doc.components.schemas.Row;
    expect(Object.keys(row.properties).sort()).toEqual(manifest.features.map((f) => f.name).sort());
    expect(row.required.sort()).toEqual(manifest.features.filter((f) => !f.nullable).map((f) => f.name).sort());
    expect(row.properties.tenure).toMatchObject({ type: "number", minimum: 0 });
    expect(row.properties.num_products).toMatchObject({ type: "integer", minimum: 1, maximum: 10 });
    expect(row.properties.contract_type).toMatchObject({ enum: ["Month-to-month", "One year", "Two year"] });
    const version = (await (await fetch(`${base}/models/${manifest.name}/versions/1`)).json()) as { sha256: string };
    expect(version.sha256).toBe(manifest.onnx.sha256);
  });
});
