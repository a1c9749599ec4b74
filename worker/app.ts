/** Builds the Hono app: request context, feature routes, and the one place errors become responses. */
import { Hono } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { docsRoutes } from "./api/docs";
import { ApiError, errorEnvelope, type FieldIssue } from "./errors";
import { feedbackRoutes } from "./api/feedback";
import { healthRoutes } from "./api/health";
import type { AppEnv } from "./http/context";
import { requestContext } from "./http/request-id";
import { observeMetrics } from "./http/prediction-observer";
import { metricsRoutes } from "./api/metrics";
import { dashboardRoutes } from "./api/dashboard";
import { monitoringRoutes } from "./api/monitoring";
import { predictRoutes } from "./api/predict";
import { mlflowRoutes } from "./api/mlflow";
import { openInferenceRoutes } from "./api/open-inference";
import { adminRoutes, rolloutReadRoutes } from "./api/admin-models";
import { registryRoutes } from "./api/models";
import { trafficRoutes } from "./api/traffic";
import { SettingsError } from "./settings";

export function createApp() {
  const app = new Hono<AppEnv>();
  app.use("*", requestContext);
  // Browsers anywhere may call the API (as FastAPI's CORSMiddleware with allow_origins=["*"] does); the ids and
  // model headers are exposed so clients can log what answered them.
  app.use(
    "*",
    cors({
      origin: "*",
      allowHeaders: ["content-type", "x-request-id", "authorization", "x-actor", "x-entity-id"],
      exposeHeaders: ["x-request-id", "x-client-request-id", "x-model-name", "x-model-version", "x-model-arm", "x-canary-fallback", "x-unknown-categories", "retry-after", "www-authenticate"],
      maxAge: 86_400,
    }),
  );

  app.use("*", observeMetrics);

  app.route("/", healthRoutes);
  app.route("/", predictRoutes);
  app.route("/", registryRoutes);
  app.route("/", trafficRoutes);
  app.route("/", adminRoutes);
  app.route("/", rolloutReadRoutes);
  app.route("/", mlflowRoutes);
  app.route("/", openInferenceRoutes);
  app.route("/", docsRoutes);
  app.route("/", monitoringRoutes);
  app.route("/", dashboardRoutes);
  app.route("/", metricsRoutes);
  app.route("/", feedbackRoutes);

  app.notFound((c) => {
    throw new ApiError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`);
  });

  app.onError((err, c) => {
    const requestId = c.get("requestId") ?? crypto.randomUUID();
    const clientRequestId = c.get("clientRequestId") ?? null;
    const error = toApiError(err);
    if (error.status >= 500 && error.code !== "MODEL_UNAVAILABLE") {
      const logged = { level: "error", request_id: requestId, client_request_id: clientRequestId, path: c.req.path, code: error.code, error: String(err), details: error.details, stack: (err as Error).stack };
      console.error(JSON.stringify(logged));
    }
    const headers: Record<string, string> = { "x-request-id": requestId };
    if (clientRequestId !== null) headers["x-client-request-id"] = clientRequestId;
    const retry = (error.details as { retry_after_seconds?: number } | undefined)?.retry_after_seconds;
    if (retry) headers["retry-after"] = String(retry);
    if (error.code === "UNAUTHORIZED") headers["www-authenticate"] = `Bearer realm="${realmOf(c.req.path)}"`;
    // Open Inference Protocol (KServe, Triton): {"error": "<message>"}, and every client error is a
    // 400 except not-found and payload-too-large.
    if (c.req.path === "/v2" || c.req.path.startsWith("/v2/")) {
      const status = error.status >= 400 && error.status < 500 && error.status !== 404 && error.status !== 413 ? 400 : error.status;
      return c.json({ error: oipMessage(error) }, status, headers);
    }
    return c.json(errorEnvelope(error, requestId), error.status, headers);
  });
  return app;
}

/** Which secret a 401 asks for: /metrics and /feedback have their own tokens besides the admin one. */
function realmOf(path: string): string {
  if (path === "/metrics") return "metrics";
  if (path === "/feedback") return "feedback";
  return "admin";
}

/** OIP has no details field, so the message carries each failing field and why. */
function oipMessage(error: ApiError): string {
  const issues = (error.details as { issues?: FieldIssue[] } | undefined)?.issues;
  if (!issues?.length) return error.message;
  const shown = issues.slice(0, 10).map((i) => `${i.field}: ${i.message}`);
  return shown.join("; ") + (issues.length > shown.length ? `; and ${issues.length - shown.length} more` : "");
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof SettingsError) return new ApiError("MISCONFIGURED", err.message, { problems: err.problems });
  if (err instanceof z.ZodError) {
    const issues = err.issues.map((i) => ({ field: i.path.join(".") || "body", message: i.message }));
    return new ApiError("VALIDATION_FAILED", issues.map((i) => `${i.field}: ${i.message}`).join("; "), { issues });
  }
  if (err instanceof HTTPException) {
    const code = err.status === 404 ? "NOT_FOUND" : err.status === 413 ? "PAYLOAD_TOO_LARGE" : err.status < 500 ? "BAD_REQUEST" : "INTERNAL";
    return new ApiError(code, err.message || "request failed");
  }
  return new ApiError("INTERNAL", "internal error; the request id identifies it in the logs");
}
