/**
 * The OpenAPI 3.1 document for every route the app registers (test/workers/openapi.test.ts holds
 * the two lists equal). Row is the default model's own row schema, built from its manifest, so the
 * document matches what /predict validates. Pure: no Hono, no bindings, so Node can import it to
 * run a full OpenAPI validator over it (test/node/openapi-document.test.ts).
 */
import { z } from "zod";
import type { Manifest } from "../contract/manifest";
import { buildRowSchema, exampleRow } from "../contract/row-schema";
import { ARTIFACT_FILES } from "../registry/r2-keys";
import type { Settings } from "../settings";
import { adminComponents, adminPaths, aliasPathParam, optionalAdmin } from "./openapi-admin";
import { dashboardPaths } from "./openapi-dashboard";
import { feedbackComponents, feedbackPaths } from "./openapi-feedback";
import { metricsPaths, metricsSecuritySchemes } from "./openapi-metrics";
import { monitoringPaths } from "./openapi-monitoring";
import { errors, jsonContent, nameParam, ok, operation, type OperationSpec, pathParam, ref, type Responses, type Schema, TAGS, versionParam } from "./openapi-parts";
import * as shapes from "./openapi-schemas";
import * as views from "../registry/registry-views";
import { SWAGGER_UI_FILES } from "./swagger-ui-files";
import { entityIdHeader, modelArmHeader, rolloutPaths, trafficComponents, trafficPaths } from "./openapi-traffic";

export { TAGS };

type DocSettings = Pick<Settings, "defaultModel" | "defaultAlias" | "maxBatchRows">;

const requestIdHeader = {
  name: "x-request-id",
  in: "header",
  required: false,
  description:
    "the client's own id, when it matches [A-Za-z0-9._:-]{1,128}: stored with sampled rows (client_request_id) and echoed as x-client-request-id. It is never the request's id: the service mints that (x-request-id, request_id) for every request",
  schema: { type: "string" },
};
const predictionHeaders = {
  "x-request-id": { description: "the id the service minted for this request (a UUID), as request_id in the body: the key POST /feedback joins on", schema: { type: "string" } },
  "x-client-request-id": { description: "the client's own x-request-id, when it sent a sane one", schema: { type: "string" } },
  "x-model-name": { schema: { type: "string" } },
  "x-model-version": { schema: { type: "string" } },
  "x-unknown-categories": { description: "open categorical features that carried values unseen in training, as feature=rows", schema: { type: "string" } },
  ...modelArmHeader,
};

const html = (description: string) => ok(description, { "text/html": { schema: { type: "string" } } });

export function buildOpenApi(manifest: Manifest | null, settings: DocSettings) {
  const label = manifest?.output.label ?? "prediction";
  const row = manifest ? buildRowSchema(manifest) : z.record(z.string(), z.union([z.number(), z.string(), z.null()]));
  const example = manifest ? exampleRow(manifest) : undefined;
  const aliasParam = { name: "alias", in: "query", required: false, description: "which version answers, by alias", schema: { type: "string", default: settings.defaultAlias } };
  const scoringErrors = errors("Error", ["400", "404", "413", "422", "500", "503"], {
    "422": "a row that fails the model's schema (details.issues names every failing field), a bad `explain`, more than MAX_EXPLAIN_ROWS rows to explain, or EXPLANATION_UNAVAILABLE: the version was trained without an explainer",
    "503": "the version cannot serve (pending, failed, an artifact that does not load or verify, or with `explain` an explainer.json that does not), with the reason; other versions keep serving",
  });
  const explainParam = {
    name: "explain",
    in: "query",
    required: false,
    description:
      "reason codes per row: `3` for the three features with the largest |contribution|, `all` for every feature. Exact interventional SHAP against the version's background rows; base_value + Σ contributions = the probability (forests) or its log-odds (boosting, logistic regression). At most MAX_EXPLAIN_ROWS rows (default 100).",
    schema: { anyOf: [{ type: "integer", minimum: 1 }, { type: "string", const: "all" }] },
  };

  const predict = (id: string, summary: string, parameters: unknown[]) =>
    operation({
      tag: TAGS.prediction,
      id,
      summary,
      parameters: [...parameters, explainParam, requestIdHeader],
      body: jsonContent(
        { anyOf: [ref("Row"), ref("BatchRequest")] },
        example ? { examples: { row: { summary: "one row", value: example }, batch: { summary: "a batch", value: { instances: [example] } } } } : {},
      ),
      responses: {
        ...ok("one prediction, or {predictions} for a batch", jsonContent({ oneOf: [ref("PredictionResponse"), ref("BatchPredictionResponse")] }), predictionHeaders),
        ...scoringErrors,
      },
    });

  const mlflow = (id: string, summary: string, parameters: unknown[]) =>
    operation({
      tag: TAGS.mlflow,
      id,
      summary,
      description: "MLflow's scoring protocol (`mlflow models serve`): exactly one of dataframe_split, dataframe_records, instances or inputs.",
      parameters: [...parameters, explainParam, requestIdHeader],
      body: jsonContent(ref("MlflowRequest"), example ? { example: { dataframe_records: [example] } } : {}),
      responses: { ...ok("one prediction per row", jsonContent(ref("MlflowResponse")), predictionHeaders), ...scoringErrors },
    });

  const oip = (id: string, summary: string, schema: string, failures: Responses, more: Partial<OperationSpec> = {}) =>
    operation({ tag: TAGS.oip, id, summary, responses: { ...ok(summary, jsonContent(ref(schema)), more.body ? predictionHeaders : undefined), ...failures }, ...more });
  // KServe and Triton answer every client error but 404 and 413 with a 400.
  const oipModelErrors = errors("OipError", ["404", "500", "503"]);
  const oipInferErrors = errors("OipError", ["400", "404", "413", "500", "503"], {
    "400": "malformed request, or a tensor or value the model cannot take (shape, datatype, range, category); the message names it",
  });
  const oipModel = (versioned: boolean) => {
    const parameters = versioned ? [nameParam, versionParam] : [nameParam, aliasParam];
    const which = versioned ? "one exact version" : "the version an alias names";
    const id = versioned ? "oipModelVersion" : "oipModel";
    const body = jsonContent(ref("OipInferRequest"), example ? { example: oipExample(example) } : {});
    return {
      metadata: oip(`${id}Metadata`, `Model metadata: input and output tensors (${which})`, "OipModelMetadata", oipModelErrors, { parameters }),
      ready: oip(`${id}Ready`, `Model readiness: the ONNX session loads (${which})`, "OipModelReady", oipModelErrors, { parameters }),
      infer: oip(`${id}Infer`, `Inference, one tensor per feature (${which})`, "OipInferResponse", oipInferErrors, {
        description:
          "Request the outputs `contributions` ([N, F], FP64, the features in the model's order, named in its parameters) and `base_value` ([N]) by name in `outputs` to explain each row (exact SHAP; base_value + the row's contributions = its probability or log-odds). Without them nothing is explained.",
        parameters: versioned ? parameters : [...parameters, entityIdHeader],
        body,
      }),
    };
  };
  const latest = oipModel(false);
  const versioned = oipModel(true);

  const registry = (id: string, summary: string, schema: string, parameters: unknown[] = []) =>
    operation({ tag: TAGS.registry, id, summary, parameters, responses: { ...ok(summary, jsonContent(ref(schema))), ...errors("Error", parameters.length ? ["404", "500"] : ["500"]) } });
  const docs = (id: string, summary: string, responses: Responses) =>
    operation({ tag: TAGS.docs, id, summary, responses: { ...responses, ...errors("Error", ["500"]) } });

  return {
    openapi: "3.1.0",
    info: {
      title: "Edge MLOps prediction API",
      version: "0.1.0",
      description: [
        manifest ? `Default model: ${manifest.name}. ${manifest.description}` : "No default model is registered yet.",
        `POST /predict scores with ${settings.defaultModel} at alias ${settings.defaultAlias}.`,
        "Errors share one envelope: {error: {code, message, request_id, details?}}; the Open Inference Protocol routes (/v2/...) answer {error: message}, as KServe and Triton do.",
      ].join(" "),
    },
    tags: [
      { name: TAGS.prediction, description: "Score rows with a model from the registry" },
      { name: TAGS.mlflow, description: "MLflow's scoring protocol, so MLflow clients work unchanged" },
      { name: TAGS.oip, description: "Open Inference Protocol v2 (KServe, Triton, Seldon REST)" },
      { name: TAGS.registry, description: "Registered models, versions, aliases and artifacts (read-only)" },
      { name: TAGS.admin, description: "Publish, promote, roll back and archive: needs the ADMIN_TOKEN bearer token" },
      { name: TAGS.monitoring, description: "Drift reports, the dashboard, Prometheus metrics and ground-truth feedback" },
      { name: TAGS.health, description: "Liveness and readiness" },
      { name: TAGS.docs, description: "This document and its explorer" },
    ],
    paths: {
      "/predict": { post: predict("predict", `Score one row or a batch with the default model (${settings.defaultModel})`, [aliasParam, entityIdHeader]) },
      "/models/{name}/predict": { post: predict("predictByModel", "Score with a model by name and alias", [nameParam, aliasParam, entityIdHeader]) },
      "/models/{name}/versions/{version}/predict": { post: predict("predictByVersion", "Score with one exact version", [nameParam, versionParam]) },
      "/invocations": { post: mlflow("mlflowInvocations", "MLflow scoring with the default model", [aliasParam, entityIdHeader]) },
      "/models/{name}/invocations": { post: mlflow("mlflowModelInvocations", "MLflow scoring with a model by name and alias", [nameParam, aliasParam, entityIdHeader]) },
      "/v2": { get: oip("oipServerMetadata", "Server metadata: name, version, extensions", "OipServerMetadata", errors("OipError", ["500"])) },
      "/v2/health/live": { get: oip("oipServerLive", "Server liveness", "OipServerLive", errors("OipError", ["500"])) },
      "/v2/health/ready": {
        get: oip("oipServerReady", "Server readiness: the registry answers", "OipServerReady", errors("OipError", ["500"], { "500": "the registry (D1) did not answer" })),
      },
      "/v2/models/{name}": { get: latest.metadata },
      "/v2/models/{name}/ready": { get: latest.ready },
      "/v2/models/{name}/infer": { post: latest.infer },
      "/v2/models/{name}/versions/{version}": { get: versioned.metadata },
      "/v2/models/{name}/versions/{version}/ready": { get: versioned.ready },
      "/v2/models/{name}/versions/{version}/infer": { post: versioned.infer },
      "/models": { get: registry("listModels", "Registered models with their latest version and aliases", "ModelList") },
      "/models/{name}": { get: registry("getModel", "A model, its versions and aliases", "ModelDetail", [nameParam]) },
      "/models/{name}/aliases": { get: registry("getAliasHistory", "Every alias move of a model, oldest first: who, when, why", "AliasHistory", [nameParam]) },
      "/models/{name}/aliases/{alias}/history": {
        get: registry("getAliasMoves", "One alias's moves, oldest first: who, when, from, to, why and the evidence", "AliasMoves", [nameParam, aliasPathParam]),
      },
      "/models/{name}/versions/{version}": {
        get: operation({
          tag: TAGS.registry,
          id: "getVersion",
          summary: "A version: manifest, metrics, sha256, created, source",
          description: "Without a token the manifest's golden rows carry their probabilities only; with the admin token, their inputs too.",
          parameters: [nameParam, versionParam],
          security: optionalAdmin,
          responses: { ...ok("the version", jsonContent(ref("VersionDetail"))), ...errors("Error", ["401", "403", "404", "429", "500"]) },
        }),
      },
      "/models/{name}/versions/{version}/artifacts/{file}": {
        get: operation({
          tag: TAGS.registry,
          id: "getArtifact",
          summary: "Download one artifact of a version",
          description: "reference.json (sampled training rows) needs the admin token; manifest.json without it has golden rows without their inputs.",
          parameters: [nameParam, versionParam, pathParam("file", { type: "string", enum: [...ARTIFACT_FILES] })],
          security: optionalAdmin,
          responses: {
            ...ok(
              "the artifact as stored: model.onnx (binary), manifest.json and reference.json (JSON), model-card.md (Markdown)",
              {
                "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } },
                "application/json": { schema: { type: "object" } },
                "text/markdown": { schema: { type: "string" } },
              },
              { etag: { schema: { type: "string" } } },
            ),
            ...errors("Error", ["401", "403", "404", "429", "500", "503"], {
              "401": "reference.json asked for without the admin token",
              "404": "unknown model or version, or an artifact this version does not have",
              "503": "the stored manifest.json does not parse, so its public view cannot be made",
            }),
          },
        }),
      },
      ...adminPaths(),
      ...trafficPaths(),
      ...rolloutPaths(),
      ...monitoringPaths(TAGS.monitoring),
      ...dashboardPaths(TAGS.monitoring),
      ...metricsPaths(TAGS.monitoring),
      ...feedbackPaths(TAGS.monitoring),
      "/health": { get: operation({ tag: TAGS.health, id: "health", summary: "Liveness: the isolate answers", responses: { ...ok("alive", jsonContent(ref("Health"))), ...errors("Error", ["500"]) } }) },
      "/ready": {
        get: operation({
          tag: TAGS.health,
          id: "ready",
          summary: "Readiness: registry reachable and the default model loadable",
          responses: { ...ok("ready", jsonContent(ref("Ready"))), ...errors("Error", ["500", "503"], { "503": "the default model is not registered or cannot load" }) },
        }),
      },
      "/openapi.json": { get: docs("openapi", "This OpenAPI 3.1 document", ok("the document", jsonContent({ type: "object" }))) },
      "/docs": { get: docs("docs", "Interactive API explorer (Swagger UI, served by the Worker: no CDN)", html("Swagger UI, with the plain page inside <noscript>")) },
      "/docs/plain": { get: docs("docsPlain", "The API as a plain HTML page: no JavaScript", html("endpoints and a curl example")) },
      "/docs/assets/swagger-ui-dist/{file}": {
        get: operation({
          tag: TAGS.docs,
          id: "docsAsset",
          summary: "Swagger UI's script and stylesheet",
          parameters: [pathParam("file", { type: "string", enum: [...SWAGGER_UI_FILES] })],
          responses: {
            ...ok(
              "the file from swagger-ui-dist",
              { "text/javascript": { schema: { type: "string" } }, "text/css": { schema: { type: "string" } } },
              { "cache-control": { schema: { type: "string" } } },
            ),
            ...errors("Error", ["404"], { "404": "no such file" }),
          },
        }),
      },
    },
    components: {
      schemas: {
        Row: shapes.jsonSchema(row),
        BatchRequest: {
          type: "object",
          required: ["instances"],
          properties: { instances: { type: "array", minItems: 1, maxItems: settings.maxBatchRows, items: ref("Row") } },
        },
        PredictionResponse: shapes.jsonSchema(shapes.predictionResponseSchema(label)),
        BatchPredictionResponse: shapes.jsonSchema(shapes.batchPredictionResponseSchema(label)),
        MlflowRequest: mlflowRequest(settings.maxBatchRows),
        MlflowResponse: shapes.jsonSchema(shapes.mlflowResponseSchema(label)),
        OipInferRequest: shapes.jsonSchema(shapes.oipInferRequestSchema),
        OipInferResponse: shapes.jsonSchema(shapes.oipInferResponseSchema),
        OipServerMetadata: shapes.jsonSchema(shapes.oipServerMetadataSchema),
        OipServerLive: shapes.jsonSchema(shapes.oipServerLiveSchema),
        OipServerReady: shapes.jsonSchema(shapes.oipServerReadySchema),
        OipModelMetadata: shapes.jsonSchema(shapes.oipModelMetadataSchema),
        OipModelReady: shapes.jsonSchema(shapes.oipModelReadySchema),
        ModelList: shapes.jsonSchema(views.modelListSchema),
        ModelDetail: shapes.jsonSchema(views.modelDetailSchema),
        VersionDetail: shapes.jsonSchema(views.versionDetailSchema),
        AliasHistory: shapes.jsonSchema(views.aliasHistorySchema),
        AliasMoves: shapes.jsonSchema(views.aliasMovesSchema),
        ...adminComponents(),
        ...trafficComponents(),
        ...feedbackComponents(),
        Health: shapes.jsonSchema(shapes.healthSchema),
        Ready: shapes.jsonSchema(shapes.readySchema),
        Error: shapes.jsonSchema(shapes.errorEnvelopeSchema),
        OipError: shapes.jsonSchema(shapes.oipErrorSchema),
      },
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", description: "the ADMIN_TOKEN secret (wrangler secret put ADMIN_TOKEN)" },
        ...metricsSecuritySchemes,
      },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApi>;

/** MLflow's four body formats; exactly one key, as the server requires. */
function mlflowRequest(maxBatchRows: number): Schema {
  const rows = { type: "array", minItems: 1, maxItems: maxBatchRows, items: ref("Row") };
  const only = (key: string, schema: Schema, description: string) => ({ type: "object", description, required: [key], properties: { [key]: schema } });
  return {
    oneOf: [
      only("dataframe_split", shapes.jsonSchema(shapes.mlflowFormats.dataframe_split), "pandas DataFrame.to_dict(orient='split')"),
      only("dataframe_records", rows, "pandas DataFrame.to_dict(orient='records')"),
      only("instances", rows, "TensorFlow Serving style rows"),
      only("inputs", { anyOf: [rows, shapes.jsonSchema(shapes.mlflowFormats.inputs_columns)] }, "rows, or one array per feature"),
    ],
  };
}

function oipExample(row: Record<string, number | string>) {
  return {
    inputs: Object.entries(row).map(([name, value]) => ({ name, shape: [1, 1], datatype: typeof value === "number" ? "FP32" : "BYTES", data: [value] })),
  };
}
