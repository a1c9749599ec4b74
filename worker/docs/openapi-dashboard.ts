/** The monitoring dashboard's part of the OpenAPI document: GET /monitoring (HTML). */
import { DASHBOARD_LIMITS } from "../monitoring/dashboard-data";
import { errors, ok, operation } from "./openapi-parts";

/** The tag the monitoring routes share; the document's tag list must name it too. */
export function dashboardPaths(tag = "Monitoring") {
  return {
    "/monitoring": {
      get: operation({
        tag,
        id: "monitoringDashboard",
        summary: "Monitoring dashboard: versions, aliases, drift status and charts per model (HTML, no JavaScript)",
        description: [
          "Server-rendered HTML with inline CSS and SVG, no script and no external asset.",
          "Per model: its newest versions and aliases; for each version serving production, canary or shadow, the newest drift report",
          "(status, window, sample counts, per-feature test, statistic, p-value, PSI, sizes and flag), reference vs current distributions,",
          "the score histogram and risk-tier mix, and p-values over the report history with the alpha line; then the recent alias moves.",
          `Bounded reads: at most ${DASHBOARD_LIMITS.models} models without ?model=, ${DASHBOARD_LIMITS.versions} versions,`,
          `${DASHBOARD_LIMITS.reports} reports per serving version and ${DASHBOARD_LIMITS.moves} alias moves per model.`,
          "Public: it shows aggregates only, never sampled or golden rows.",
        ].join(" "),
        parameters: [{ name: "model", in: "query", required: false, description: "show this model only", schema: { type: "string" } }],
        responses: {
          ...ok("the dashboard", { "text/html": { schema: { type: "string" } } }, { "cache-control": { schema: { type: "string" } } }),
          ...errors("Error", ["404", "500"], { "404": "?model= names a model that is not registered" }),
        },
      }),
    },
  };
}
