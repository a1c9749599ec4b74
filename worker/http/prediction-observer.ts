/**
 * Request middleware that counts every prediction request's outcome for /metrics, after the route
 * (and onError) produced the response. It never fails or delays a response: counting is a few map
 * updates, the D1 flush runs in waitUntil at most every flush interval, and any error is logged.
 *
 * A failed request counts toward its model (predictions_total outcome client_error/server_error)
 * when the target resolved: the route served it, the error names the version (unavailable,
 * archived, non-finite output), or else the request's model and alias/version resolve through the
 * per-isolate resolution cache, looked up after the response. An unknown model counts only in
 * prediction_errors_total.
 */
import type { Context, MiddlewareHandler } from "hono";
import { ApiError, ERROR_STATUS, type ErrorCode } from "../errors";
import type { AppEnv } from "./context";
import { armOf } from "../monitoring/sample-requests";
import { resolveVersionCached } from "../registry/resolve-cache";
import { versionRef } from "../registry/version-ref";
import { isolateMetrics, scheduleMetricsFlush } from "../metrics/isolate-metrics";
import type { MetricBuffer } from "../metrics/metric-buffer";
import { type FailedTarget, recordFailedTarget, recordFailure, recordServed } from "../metrics/prediction-metrics";
import { type PredictionRoute, predictionRoute } from "../metrics/prediction-routes";

export const observeMetrics: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  try {
    observe(c, isolateMetrics);
  } catch (error) {
    console.error(JSON.stringify({ level: "error", where: "metrics observer", request_id: c.get("requestId"), error: String(error) }));
  }
};

function observe(c: Context<AppEnv>, buffer: MetricBuffer): void {
  const services = c.get("services");
  const route = c.req.method === "POST" ? predictionRoute(c.req.path) : null;
  if (route && services) {
    const served = c.get("served");
    const status = c.res.status;
    if (served && status < 400) {
      const { result } = served;
      recordServed(buffer, {
        name: result.name,
        version: result.version,
        arm: served.arm,
        manifest: result.manifest,
        predictions: result.predictions,
        latencySeconds: (Date.now() - served.startedAt) / 1000,
      });
    } else if (status >= 400) {
      const code = errorCode(c.error, status);
      const known = served ? { name: served.result.name, version: served.result.version, arm: served.arm } : namedInError(c.error);
      const defaultAlias = services.settings.defaultAlias;
      const routed = c.get("routed");
      const arm = routed?.arm ?? armOf(refOf(c, route) ?? { alias: defaultAlias }, defaultAlias);
      if (known) recordFailure(buffer, code, status, { arm, ...known });
      else {
        recordFailure(buffer, code, status);
        // Unknown model, alias or version: nothing resolves, so nothing to look up.
        if (code !== "NOT_FOUND") services.waitUntil(resolveLater(c, route, buffer, status));
      }
    }
  }
  if (services) scheduleMetricsFlush(c.env.DB, services, buffer);
}

function refOf(c: Context<AppEnv>, route: PredictionRoute) {
  try {
    return versionRef({ version: route.version, alias: c.req.query("alias") }, c.get("services").settings.defaultAlias);
  } catch {
    return null;
  }
}

/** The envelope's code: the ApiError's, or the code onError maps a bare status to. */
function errorCode(error: Error | undefined, status: number): ErrorCode {
  if (error instanceof ApiError) return error.code;
  const byStatus = (Object.keys(ERROR_STATUS) as ErrorCode[]).find((code) => ERROR_STATUS[code] === status);
  return byStatus ?? (status >= 500 ? "INTERNAL" : "BAD_REQUEST");
}

/** Errors raised after resolution carry the version in their details ({model, version}). */
function namedInError(error: Error | undefined): { name: string; version: number } | null {
  if (!(error instanceof ApiError)) return null;
  const details = error.details as { model?: unknown; version?: unknown } | undefined;
  if (typeof details?.model === "string" && typeof details.version === "number") return { name: details.model, version: details.version };
  return null;
}

async function resolveLater(c: Context<AppEnv>, route: PredictionRoute, buffer: MetricBuffer, status: number): Promise<void> {
  const { db, settings } = c.get("services");
  // The traffic policy's choice when the request got that far (a canary's version and arm).
  const routed = c.get("routed");
  const ref = routed?.ref ?? refOf(c, route);
  if (!ref) return;
  const name = routed?.name ?? route.name ?? settings.defaultModel;
  let target: FailedTarget;
  try {
    const { row } = await resolveVersionCached(db, name, ref, settings.resolveTtlMs);
    target = { name: row.modelName, version: row.version, arm: routed?.arm ?? armOf(ref, settings.defaultAlias) };
  } catch {
    return;
  }
  recordFailedTarget(buffer, status, target);
}
