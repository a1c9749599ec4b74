/**
 * The two ways the benchmark serves the worker:
 *  A. direct: workerd running the built bundle through Miniflare's own server, nothing in front;
 *  B. `wrangler dev`: the source through wrangler's dev server (its proxy worker in front), as a
 *     developer runs it, spawned detached so its whole process group can be stopped.
 */
import { spawn } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Miniflare, type MiniflareOptions } from "miniflare";
import { OFFLINE_ENV } from "../../trainer/offline-env";
import { freePort } from "../lib/wrangler-dev-server";
import { killGroup, onCleanup, trackGroup } from "./cleanup";
import { groupPids, ownWorkerdPids } from "./proc-cpu";
import { bundleModules, COMPATIBILITY_DATE, sleep } from "./process";
import { type RegistryConfig, workerBindings } from "./registry-state";

export interface RunningServer {
  url: string;
  /** The server's processes (for CPU accounting): Miniflare's workerd, or wrangler dev's whole group. */
  pids(): number[];
  stop(): Promise<void>;
}

export interface RunningMiniflare extends RunningServer {
  mf: Miniflare;
}

/**
 * A workerd through Miniflare on a free loopback port, set up alike for every benchmark: the
 * worker's console on stderr (stdout stays clean for --json), no per-request log line, disposal
 * registered with the cleanup so Ctrl-C stops it, and the pids of the workerd it started, for CPU
 * accounting. `options` is the worker: its modules or script, bindings, persistence.
 */
export async function startMiniflare(label: string, options: MiniflareOptions): Promise<RunningMiniflare> {
  const before = new Set(ownWorkerdPids());
  const streams: Readable[] = [];
  const mf = new Miniflare({
    compatibilityDate: COMPATIBILITY_DATE,
    host: "127.0.0.1",
    port: 0,
    // With request logging on, Miniflare's entry worker POSTs each line to Node: load on the figures.
    logRequests: false,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      streams.push(stdout, stderr);
      stdout.pipe(process.stderr, { end: false });
      stderr.pipe(process.stderr, { end: false });
    },
    ...options,
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await mf.dispose();
    // Each server's pipes add listeners to process.stderr: remove them, or a script that starts many trips Node's leak warning.
    for (const stream of streams) stream.unpipe(process.stderr);
  };
  const unregister = onCleanup(label, stop);
  const url = await mf.ready;
  const pids = ownWorkerdPids().filter((p) => !before.has(p));
  return {
    mf,
    url: url.origin,
    pids: () => pids,
    async stop() {
      unregister();
      await stop();
    },
  };
}

/** The built bundle over a persisted registry: path A. */
export function startDirect(
  bundleDir: string,
  stateDir: string,
  config: RegistryConfig,
  vars: Record<string, string>,
  options: { triggerHandlers?: boolean; inspectorPort?: number; consumer?: boolean } = {},
): Promise<RunningServer> {
  return startMiniflare("dispose direct Miniflare", {
    modules: bundleModules(bundleDir),
    modulesRoot: bundleDir,
    ...workerBindings(stateDir, config, { consumer: options.consumer ?? true }),
    bindings: vars,
    // GET /cdn-cgi/handler/scheduled?cron=…&time=… fires the scheduled handler (as wrangler dev serves it).
    ...(options.triggerHandlers ? { unsafeTriggerHandlers: true } : {}),
    ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
  });
}

export async function startWranglerDev(
  root: string,
  stateDir: string,
  vars: Record<string, string>,
  logDir: string,
  logLevel?: string,
): Promise<RunningServer> {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const args = ["wrangler", "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort)];
  args.push("--persist-to", stateDir, "--show-interactive-dev-session=false");
  if (logLevel) args.push("--log-level", logLevel);
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const logPath = join(logDir, "wrangler-dev.log");
  const log = createWriteStream(logPath);
  const child = spawn("npx", args, {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...OFFLINE_ENV, CI: "1", NO_COLOR: "1", FORCE_COLOR: "0" },
  });
  trackGroup(child);
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await killGroup(child);
    log.end();
  };
  const unregister = onCleanup("stop wrangler dev process group", stop);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`wrangler dev exited early (${child.exitCode ?? child.signalCode}):\n${tail(logPath)}`);
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`wrangler dev did not answer /health within 120 s:\n${tail(logPath)}`);
    await sleep(250);
  }
  return {
    url,
    pids: () => (child.pid === undefined ? [] : groupPids(child.pid)),
    async stop() {
      unregister();
      await stop();
    },
  };
}

function tail(path: string): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-40).join("\n");
  } catch {
    return "(no log)";
  }
}
