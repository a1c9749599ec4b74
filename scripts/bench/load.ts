/**
 * Load against /predict with autocannon's programmatic API (in this process). Latency percentiles
 * are computed from every 2xx response time autocannon reports (float ms), not from its histogram,
 * which has 1 ms buckets; autocannon's own p50/p99 are kept for reference.
 */
import { loadavg } from "node:os";
import autocannon from "autocannon";
import type { Manifest } from "../../worker/contract/manifest";
import { percentile } from "./order-statistics";
import { cpuMs } from "./proc-cpu";

export interface LoadFigures {
  connections: number;
  durationS: number;
  requests: number;
  reqPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
  autocannonLatencyMs: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Connection-level errors by code (ECONNRESET, timeout, ...), if any. */
  errorKinds: Record<string, number>;
  /** 1-minute load average when the run ended: the machine is shared, this says how busy it was. */
  loadAvg1m: number;
  /** Server-side CPU (all its processes, /proc) per response, and cores it kept busy on average. */
  serverCpuMsPerRequest: number;
  serverCores: number;
}

export interface Payload {
  label: string;
  /** Rows per request; 0 for the GET /health floor. */
  rows: number;
  method: "GET" | "POST";
  path: string;
  body?: string;
}

/** GET /health: the same server, Hono and HTTP path without any prediction work, as a floor. */
export const HEALTH_FLOOR: Payload = { label: "GET /health (floor)", rows: 0, method: "GET", path: "/health" };

export function payloads(manifest: Manifest, rowCounts: readonly number[]): Payload[] {
  const goldens = manifest.golden.map((g) => g.input);
  if (!goldens.length) throw new Error("the bench manifest has no golden rows to send");
  return rowCounts.map((rows) =>
    rows === 1
      ? { label: "1 row", rows, method: "POST", path: "/predict", body: JSON.stringify(goldens[0]) }
      : {
          label: `${rows} rows`,
          rows,
          method: "POST",
          path: "/predict",
          body: JSON.stringify({ instances: Array.from({ length: rows }, (_, i) => goldens[i % goldens.length]) }),
        },
  );
}

/**
 * One request, checked in full: 200, the bench model's name, the expected number of predictions,
 * and the first row's probability equal to the manifest's golden (to the API's 4 decimals).
 */
export async function verifyPredict(baseUrl: string, manifest: Manifest, payload: Payload): Promise<{ version: string; ms: number }> {
  if (payload.rows === 0) {
    const started = performance.now();
    const res = await fetch(`${baseUrl}${payload.path}`);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${payload.method} ${payload.path} answered ${res.status}`);
    return { version: "-", ms: performance.now() - started };
  }
  const started = performance.now();
  const res = await fetch(`${baseUrl}/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: payload.body });
  const text = await res.text();
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`POST /predict (${payload.label}) answered ${res.status}: ${text.slice(0, 500)}`);
  const name = res.headers.get("x-model-name");
  if (name !== manifest.name) throw new Error(`POST /predict served model ${name}, expected ${manifest.name}`);
  const json = JSON.parse(text) as Record<string, unknown> & { predictions?: Record<string, unknown>[] };
  const first = payload.rows === 1 ? json : json.predictions?.[0];
  const count = payload.rows === 1 ? 1 : (json.predictions?.length ?? 0);
  if (count !== payload.rows) throw new Error(`POST /predict returned ${count} predictions for ${payload.rows} rows`);
  const key = `${manifest.output.label}_probability`;
  const got = Number(first?.[key]);
  const want = manifest.golden[0]!.probability;
  if (!(Math.abs(got - want) <= 6e-5)) throw new Error(`POST /predict gave ${key}=${got} for golden row 0, manifest says ${want}`);
  return { version: res.headers.get("x-model-version") ?? "?", ms };
}

export async function runLoad(
  baseUrl: string,
  payload: Payload,
  options: { connections: number; durationS: number; serverPids?: () => number[] },
): Promise<LoadFigures> {
  const pids = options.serverPids?.() ?? [];
  const cpuBefore = cpuMs(pids);
  const instance = autocannon({
    url: `${baseUrl}${payload.path}`,
    method: payload.method,
    ...(payload.body === undefined ? {} : { headers: { "content-type": "application/json" }, body: payload.body }),
    connections: options.connections,
    duration: options.durationS,
    timeout: 30,
  });
  const latencies: number[] = [];
  instance.on("response", (_client: unknown, status: number, _bytes: number, responseTime: number) => {
    if (status >= 200 && status < 300) latencies.push(responseTime);
  });
  const errorKinds: Record<string, number> = {};
  instance.on("reqError", (error: Error & { code?: string }) => {
    const kind = error.code ?? error.message ?? "unknown";
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  });
  const result = await instance;
  const serverCpu = cpuMs(pids) - cpuBefore;
  latencies.sort((a, b) => a - b);
  const total = result["1xx"] + result["2xx"] + result["3xx"] + result["4xx"] + result["5xx"];
  return {
    connections: options.connections,
    durationS: result.duration,
    requests: total,
    reqPerSec: result["2xx"] / result.duration,
    latencyMs: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      mean: latencies.reduce((a, b) => a + b, 0) / (latencies.length || 1),
      max: latencies[latencies.length - 1] ?? Number.NaN,
    },
    autocannonLatencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, Number(v.count)])),
    errorKinds,
    loadAvg1m: loadavg()[0]!,
    serverCpuMsPerRequest: serverCpu / total,
    serverCores: serverCpu / (result.duration * 1000),
  };
}
