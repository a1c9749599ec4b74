/**
 * The sequence every prediction route (REST, MLflow, OIP) runs once it has rows: route by the
 * model's traffic policy, score, send the sampled rows and the shadow job to the observation
 * queue, set the model headers and record what served in the context, and sign each row's prediction token (so a label can be joined to it
 * later through POST /feedback with no D1 write now). Written once here so the three protocols
 * cannot drift apart.
 */
import type { Context } from "hono";
import { issuePredictionTokens } from "../feedback/prediction-token";
import type { AppEnv } from "../http/context";
import { observePrediction } from "../observations/observe-prediction";
import type { VersionRef } from "../registry/version-ref";
import { routeRequest } from "../traffic/route";
import type { ExplainRequest } from "../scoring/explanations";
import { type FieldPath, type PredictResult, predictRows } from "../scoring/predict-rows";
import { setPredictionHeaders } from "./prediction-response";

export interface PredictionRequest {
  name: string;
  /** The default alias unless the request named a version or an alias (?alias=). */
  ref: VersionRef;
  rows: readonly unknown[];
  path: FieldPath;
  /** ?explain: reason codes per row. */
  explain?: ExplainRequest;
}

export interface ServedRows {
  result: PredictResult;
  /** One prediction token per row; null when tokens are off (no usable PREDICTION_TOKEN_SECRET). */
  tokens: string[] | null;
}

export async function servePrediction(c: Context<AppEnv>, request: PredictionRequest): Promise<ServedRows> {
  const services = c.get("services");
  const requestId = c.get("requestId");
  // Only a request that named neither a version nor an alias is split (?alias=production is explicit too).
  const routed = !("version" in request.ref) && c.req.query("alias") === undefined;
  const route = await routeRequest(services, { ...request, routed, entityHeader: c.req.header("x-entity-id") });
  c.set("routed", { name: request.name, ref: route.ref, arm: route.recordedArm });
  const startedAt = Date.now();
  // The canary arm is named by number but chosen by the traffic policy: its session is pinned too.
  const pinned = route.arm === "canary" || !("version" in route.ref);
  const result = await predictRows(services, { name: request.name, ref: route.ref, pinned }, request.rows, { path: request.path, ...(request.explain ? { explain: request.explain } : {}) });
  observePrediction(services, { requestId, clientRequestId: c.get("clientRequestId"), name: request.name, arm: route.recordedArm, rows: request.rows, result, startedAt, shadow: route.shadow });
  c.set("served", { result, arm: route.recordedArm, startedAt });
  setPredictionHeaders(c, result, route.arm);
  const tokens = await issuePredictionTokens(c.env, { requestId, result, issuedAt: startedAt });
  return { result, tokens };
}
