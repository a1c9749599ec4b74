/**
 * Open-loop load at a fixed request rate, evenly spaced: request i is sent at start + i / rate
 * whether or not earlier ones have answered, so a server that falls behind shows it in the
 * latencies instead of slowing the sender down (no coordinated omission). A latency runs from the
 * request's send to the end of its response.
 *
 * Why not autocannon's `overallRate`: it lets each connection send its share of a second's requests
 * back to back and then pause until the next second, so "50 req/s" on 16 connections is a burst of
 * 50 concurrent requests at the top of every second. That measures how a burst queues, where any
 * work a request leaves behind (its waitUntil) delays the requests behind it in the burst; these
 * rows ask what a client sees at a steady 50 req/s.
 *
 * Keep-alive connections (node:http Agent), opened as needed: one suffices while responses come
 * back faster than the spacing.
 */
import { Agent, request } from "node:http";
import { loadavg } from "node:os";
import type { LoadFigures, Payload } from "./load";
import { percentile } from "./order-statistics";
import { cpuMs } from "./proc-cpu";

export async function runPacedLoad(
  baseUrl: string,
  payload: Payload,
  options: { rate: number; durationS: number; serverPids?: () => number[] },
): Promise<LoadFigures> {
  const url = new URL(payload.path, baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const body = payload.body === undefined ? undefined : Buffer.from(payload.body);
  const total = Math.round(options.rate * options.durationS);
  const spacingMs = 1000 / options.rate;
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  const errorKinds: Record<string, number> = {};
  let errors = 0;
  let non2xx = 0;
  const sockets = new Set<unknown>();

  const one = () =>
    new Promise<void>((resolve) => {
      const sent = performance.now();
      const req = request(
        url,
        {
          method: payload.method,
          agent,
          headers: body ? { "content-type": "application/json", "content-length": body.byteLength } : {},
        },
        (res) => {
          res.on("data", () => {});
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            statusCodes[status] = (statusCodes[status] ?? 0) + 1;
            if (status >= 200 && status < 300) latencies.push(performance.now() - sent);
            else non2xx++;
            resolve();
          });
        },
      );
      req.on("socket", (socket) => sockets.add(socket));
      req.on("error", (error: Error & { code?: string }) => {
        errors++;
        const kind = error.code ?? error.message;
        errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
        resolve();
      });
      req.end(body);
    });

  const pids = options.serverPids?.() ?? [];
  const cpuBefore = cpuMs(pids);
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + i * spacingMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(one());
  }
  await Promise.all(inFlight);
  const durationS = (performance.now() - started) / 1000;
  const serverCpu = cpuMs(pids) - cpuBefore;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const ok = latencies.length;
  return {
    connections: sockets.size,
    durationS,
    requests: total,
    reqPerSec: ok / durationS,
    latencyMs: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      mean: latencies.reduce((a, b) => a + b, 0) / (ok || 1),
      max: latencies[ok - 1] ?? Number.NaN,
    },
    autocannonLatencyMs: { p50: Number.NaN, p99: Number.NaN },
    non2xx,
    errors,
    timeouts: 0,
    statusCodes,
    errorKinds,
    loadAvg1m: loadavg()[0]!,
    serverCpuMsPerRequest: serverCpu / total,
    serverCores: serverCpu / (durationS * 1000),
  };
}
