/**
 * The sequence every prediction route (REST, MLflow, OIP) runs once it has rows: route by the
 * model's traffic policy, score, send the sampled rows and the shadow job to the observation
 * queue, set the model headers and record what served in the context, and sign each row's prediction token (so a label can be joined to it
 * later through POST /feedback with no D1 write now). Written once here so the three protocols
 * cannot drift apart.
 *
 * A canary that fails on the server side (its artifact does not load, it answers NaN, a bug) does
 * not fail the client: the primary answers (`x-model-arm: primary`, `x-canary-fallback: 1`) and the
 * failure is counted against the canary in /metrics (predictions_total{arm="canary",
 * outcome="server_error"}). A 4xx is the request's own fault and is answered as it is.
 */
import type { Context } from "hono";
import { issuePredictionTokens } from "../feedback/prediction-token";
import type { AppEnv } from "../http/context";
import { observePrediction } from "../observations/observe-prediction";
import type { VersionRef } from "../registry/version-ref";
import { type Route, routeRequest } from "../traffic/route";
import { ApiError } from "../errors";
import { isolateMetrics } from "../metrics/isolate-metrics";
import { recordFailure } from "../metrics/prediction-metrics";
import { armOf } from "../monitoring/sample-requests";
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
  let route = await routeRequest(services, { ...request, routed, entityHeader: c.req.header("x-entity-id") });
  c.set("routed", { name: request.name, ref: route.ref, arm: route.recordedArm });
  const startedAt = Date.now();
  const options = { path: request.path, ...(request.explain ? { explain: request.explain } : {}) };
  // The canary arm is named by number but chosen by the traffic policy: its session is pinned too.
  const pinned = route.arm === "canary" || !("version" in route.ref);
  let result: PredictResult;
  try {
    result = await predictRows(services, { name: request.name, ref: route.ref, pinned }, request.rows, options);
  } catch (error) {
    if (route.arm !== "canary" || !failedOnServer(error) || !services.settings.canaryFallback) throw error;
    // No client pays for a broken canary: the primary answers, and the failure is counted against the canary.
    countCanaryFailure(request.name, route, error, requestId);
    route = primaryRoute(route, request.ref, services.settings.defaultAlias);
    c.set("routed", { name: request.name, ref: route.ref, arm: route.recordedArm });
    c.header("x-canary-fallback", "1");
    result = await predictRows(services, { name: request.name, ref: route.ref, pinned: true }, request.rows, options);
  }
  observePrediction(services, { requestId, clientRequestId: c.get("clientRequestId"), name: request.name, arm: route.recordedArm, rows: request.rows, result, startedAt, shadow: route.shadow });
  c.set("served", { result, arm: route.recordedArm, startedAt });
  setPredictionHeaders(c, result, route.arm);
  const tokens = await issuePredictionTokens(c.env, { requestId, result, issuedAt: startedAt });
  return { result, tokens };
}

/** A failure of the version itself (unavailable, failed load, non-finite output, a bug), not of the request: 5xx or not an ApiError. */
function failedOnServer(error: unknown): boolean {
  return !(error instanceof ApiError) || error.status >= 500;
}

function countCanaryFailure(name: string, route: Route, error: unknown, requestId: string): void {
  const version = "version" in route.ref ? route.ref.version : -1;
  const code = error instanceof ApiError ? error.code : "INTERNAL";
  recordFailure(isolateMetrics, code, error instanceof ApiError ? error.status : 500, { name, version, arm: route.recordedArm });
  console.error(JSON.stringify({ level: "warn", where: "canary fallback", request_id: requestId, model: name, canary_version: version, code, error: String(error instanceof Error ? error.message : error) }));
}

/** The route the request would have taken without the canary: the primary, through the default alias. */
function primaryRoute(route: Route, primary: VersionRef, defaultAlias: string): Route {
  return { ...route, ref: primary, arm: "primary", recordedArm: armOf(primary, defaultAlias, "primary") };
}
