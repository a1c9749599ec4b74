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
import { trainFixtureModel } from "../fixtures/trained-model";
import { startWranglerDev, type WranglerDev } from "../../scripts/lib/wrangler-dev-server";

let dir: string;
let server: WranglerDev | undefined;
let base: string;
let manifest: Manifest;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "e2e-wrangler-"));
  const trained = await trainFixtureModel();
  manifest = trained.manifest;
  applyLocalMigrations(dir);
  await withLocalBindings(
    (env) => publishVersion(localPublishTarget(env), { manifest, onnx: trained.onnx, createdBy: "e2e", aliases: ["production"] }),
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
    const batch = (await (await post("/predict", { instances: rows })).json()) as { predictions: unknown[] };
    expect(batch.predictions).toHaveLength(20);
    const mlflow = (await (await post("/invocations", { dataframe_records: rows })).json()) as { predictions: unknown[] };
    expect(mlflow.predictions).toEqual(batch.predictions);
    const inputs = manifest.features.map((f) => ({ name: f.name, shape: [20], datatype: f.kind === "numeric" ? "FP64" : "BYTES", data: rows.map((r) => r[f.name] ?? null) }));
    const oip = await post(`/v2/models/${manifest.name}/infer`, { inputs });
    expect(oip.status).toBe(200);
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
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(doc.paths["/predict"]).toBeDefined();
    const version = (await (await fetch(`${base}/models/${manifest.name}/versions/1`)).json()) as { sha256: string };
    expect(version.sha256).toBe(manifest.onnx.sha256);
  });
});
