/**
 * Every metric family /metrics exposes: name, type and HELP. Counters and the histogram are summed
 * from metric_buckets; drift_status is read from drift_reports at scrape time.
 */
export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
}

/**
 * Upper bounds in seconds. A request's wall time at the edge is mostly I/O (D1, R2) plus the
 * isolate's queueing: single-digit milliseconds on a warm isolate, ~0.1-0.6 s on a cold start.
 */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export const FAMILIES = {
  predictions: {
    name: "predictions_total",
    type: "counter",
    help: "Prediction rows scored (outcome=success), and prediction requests that failed after naming a model that resolves to a version, one per request (outcome=client_error for 4xx, server_error for 5xx). arm is the traffic arm that answered.",
  },
  latency: {
    name: "prediction_latency_seconds",
    type: "histogram",
    help: "Wall time of successful prediction requests, one observation per request, from just before scoring to the response (Date.now()). workerd stands its clocks still during CPU work, so this measures I/O and waiting, not inference compute.",
  },
  highRisk: {
    name: "high_risk_predictions_total",
    type: "counter",
    help: "Prediction rows whose risk tier is the highest tier of the version's manifest.",
  },
  errors: {
    name: "prediction_errors_total",
    type: "counter",
    help: "Error responses of prediction routes (REST, MLflow, Open Inference), by the error code of the service's envelope (VALIDATION_FAILED, NOT_FOUND, ...).",
  },
  samplesWritten: {
    name: "samples_written_total",
    type: "counter",
    help: "Sampled prediction rows inserted into request_samples.",
  },
  samplesDropped: {
    name: "samples_dropped_total",
    type: "counter",
    help: "Sampled prediction rows not kept: reason=reservoir (evicted by the per-window cap) or reason=write_failed (a D1 write that failed).",
  },
  drift: {
    name: "drift_status",
    type: "gauge",
    help: "Latest drift report per model version: 0 no drift, 1 drift, -1 cannot tell (insufficient data, no samples or no reference). feature=__overall__ is the report's overall status, feature=__scores__ the test on the predicted probabilities.",
  },
} as const satisfies Record<string, MetricFamily>;

export const LATENCY_BUCKET_NAME = `${FAMILIES.latency.name}_bucket`;
export const LATENCY_SUM_NAME = `${FAMILIES.latency.name}_sum`;
