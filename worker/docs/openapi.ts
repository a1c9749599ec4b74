/**
 * GET /openapi.json: OpenAPI 3.1 generated from the zod schemas. The request body schema is the
 * default model's own row schema (from its production manifest), so the document always matches
 * what /predict validates. GET /docs renders it as a self-contained page (no CDN; works offline).
 */
import { Hono } from "hono";
import { z } from "zod";
import type { Manifest } from "../contract/manifest";
import type { AppEnv } from "../http/context";
import { compileVersion } from "../inference/model-cache";
import { buildRowSchema, exampleRow } from "../contract/row-schema";
import { type Db, resolveVersion } from "../registry/registry";
import { renderDocsPage } from "./docs-page";

export const docsRoutes = new Hono<AppEnv>();

const errorEnvelope = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    request_id: z.string(),
    details: z.unknown().optional(),
  }),
});

function predictionSchema(label: string) {
  return z.object({
    [`${label}_probability`]: z.number().min(0).max(1).describe("positive-class probability, 4 decimals"),
    [`${label}_prediction`]: z.boolean().describe("probability >= the version's threshold"),
    risk_tier: z.string(),
  });
}

export function buildOpenApi(manifest: Manifest | null, maxBatchRows: number) {
  const label = manifest?.output.label ?? "prediction";
  const row = manifest ? buildRowSchema(manifest) : z.record(z.string(), z.union([z.number(), z.string(), z.null()]));
  const ids = { model: z.string(), model_version: z.string(), request_id: z.string() };
  const single = predictionSchema(label).extend(ids);
  const batch = z.object({ predictions: z.array(predictionSchema(label)), ...ids });
  const batchRequest = z.object({ instances: z.array(row).min(1).max(maxBatchRows) });
  const json = (schema: z.ZodType) => z.toJSONSchema(schema, { target: "openapi-3.0", unrepresentable: "any" });
  const errors = Object.fromEntries(
    [
      ["400", "malformed JSON or wrong content type"],
      ["404", "unknown model, version or alias"],
      ["413", "body over the size limit"],
      ["422", "schema violation; details.issues names every failing field"],
      ["503", "artifact failed to load; other versions keep serving"],
    ].map(([status, description]) => [status, { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } }]),
  );
  const predictOp = (summary: string, params: unknown[] = []) => ({
    summary,
    parameters: [{ name: "alias", in: "query", schema: { type: "string", default: "production" } }, ...params],
    requestBody: {
      required: true,
      content: {
        "application/json": {
          schema: { oneOf: [{ $ref: "#/components/schemas/Row" }, { $ref: "#/components/schemas/BatchRequest" }] },
          ...(manifest ? { example: exampleRow(manifest) } : {}),
        },
      },
    },
    responses: {
      "200": {
        description: "one prediction, or {predictions} for a batch",
        headers: { "x-model-version": { schema: { type: "string" } }, "x-request-id": { schema: { type: "string" } } },
        content: { "application/json": { schema: { oneOf: [json(single), json(batch)] } } },
      },
      ...errors,
    },
  });
  const nameParam = { name: "name", in: "path", required: true, schema: { type: "string" } };
  const versionParam = { name: "version", in: "path", required: true, schema: { type: "integer", minimum: 1 } };
  return {
    openapi: "3.1.0",
    info: {
      title: "Edge MLOps prediction API",
      version: "0.1.0",
      description: manifest ? `Default model: ${manifest.name}. ${manifest.description}` : "No default model is registered yet.",
    },
    paths: {
      "/predict": { post: predictOp("Score one row or a batch with the default model") },
      "/models/{name}/predict": { post: predictOp("Score with a model by name and alias", [nameParam]) },
      "/models/{name}/versions/{version}/predict": { post: predictOp("Score with one exact version", [nameParam, versionParam]) },
      "/invocations": { post: { summary: "MLflow scoring protocol (dataframe_split, dataframe_records, instances, inputs)", responses: errors } },
      "/v2/models/{name}/infer": { post: { summary: "Open Inference Protocol v2 inference", parameters: [nameParam], responses: errors } },
      "/models": { get: { summary: "List registered models", responses: { "200": { description: "models" } } } },
      "/models/{name}": { get: { summary: "A model, its versions and aliases", parameters: [nameParam], responses: errors } },
      "/models/{name}/versions/{version}": { get: { summary: "A version: manifest, metrics, sha256, created, source", parameters: [nameParam, versionParam], responses: errors } },
      "/health": { get: { summary: "Liveness", responses: { "200": { description: "alive" } } } },
      "/ready": { get: { summary: "Readiness: registry reachable and default model loadable", responses: errors } },
    },
    components: {
      schemas: { Row: json(row), BatchRequest: json(batchRequest), Error: json(errorEnvelope) },
    },
  };
}

async function defaultManifest(db: Db, model: string, alias: string): Promise<Manifest | null> {
  try {
    const { row } = await resolveVersion(db, model, { alias });
    return compileVersion(row).manifest;
  } catch {
    return null;
  }
}

docsRoutes.get("/openapi.json", async (c) => {
  const { db, settings: s } = c.get("services");
  return c.json(buildOpenApi(await defaultManifest(db, s.defaultModel, s.defaultAlias), s.maxBatchRows));
});

docsRoutes.get("/docs", async (c) => {
  const { db, settings: s } = c.get("services");
  const manifest = await defaultManifest(db, s.defaultModel, s.defaultAlias);
  return c.html(renderDocsPage(buildOpenApi(manifest, s.maxBatchRows), manifest ? exampleRow(manifest) : {}));
});
