/**
 * The metrics part of the OpenAPI document: GET /metrics (Prometheus text). Wire `metricsPaths()`
 * into paths and `metricsSecuritySchemes` into components.securitySchemes.
 */
import { FAMILIES } from "../metrics/families";
import { errors, ok, operation } from "./openapi-parts";

export const metricsSecuritySchemes = {
  metricsToken: {
    type: "http",
    scheme: "bearer",
    description: "METRICS_TOKEN (optional secret): when it is set, GET /metrics needs Authorization: Bearer <METRICS_TOKEN>",
  },
};

export function metricsPaths(tag = "Monitoring") {
  const families = Object.values(FAMILIES).map((f) => `\`${f.name}\` (${f.type})`);
  return {
    "/metrics": {
      get: operation({
        tag,
        id: "metrics",
        summary: "Prometheus metrics (text format 0.0.4), summed across every isolate",
        description: [
          `Families: ${families.join(", ")}.`,
          "Each isolate buffers its counts and flushes them to D1 per-minute rows (metric_buckets) at most every 10 s;",
          "a scrape first flushes its own isolate, then sums every minute of every isolate, so counts from other isolates",
          "can be up to 10 s (and until their next request) late. drift_status comes from the newest drift report of each",
          "version that is not archived: 0 ok, 1 drift, -1 cannot tell.",
          "Open unless the METRICS_TOKEN secret is set; then a bearer token is required.",
        ].join(" "),
        security: [{}, { metricsToken: [] }],
        responses: {
          ...ok("the metrics (content-type: text/plain; version=0.0.4; charset=utf-8)", { "text/plain": { schema: { type: "string" } } }, { "cache-control": { schema: { type: "string", const: "no-store" } } }),
          ...errors("Error", ["401", "403", "500"], {
            "401": "METRICS_TOKEN is set and the request has no bearer token",
            "403": "the bearer token is not METRICS_TOKEN",
          }),
        },
      }),
    },
  };
}
