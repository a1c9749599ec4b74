/**
 * CPU time of a cold Worker, as Cloudflare would bill it against a plan's per-invocation CPU limit:
 * each run starts a fresh workerd (Miniflare serving the built bundle over a prepared registry), so
 * the first prediction pays for everything a new isolate does: alias resolution in D1, the model
 * bytes from R2, instantiating the ORT wasm, creating the session, and the inference. Then come full
 * batches (the largest request the Worker accepts) and warm 1-row requests.
 *
 * CPU is read from /proc around each request (per-thread run time, ns resolution) minus the idle
 * rate measured just before, twice: workerd's main thread, where the isolate runs JavaScript and
 * wasm, and the whole process (V8's background compiler and GC threads too). Both include the local
 * D1 and R2 simulators, which run inside the same workerd; on Cloudflare they run elsewhere and
 * waiting on them is not CPU time, so even the main-thread figure is an upper bound on what an
 * invocation is billed.
 */
import { cpuSnapshot, cpuSpanMs } from "./proc-cpu";
import { sleep } from "./process";
import { type BenchModel, type RegistryConfig, workerBindings } from "./registry-state";
import { startDirect, startMiniflare } from "./servers";

export interface RequestCpu {
  /** Whole workerd process. */
  cpuMs: number;
  /** workerd's main thread, where the isolate runs JavaScript and wasm: closest to billed CPU. */
  mainCpuMs: number;
  wallMs: number;
  /** The per-thread sum was unusable (a thread exited): tick resolution (10 ms) instead. */
  coarse: boolean;
}

export interface ColdRun {
  /** workerd CPU from spawn to ready: runtime boot, Miniflare's own workers and this bundle's global scope. */
  startupCpuMs: number;
  idleCpuMsPerS: number;
  idleMainCpuMsPerS: number;
  first: RequestCpu;
  firstBatch: RequestCpu;
  batches: RequestCpu[];
  warmOneRow: RequestCpu[];
}

export interface ColdOptions {
  batchRows: number;
  batches: number;
  warmRequests: number;
}

function rowsFor(manifest: BenchModel["manifest"], rows: number): string {
  const goldens = manifest.golden.map((g) => g.input);
  return rows === 1 ? JSON.stringify(goldens[0]) : JSON.stringify({ instances: Array.from({ length: rows }, (_, i) => goldens[i % goldens.length]) });
}

async function post(url: string, body: string, rows: number): Promise<void> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST ${url} (${rows} rows) answered ${res.status}: ${text.slice(0, 400)}`);
  if (rows > 1) {
    const count = (JSON.parse(text) as { predictions?: unknown[] }).predictions?.length;
    if (count !== rows) throw new Error(`POST ${url} returned ${count} predictions for ${rows} rows`);
  }
}

/** Waits until workerd stops working on its own (startup JIT, background compilation), at most 10 s. */
async function settle(pids: number[]): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const a = cpuSnapshot(pids);
    await sleep(250);
    if (cpuSpanMs(a, cpuSnapshot(pids)).ms < 2) return;
  }
}

interface IdleRate {
  perMs: number;
  mainPerMs: number;
}

async function idleRate(pids: number[], ms = 1000): Promise<IdleRate> {
  const a = cpuSnapshot(pids);
  await sleep(ms);
  const span = cpuSpanMs(a, cpuSnapshot(pids));
  return { perMs: span.ms / span.wallMs, mainPerMs: span.mainMs / span.wallMs };
}

/** Work the Worker hands to waitUntil may still run after the response: read CPU a moment later. */
const TAIL_MS = 20;

async function measured(pids: number[], idle: IdleRate, send: () => Promise<void>): Promise<RequestCpu> {
  const a = cpuSnapshot(pids);
  const started = performance.now();
  await send();
  const wallMs = performance.now() - started;
  await sleep(TAIL_MS);
  const span = cpuSpanMs(a, cpuSnapshot(pids));
  return {
    cpuMs: Math.max(0, span.ms - idle.perMs * span.wallMs),
    mainCpuMs: Math.max(0, span.mainMs - idle.mainPerMs * span.wallMs),
    wallMs,
    coarse: span.coarse,
  };
}

export async function coldRun(
  bundleDir: string,
  stateDir: string,
  config: RegistryConfig,
  vars: Record<string, string>,
  model: BenchModel,
  options: ColdOptions,
): Promise<ColdRun> {
  const server = await startDirect(bundleDir, stateDir, config, vars);
  try {
    const pids = server.pids();
    const startupCpuMs = cpuSnapshot(pids).ticksMs;
    await settle(pids);
    const idle = await idleRate(pids);
    const url = `${server.url}/models/${encodeURIComponent(model.manifest.name)}/predict`;
    const one = rowsFor(model.manifest, 1);
    const batch = rowsFor(model.manifest, options.batchRows);
    const first = await measured(pids, idle, () => post(url, one, 1));
    const firstBatch = await measured(pids, idle, () => post(url, batch, options.batchRows));
    const batches: RequestCpu[] = [];
    for (let i = 0; i < options.batches; i++) batches.push(await measured(pids, idle, () => post(url, batch, options.batchRows)));
    const warmOneRow: RequestCpu[] = [];
    for (let i = 0; i < options.warmRequests; i++) warmOneRow.push(await measured(pids, idle, () => post(url, one, 1)));
    return { startupCpuMs, idleCpuMsPerS: idle.perMs * 1000, idleMainCpuMsPerS: idle.mainPerMs * 1000, first, firstBatch, batches, warmOneRow };
  } finally {
    await server.stop();
  }
}

/** Startup CPU of workerd with the same bindings and a one-line Worker: the part of startup that is not this bundle. */
export async function baselineStartupCpuMs(stateDir: string, config: RegistryConfig): Promise<number> {
  const server = await startMiniflare("dispose baseline Miniflare", {
    modules: true,
    script: "export default { fetch() { return new Response('ok'); } };",
    ...workerBindings(stateDir, config),
  });
  try {
    return cpuSnapshot(server.pids()).ticksMs;
  } finally {
    await server.stop();
  }
}
