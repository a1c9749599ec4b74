/**
 * The OpenAPI document against the app itself: the same routes in both directions, OpenAPI 3.1
 * schemas (JSON Schema 2020-12, no `nullable`), real responses that parse with the documented
 * schemas, and /docs (Swagger UI from the Worker's own origin, the plain page for no JavaScript).
 * test/node/openapi-document.test.ts runs a full OpenAPI 3.1 validator over the same document.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { rolloutHistorySchema, rolloutViewSchema } from "../../worker/rollouts/rollouts";
import { createApp } from "../../worker/app";
import type { Manifest } from "../../worker/contract/manifest";
import { TAGS } from "../../worker/docs/openapi";
import * as schemas from "../../worker/docs/openapi-schemas";
import * as views from "../../worker/registry/registry-views";
import { shadowReportSchema, trafficPolicySchema } from "../../worker/registry/registry-views";
import { feedbackResultSchema } from "../../worker/feedback/feedback-schema";
import { SWAGGER_UI_FILES } from "../../worker/docs/swagger-ui-files";
import { adminJson, get, postJson, registerFixture, VALID_ROW } from "./helpers";
import { oipInputs } from "../helpers/oip-inputs";
import { jsonSchema } from "../../worker/docs/openapi-schemas";
import { attributionDriftSchema } from "../../worker/monitoring/attribution-drift";
import { runDriftCron } from "../../worker/monitoring/cron";
import { createServices } from "../../worker/services";
import { customers, putReference, SCHEDULED, writeWindowSamples } from "./drift-setup";

interface Operation {
  operationId: string;
  summary: string;
  tags: string[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
interface Doc {
  openapi: string;
  info: { description: string };
  tags: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>> };
}

/** Predicts one row, then sends a label for it back with the prediction token the answer carried. */
async function labelOwnPrediction(): Promise<Response> {
  const answer = (await (await postJson("/predict", VALID_ROW)).json()) as { prediction_token?: string };
  if (!answer.prediction_token) throw new Error("/predict answered no prediction_token");
  return adminJson("POST", "/feedback", { prediction_token: answer.prediction_token, label: 1 });
}

/** The drift route's envelope; the report inside has its own tests (drift-cron.test.ts). */
const driftReportsSchema = z.object({
  model: z.string(),
  latest: z.array(z.object({ version: z.int(), arms: z.array(z.string()), report: z.unknown() })),
  history: z.array(z.unknown()),
});

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const ORIGIN = "https://edge.test";
let manifest: Manifest;
let doc: Doc;

beforeAll(async () => {
  // The default model, twice, so the alias history has a move from one version to another.
  await registerFixture("forest", { name: env.DEFAULT_MODEL });
  ({ manifest } = await registerFixture("forest", { name: env.DEFAULT_MODEL }));
  // A third, unaliased, for the archive call.
  await registerFixture("forest", { name: env.DEFAULT_MODEL, aliases: [] });
  doc = (await (await get("/openapi.json")).json()) as Doc;
});

function appOperations(): string[] {
  const routes = createApp().routes.filter((r) => !(r.method === "ALL" && (r.path === "*" || r.path === "/*")));
  return [...new Set(routes.map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")}`))].sort();
}

function documentedOperations(d: Doc): [string, string, Operation][] {
  return Object.entries(d.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, op]): [string, string, Operation] => [method.toUpperCase(), path, op]),
  );
}

describe("the document covers the app", () => {
  it("documents every registered route, and no route that does not exist", () => {
    const registered = appOperations();
    const documented = documentedOperations(doc).map(([method, path]) => `${method} ${path}`).sort();
    expect(registered.length).toBeGreaterThan(20);
    expect(registered.filter((r) => !documented.includes(r)), "registered but not documented").toEqual([]);
    expect(documented.filter((d) => !registered.includes(d)), "documented but not registered").toEqual([]);
  });

  it("gives every operation an id, a summary, its tags, its path parameters, and success and error responses in the right envelope", () => {
    const ids = new Set<string>();
    const used = new Set<string>();
    for (const [method, path, op] of documentedOperations(doc)) {
      const where = `${method} ${path}`;
      expect(op.summary, where).toMatch(/\w/);
      expect(ids.has(op.operationId), `${where}: operationId ${op.operationId} repeated`).toBe(false);
      ids.add(op.operationId);
      expect(op.tags.length, where).toBeGreaterThan(0);
      for (const tag of op.tags) used.add(tag);
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const declared = (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name).sort();
      expect(declared, where).toEqual(inPath);
      const statuses = Object.keys(op.responses);
      expect(statuses.some((s) => s.startsWith("2")), `${where}: no success response`).toBe(true);
      const failures = statuses.filter((s) => /^[45]/.test(s));
      expect(failures.length, `${where}: no error response`).toBeGreaterThan(0);
      // app.ts's onError answers in the OIP shape under "/v2/" only.
      const envelope = path === "/v2" || path.startsWith("/v2/") ? "#/components/schemas/OipError" : "#/components/schemas/Error";
      for (const status of failures) expect(op.responses[status]!.content?.["application/json"]?.schema, `${where} ${status}`).toEqual({ $ref: envelope });
    }
    expect([...used].sort()).toEqual(Object.values(TAGS).sort());
    expect(doc.tags.map((t) => t.name).sort()).toEqual(Object.values(TAGS).sort());
  });

  it("documents request bodies: the model's rows, MLflow's four formats, the OIP infer request", () => {
    const body = (method: string, path: string) => doc.paths[path]![method]!.requestBody?.content["application/json"]?.schema;
    expect(body("post", "/predict")).toEqual({ anyOf: [{ $ref: "#/components/schemas/Row" }, { $ref: "#/components/schemas/BatchRequest" }] });
    expect(body("post", "/models/{name}/invocations")).toEqual({ $ref: "#/components/schemas/MlflowRequest" });
    expect(body("post", "/v2/models/{name}/versions/{version}/infer")).toEqual({ $ref: "#/components/schemas/OipInferRequest" });
    const mlflow = doc.components.schemas.MlflowRequest as { oneOf: { required: string[] }[] };
    expect(mlflow.oneOf.map((f) => f.required[0])).toEqual(["dataframe_split", "dataframe_records", "instances", "inputs"]);
    const row = doc.components.schemas.Row as { properties: Record<string, unknown> };
    expect(Object.keys(row.properties)).toEqual(manifest.features.map((f) => f.name));
  });
});

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every object in the document except name maps: keys under `properties` are field names (a manifest has a field called nullable). */
function* walk(node: unknown, path = "#", isNameMap = false): Generator<[string, Record<string, unknown>]> {
  if (Array.isArray(node)) for (const [i, item] of node.entries()) yield* walk(item, `${path}/${i}`);
  else if (node && typeof node === "object") {
    if (!isNameMap) yield [path, node as Record<string, unknown>];
    for (const [key, value] of Object.entries(node)) yield* walk(value, `${path}/${key}`, !isNameMap && key === "properties");
  }
}

function admitsNull(schema: Record<string, unknown>): boolean {
  const type = schema.type;
  if (type === "null" || (Array.isArray(type) && type.includes("null"))) return true;
  return ["anyOf", "oneOf"].some((k) => Array.isArray(schema[k]) && (schema[k] as Record<string, unknown>[]).some(admitsNull));
}

describe("OpenAPI 3.1 schemas", () => {
  it("never uses OpenAPI 3.0's nullable, $schema or $id, and every $ref resolves", () => {
    for (const [path, node] of walk(doc)) {
      expect(Object.hasOwn(node, "nullable"), `${path} has nullable`).toBe(false);
      if (path.startsWith("#/components/schemas/")) {
        expect(Object.hasOwn(node, "$schema"), path).toBe(false);
        expect(Object.hasOwn(node, "$id"), path).toBe(false);
      }
      if (typeof node.$ref === "string") {
        const target = node.$ref.match(/^#\/components\/schemas\/(\w+)$/)?.[1];
        expect(target && doc.components.schemas[target], `${path}: ${node.$ref}`).toBeTruthy();
      }
    }
  });

  it("lets exactly the nullable features, and the nullable registry fields, be null", () => {
    const row = doc.components.schemas.Row as { properties: Record<string, Record<string, unknown>> };
    const nullable = manifest.features.filter((f) => f.nullable).map((f) => f.name);
    expect(nullable).toEqual(["total_charges"]);
    for (const f of manifest.features) expect(admitsNull(row.properties[f.name]!), f.name).toBe(f.nullable);
    expect(row.properties.total_charges).toEqual({ anyOf: [{ type: "number", minimum: 0 }, { type: "null" }] });
    const models = doc.components.schemas.ModelList as { properties: { models: { items: { properties: Record<string, Record<string, unknown>> } } } };
    expect(admitsNull(models.properties.models.items.properties.latest_version!)).toBe(true);
    expect(admitsNull(models.properties.models.items.properties.version_count!)).toBe(false);
  });
});

describe("real responses match the documented schemas", () => {
  const name = () => env.DEFAULT_MODEL;
  const label = () => manifest.output.label;
  const tensors = () => oipInputs(manifest.features, [VALID_ROW], { column: true });
  // One call per documented JSON operation: a response that gains an undocumented field, or loses
  // a documented one, no longer parses to itself.
  const calls: Record<string, () => [Promise<Response>, z.ZodType]> = {
    "POST /predict": () => [postJson("/predict", VALID_ROW), schemas.predictionResponseSchema(label())],
    "POST /models/{name}/predict": () => [postJson(`/models/${name()}/predict`, { instances: [VALID_ROW, VALID_ROW] }), schemas.batchPredictionResponseSchema(label())],
    "POST /models/{name}/versions/{version}/predict": () => [postJson(`/models/${name()}/versions/1/predict`, VALID_ROW), schemas.predictionResponseSchema(label())],
    "POST /invocations": () => [postJson("/invocations", { dataframe_records: [VALID_ROW] }), schemas.mlflowResponseSchema(label())],
    "POST /models/{name}/invocations": () => [postJson(`/models/${name()}/invocations`, { instances: [VALID_ROW] }), schemas.mlflowResponseSchema(label())],
    "GET /v2": () => [get("/v2"), schemas.oipServerMetadataSchema],
    "GET /v2/health/live": () => [get("/v2/health/live"), schemas.oipServerLiveSchema],
    "GET /v2/health/ready": () => [get("/v2/health/ready"), schemas.oipServerReadySchema],
    "GET /v2/models/{name}": () => [get(`/v2/models/${name()}`), schemas.oipModelMetadataSchema],
    "GET /v2/models/{name}/ready": () => [get(`/v2/models/${name()}/ready`), schemas.oipModelReadySchema],
    "POST /v2/models/{name}/infer": () => [postJson(`/v2/models/${name()}/infer`, { id: "a", inputs: tensors() }), schemas.oipInferResponseSchema],
    "GET /v2/models/{name}/versions/{version}": () => [get(`/v2/models/${name()}/versions/1`), schemas.oipModelMetadataSchema],
    "GET /v2/models/{name}/versions/{version}/ready": () => [get(`/v2/models/${name()}/versions/1/ready`), schemas.oipModelReadySchema],
    "POST /v2/models/{name}/versions/{version}/infer": () => [postJson(`/v2/models/${name()}/versions/2/infer`, { inputs: tensors() }), schemas.oipInferResponseSchema],
    "GET /models": () => [get("/models"), views.modelListSchema],
    "GET /models/{name}": () => [get(`/models/${name()}`), views.modelDetailSchema],
    "GET /models/{name}/aliases": () => [get(`/models/${name()}/aliases`), views.aliasHistorySchema],
    "GET /models/{name}/versions/{version}": () => [get(`/models/${name()}/versions/2`), views.versionDetailSchema],
    "GET /health": () => [get("/health"), schemas.healthSchema],
    "GET /ready": () => [get("/ready"), schemas.readySchema],
    // In this order: staging is created at 1, removed, rolled back to 1; version 3 has no alias.
    "PUT /admin/models/{name}/aliases/{alias}": () => [
      adminJson("PUT", `/admin/models/${name()}/aliases/staging`, { version: 1, reason: "try it", evidence: { auc: 0.91 } }),
      views.aliasChangeSchema,
    ],
    "DELETE /admin/models/{name}/aliases/{alias}": () => [adminJson("DELETE", `/admin/models/${name()}/aliases/staging`, { reason: "done" }), views.aliasChangeSchema],
    "POST /admin/models/{name}/rollback": () => [adminJson("POST", `/admin/models/${name()}/rollback`, { alias: "staging", reason: "back" }), views.aliasChangeSchema],
    "GET /models/{name}/aliases/{alias}/history": () => [get(`/models/${name()}/aliases/staging/history`), views.aliasMovesSchema],
    // A canary on version 2 does not stand in the way of archiving version 3.
    "PUT /admin/models/{name}/traffic": () => [
      adminJson("PUT", `/admin/models/${name()}/traffic`, { canary: { version: 2, percent: 0 }, entity_field: "customer_id", reason: "doc check" }),
      trafficPolicySchema,
    ],
    "GET /models/{name}/traffic": () => [get(`/models/${name()}/traffic`), trafficPolicySchema],
    "GET /admin/models/{name}/shadow": () => [adminJson("GET", `/admin/models/${name()}/shadow`, undefined), shadowReportSchema],
    "DELETE /admin/models/{name}/traffic": () => [adminJson("DELETE", `/admin/models/${name()}/traffic`, { reason: "doc check" }), trafficPolicySchema],
    // A rollout of version 1 (production is 2) started (201), read, aborted, then listed.
    "GET /models/{name}/rollouts/current": () => [
      adminJson("POST", `/admin/models/${name()}/rollouts`, { version: 1, steps: [10, 50, 100], reason: "doc check" }).then(async (started) => {
        expect(started.status, await started.clone().text()).toBe(201);
        return get(`/models/${name()}/rollouts/current`);
      }),
      rolloutViewSchema,
    ],
    "POST /admin/models/{name}/rollouts/{id}/abort": () => [
      get(`/models/${name()}/rollouts/current`)
        .then((res) => res.json() as Promise<{ id: number }>)
        .then(({ id }) => adminJson("POST", `/admin/models/${name()}/rollouts/${id}/abort`, { reason: "doc check" })),
      rolloutViewSchema,
    ],
    "GET /models/{name}/rollouts": () => [get(`/models/${name()}/rollouts`), rolloutHistorySchema],
    "GET /monitoring/models/{name}/drift": () => [get(`/monitoring/models/${name()}/drift`), driftReportsSchema],
    "POST /feedback": () => [labelOwnPrediction(), feedbackResultSchema],
    "POST /admin/models/{name}/versions/{version}/archive": () => [
      adminJson("POST", `/admin/models/${name()}/versions/3/archive`, { reason: "never served" }),
      views.archivedVersionSchema,
    ],
  };

  it("has a call for every operation that answers JSON, except the document itself", () => {
    const json = documentedOperations(doc)
      .filter(([, path, op]) => Object.keys(op.responses["200"]?.content ?? {}).join() === "application/json" && path !== "/openapi.json")
      .map(([method, path]) => `${method} ${path}`)
      .sort();
    expect(Object.keys(calls).sort()).toEqual(json);
  });

  it("answers 200 with bodies that parse to themselves", async () => {
    for (const [operation, call] of Object.entries(calls)) {
      const [pending, schema] = call();
      const res = await pending;
      const body = (await res.json()) as Json;
      expect(res.status, `${operation}: ${JSON.stringify(body)}`).toBe(200);
      expect(schema.parse(body), operation).toEqual(body);
    }
  });

  it("documents the drift report's attribution block with the schema a real block parses with", async () => {
    const { manifest: trained } = await registerFixture("trained");
    await putReference(trained.name, 1, trained, customers(trained, { rows: 300, seed: "openapi-reference" }));
    await writeWindowSamples(trained.name, 1, trained, customers(trained, { rows: 120, seed: "openapi-window" }));
    await runDriftCron(createServices(env, undefined), { scheduledTime: SCHEDULED, model: trained.name });
    const res = await get(`/monitoring/models/${trained.name}/drift`);
    expect(res.status).toBe(200);
    const body = driftReportsSchema.parse(await res.json());
    const attribution = (body.latest[0]!.report as { report: { attribution: unknown } }).report.attribution;
    expect(attributionDriftSchema.parse(attribution)).toEqual(attribution);
    expect(attribution).toMatchObject({ status: "ok", rows: 120 });
    // The documented block is the zod schema the real one parsed with, as JSON Schema.
    const drift = doc.paths["/monitoring/models/{name}/drift"]!.get!.responses["200"]!.content!["application/json"]!.schema as {
      properties: { history: { items: { properties: { report: { properties: Record<string, unknown> } } } } };
    };
    expect(drift.properties.history.items.properties.report.properties.attribution).toEqual(JSON.parse(JSON.stringify(jsonSchema(attributionDriftSchema))));
  });

  it("serves artifacts with the documented media types", async () => {
    const artifact = doc.paths["/models/{name}/versions/{version}/artifacts/{file}"]!.get!;
    const documented = Object.keys(artifact.responses["200"]!.content!);
    expect(documented.sort()).toEqual(["application/json", "application/octet-stream", "text/markdown"]);
    // Fixtures are published without a model card, so only these two are stored.
    const types: Record<string, string> = { "model.onnx": "application/octet-stream", "manifest.json": "application/json" };
    for (const [file, type] of Object.entries(types)) {
      expect(documented).toContain(type);
      const res = await get(`/models/${name()}/versions/1/artifacts/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get("content-type")?.split(";")[0], file).toBe(type);
      expect(res.headers.get("etag"), file).toBeTruthy();
      await res.arrayBuffer();
    }
  });

  it("answers errors with documented statuses, in the documented envelopes", async () => {
    const cases: [string, Promise<Response>, number, z.ZodType][] = [
      ["get /models/{name}", get("/models/no-such-model"), 404, schemas.errorEnvelopeSchema],
      ["post /predict", postJson("/predict", { ...VALID_ROW, tenure: -1 }), 422, schemas.errorEnvelopeSchema],
      ["post /invocations", postJson("/invocations", "{nope"), 400, schemas.errorEnvelopeSchema],
      ["post /admin/models/{name}/rollback", adminJson("POST", `/admin/models/${name()}/rollback`, { reason: "x" }, { token: null }), 401, schemas.errorEnvelopeSchema],
      ["put /admin/models/{name}/aliases/{alias}", adminJson("PUT", `/admin/models/${name()}/aliases/x`, { version: 0 }), 422, schemas.errorEnvelopeSchema],
      ["get /docs/assets/swagger-ui-dist/{file}", get("/docs/assets/swagger-ui-dist/nope.js"), 404, schemas.errorEnvelopeSchema],
      ["get /v2/models/{name}", get("/v2/models/no-such-model"), 404, schemas.oipErrorSchema],
      ["post /v2/models/{name}/infer", postJson(`/v2/models/${name()}/infer`, { inputs: "none" }), 400, schemas.oipErrorSchema],
    ];
    for (const [operation, pending, status, schema] of cases) {
      const res = await pending;
      const body = (await res.json()) as Json;
      expect(res.status, `${operation}: ${JSON.stringify(body)}`).toBe(status);
      const [method, path] = operation.split(" ") as [string, string];
      expect(Object.keys(doc.paths[path]![method]!.responses), operation).toContain(String(status));
      expect(schema.parse(body), operation).toEqual(body);
    }
    const invalid = (await (await postJson("/predict", { ...VALID_ROW, tenure: -1 })).json()) as z.infer<typeof schemas.errorEnvelopeSchema>;
    expect(invalid.error.details?.issues?.map((i) => i.field)).toEqual(["tenure"]);
  });
});

function attributeUrls(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']*)["']/gi)].map((m) => m[1]!);
}

describe("/docs", () => {
  it("is Swagger UI loading only same-origin assets, which the Worker serves", async () => {
    const res = await get("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('<div id="swagger-ui"></div>');
    expect(html).toMatch(/SwaggerUIBundle\(\{[^]*url: '\/openapi\.json'/);
    expect(html).toContain("validatorUrl: 'none'");
    const urls = attributeUrls(html);
    expect(urls).toEqual(expect.arrayContaining(SWAGGER_UI_FILES.map((f) => `/docs/assets/swagger-ui-dist/${f}`)));
    for (const url of urls) expect(new URL(url, ORIGIN).origin, url).toBe(ORIGIN);

    const types: Record<string, RegExp> = { "swagger-ui-bundle.js": /^text\/javascript/, "swagger-ui.css": /^text\/css/ };
    for (const file of SWAGGER_UI_FILES) {
      const asset = await get(`/docs/assets/swagger-ui-dist/${file}`);
      expect(asset.status, file).toBe(200);
      expect(asset.headers.get("content-type"), file).toMatch(types[file]!);
      const text = await asset.text();
      expect(text.length, file).toBeGreaterThan(100_000);
      expect(text, file).toContain(".swagger-ui");
    }
    expect((await get("/docs/assets/swagger-ui-dist/index.html")).status).toBe(404);
  });

  it("keeps the plain page, at /docs/plain and inside <noscript>, listing every route", async () => {
    const plain = await get("/docs/plain");
    expect(plain.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await plain.text();
    expect(page).not.toMatch(/<script/i);
    const noscript = (await (await get("/docs")).text()).match(/<noscript>([^]*?)<\/noscript>/)?.[1] ?? "";
    for (const html of [page, noscript]) {
      for (const [method, path] of documentedOperations(doc)) expect(html).toContain(`<td><code>${method}</code></td><td><code>${path}</code></td>`);
      expect(html).toContain(`curl -s -X POST ${ORIGIN}/predict`);
    }
    expect(noscript).toContain('href="/docs/plain"');
  });

  it("renders, and the document is built, when no default model is registered", async () => {
    const fresh = { ...env, DEFAULT_MODEL: "not-registered-anywhere" };
    const app = createApp();
    const page = await app.request("/docs", {}, fresh);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="swagger-ui"></div>');
    const bare = (await (await app.request("/openapi.json", {}, fresh)).json()) as Doc;
    expect(bare.info.description).toMatch(/^No default model is registered yet\./);
    expect(bare.components.schemas.Row).toMatchObject({ type: "object", propertyNames: { type: "string" } });
    expect(Object.keys(bare.paths)).toEqual(Object.keys(doc.paths));
  });
});
