/**
 * The per-row prediction contract (`<label>_probability`, `<label>_prediction`, `risk_tier`), for
 * the default model and for any model by name:
 *   POST /predict                                  one row, or {"instances": [...]}
 *   POST /models/:name/predict?alias=production
 *   POST /models/:name/versions/:version/predict
 * Each accepts ?explain=k (the top k features by |contribution|) or ?explain=all: every row then
 * carries `explanation` (scoring/explanations.ts).
 */
import { type Context, Hono } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/context";
import { readJsonBody } from "../http/json-body";
import type { FieldPath } from "../scoring/predict-rows";
import { labelled } from "./prediction-response";
import { servePrediction } from "./serve-prediction";
import { parseExplainQuery } from "../scoring/explanations";
import { versionRef } from "../registry/version-ref";

export const predictRoutes = new Hono<AppEnv>();

predictRoutes.post("/predict", (c) => handlePredict(c, c.get("services").settings.defaultModel));
predictRoutes.post("/models/:name/predict", (c) => handlePredict(c, c.req.param("name")));
predictRoutes.post("/models/:name/versions/:version/predict", (c) => handlePredict(c, c.req.param("name"), c.req.param("version")));

async function handlePredict(c: Context<AppEnv>, name: string, version?: string) {
  const services = c.get("services");
  const ref = versionRef({ version, alias: c.req.query("alias") }, services.settings.defaultAlias);
  const explain = parseExplainQuery(c.req.query("explain"));
  const body = await readJsonBody(c);
  const batch = isBatch(body);
  if (batch && !Array.isArray(body.instances)) {
    throw new ApiError("VALIDATION_FAILED", "instances must be an array of rows", {
      issues: [{ field: "instances", message: "expected an array" }],
    });
  }
  const rows = batch ? (body.instances as unknown[]) : [body];
  const path: FieldPath = batch ? (i, f) => `instances[${i}]${f ? `.${f}` : ""}` : (_i, f) => f ?? "body";
  const { result, tokens } = await servePrediction(c, { name, ref, rows, path, ...(explain ? { explain } : {}) });
  const label = result.manifest.output.label;
  const common = { model: result.name, model_version: String(result.version), request_id: c.get("requestId") };
  const row = (i: number) => labelled(label, result.predictions[i]!, tokens?.[i], result.explanations?.[i]);
  if (batch) return c.json({ predictions: result.predictions.map((_, i) => row(i)), ...common });
  return c.json({ ...row(0), ...common });
}

function isBatch(body: unknown): body is { instances: unknown } {
  return typeof body === "object" && body !== null && !Array.isArray(body) && "instances" in body;
}
