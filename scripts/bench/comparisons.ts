/**
 * The benchmark's A/B rows, each with the requirement it checks:
 *  - sampling: SAMPLE_RATE 0 vs 0.1; 10% sampling keeps >= 97% of /predict throughput;
 *  - canary:   no traffic policy vs 20% of traffic to a canary version; routing costs <= 5% of throughput;
 *  - shadow:   no shadow vs every request also scored by a shadow version (in the queue consumer); no
 *              client-visible latency: p50 within +0.3 ms at a fixed, evenly spaced rate below capacity; every
 *              pair stored (sample_rate 1), one in ten ("shadow-sampled", 0.1), or none
 *              ("shadow-unstored", 0: the shadow's scoring alone, without its D1 writes).
 *  - sampling-request, shadow-request: the same as sampling and shadow on servers that run no
 *              queue consumer, so only what the request itself does is measured (on Cloudflare the
 *              consumer is an invocation of its own); 10% sampling keeps >= 97% of throughput, a
 *              shadow storing every pair adds <= 0.3 ms to p50.
 *  - sampling-coalesced: 10% sampling with one send per request (OBSERVATION_BATCH_MS 0) vs sends
 *              coalesced per isolate (the default 100 ms): what coalescing buys, consumer included.
 *  - canary-fallback: a healthy 20% canary without the fallback (CANARY_FALLBACK=0) vs with it (the
 *              default); the fallback costs nothing while the canary is healthy: >= 99% of throughput.
 *  - explain-idle: production without an explainer vs with one, 1-row requests that do not ask to
 *              explain; requests without explain keep >= 99% of throughput.
 * The canary and shadow point at version 2, the same artifact published again, so the rows measure
 * routing and shadow work, not a different model's cost. Canary and shadow rows run with sampling
 * off on both sides so that only the policy differs.
 */
import type { Comparison, Variant } from "./compare";
import { queryState, type RegistryConfig } from "./registry-state";

export const COMPARISONS = ["sampling", "canary", "shadow", "shadow-sampled", "shadow-unstored", "sampling-request", "shadow-request", "explain-idle", "sampling-coalesced", "canary-fallback"] as const;
export type ComparisonName = (typeof COMPARISONS)[number];

export const BENCH_ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";
/** Prediction tokens on, as in a deployment with its secrets set: every answer pays for signing its rows. */
export const BENCH_PREDICTION_TOKEN_SECRET = "bench-prediction-token-secret-0123456789abcdef0123";

interface Context {
  modelName: string;
  config: RegistryConfig;
  /** The version the canary and shadow point at (published beside production). */
  candidateVersion: number;
  /** The same model published without its explainer. */
  plainVersion: number;
}

async function count(stateDir: string, config: RegistryConfig, table: string): Promise<number> {
  const [row] = await queryState<{ n: number }>(stateDir, config, `SELECT COUNT(*) AS n FROM ${table}`);
  return row?.n ?? 0;
}

async function putTraffic(url: string, modelName: string, policy: { canary: unknown; shadow: unknown }): Promise<void> {
  const res = await fetch(`${url}/admin/models/${encodeURIComponent(modelName)}/traffic`, {
    method: "PUT",
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ ...policy, entity_field: null, reason: "bench" }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`PUT /admin/models/${modelName}/traffic answered ${res.status}: ${text.slice(0, 400)}`);
}

async function moveAlias(url: string, modelName: string, alias: string, version: number): Promise<void> {
  const res = await fetch(`${url}/admin/models/${encodeURIComponent(modelName)}/aliases/${alias}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ version, reason: "bench" }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`PUT /admin/models/${modelName}/aliases/${alias} answered ${res.status}: ${text.slice(0, 400)}`);
}

/** Sends `n` one-row requests and counts the x-model-arm header values. */
async function armCounts(url: string, modelName: string, body: string, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/models/${encodeURIComponent(modelName)}/predict`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    await res.arrayBuffer();
    const arm = `${res.headers.get("x-model-arm") ?? "?"} v${res.headers.get("x-model-version") ?? "?"}`;
    counts[arm] = (counts[arm] ?? 0) + 1;
  }
  return counts;
}

export function comparison(name: ComparisonName, ctx: Context, oneRowBody: string): Comparison {
  const samples: Variant["inspect"] = async (stateDir) => `request_samples rows: ${await count(stateDir, ctx.config, "request_samples")}`;
  const arms = (n: number): Variant["probe"] => async (url) => `arms over ${n} requests: ${JSON.stringify(await armCounts(url, ctx.modelName, oneRowBody, n))}`;
  const candidate = ctx.candidateVersion;
  switch (name) {
    case "sampling":
      return {
        name: "sampling",
        target: "10% sampling keeps >= 97% of throughput (the consumer's D1 writes in the measured process too)",
        mode: "throughput",
        a: { label: "SAMPLE_RATE=0", vars: { SAMPLE_RATE: "0" }, inspect: samples },
        b: { label: "SAMPLE_RATE=0.1", vars: { SAMPLE_RATE: "0.1" }, inspect: samples },
        pass: (r) => r.throughputRatio >= 0.97,
      };
    case "canary":
      return {
        name: "canary",
        target: "a 20% canary costs <= 5% of throughput",
        mode: "throughput",
        a: { label: "no traffic policy", vars: { SAMPLE_RATE: "0" }, probe: arms(400) },
        b: {
          label: `canary 20% -> v${candidate}`,
          vars: { SAMPLE_RATE: "0" },
          setup: (url) => putTraffic(url, ctx.modelName, { canary: { version: candidate, percent: 20 }, shadow: null }),
          probe: arms(400),
        },
        pass: (r) => r.throughputRatio >= 0.95,
      };
    case "sampling-coalesced":
      return {
        name: "sampling-coalesced",
        target: "coalescing observations per isolate costs nothing against one send per request",
        mode: "throughput",
        a: { label: "SAMPLE_RATE=0.1, OBSERVATION_BATCH_MS=0", vars: { SAMPLE_RATE: "0.1", OBSERVATION_BATCH_MS: "0" }, inspect: samples },
        b: { label: "SAMPLE_RATE=0.1, OBSERVATION_BATCH_MS=100", vars: { SAMPLE_RATE: "0.1", OBSERVATION_BATCH_MS: "100" }, inspect: samples },
        pass: (r) => r.throughputRatio >= 1,
      };
    case "canary-fallback": {
      const policy = (url: string) => putTraffic(url, ctx.modelName, { canary: { version: candidate, percent: 20 }, shadow: null });
      return {
        name: "canary-fallback",
        target: "the canary fallback costs nothing while the canary is healthy: >= 99% of throughput",
        mode: "throughput",
        a: { label: `canary 20% -> v${candidate}, CANARY_FALLBACK=0`, vars: { SAMPLE_RATE: "0", CANARY_FALLBACK: "0" }, setup: policy, probe: arms(400) },
        b: { label: `canary 20% -> v${candidate}, CANARY_FALLBACK=1`, vars: { SAMPLE_RATE: "0", CANARY_FALLBACK: "1" }, setup: policy, probe: arms(400) },
        pass: (r) => r.throughputRatio >= 0.99,
      };
    }
    case "explain-idle":
      return {
        name: "explain-idle",
        target: "requests without explain keep >= 99% of throughput on a version with an explainer",
        mode: "throughput",
        a: {
          label: `production v${ctx.plainVersion}, no explainer`,
          vars: { SAMPLE_RATE: "0" },
          setup: (url) => moveAlias(url, ctx.modelName, "production", ctx.plainVersion),
        },
        b: { label: "production v1, with explainer", vars: { SAMPLE_RATE: "0" } },
        pass: (r) => r.throughputRatio >= 0.99,
      };
    case "sampling-request":
      return {
        name: "sampling-request",
        target: "10% sampling keeps >= 97% of throughput on the request path (no consumer in the measured server)",
        mode: "throughput",
        a: { label: "SAMPLE_RATE=0, no consumer", vars: { SAMPLE_RATE: "0" }, consumer: false },
        b: { label: "SAMPLE_RATE=0.1, no consumer", vars: { SAMPLE_RATE: "0.1" }, consumer: false },
        pass: (r) => r.throughputRatio >= 0.97,
      };
    case "shadow-request":
      return {
        name: "shadow-request",
        target: "a shadow storing every pair adds <= 0.3 ms to p50 on the request path (no consumer in the measured server)",
        mode: "latency",
        a: { label: "no shadow, no consumer", vars: { SAMPLE_RATE: "0" }, consumer: false },
        b: {
          label: `shadow v${candidate}, sample_rate 1, no consumer`,
          vars: { SAMPLE_RATE: "0" },
          consumer: false,
          setup: (url) => putTraffic(url, ctx.modelName, { canary: null, shadow: { version: candidate, sample_rate: 1 } }),
        },
        pass: (r) => r.p50DeltaMs <= 0.3,
      };
    case "shadow":
    case "shadow-sampled":
    case "shadow-unstored": {
      const rate = { shadow: 1, "shadow-sampled": 0.1, "shadow-unstored": 0 }[name];
      const pairs: Variant["inspect"] = async (s) => `shadow_pairs rows: ${await count(s, ctx.config, "shadow_pairs")}`;
      return {
        name,
        target: "shadow on adds no client-visible latency: p50 within +0.3 ms at a fixed rate",
        mode: "latency",
        a: { label: "no shadow", vars: { SAMPLE_RATE: "0" }, inspect: pairs },
        b: {
          label: `shadow v${candidate}, sample_rate ${rate}`,
          vars: { SAMPLE_RATE: "0" },
          setup: (url) => putTraffic(url, ctx.modelName, { canary: null, shadow: { version: candidate, sample_rate: rate } }),
          inspect: pairs,
        },
        pass: (r) => r.p50DeltaMs <= 0.3,
      };
    }
  }
}
