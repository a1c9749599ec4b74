/**
 * A real `wrangler dev` for end-to-end tests and `npm run release:local`: on a free loopback port,
 * over a given --persist-to state, in its own process group so stopping it also stops workerd
 * (killing only npx would leave workerd holding the port).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { devNull } from "node:os";
import { OFFLINE_ENV, PROJECT_ROOT } from "../../trainer/offline-env";

export interface WranglerDev {
  base: string;
  /** Everything wrangler printed so far, for failure messages. */
  log: () => string;
  stop: () => Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export interface WranglerDevOptions {
  /**
   * A wrangler config other than the project's; wrangler then reads the `.dev.vars` beside it.
   * Without one the server sees only the vars passed here: the developer's own `.dev.vars` (which
   * npm start writes, with secrets that change answers, such as PREDICTION_TOKEN_SECRET) is not
   * loaded, so tests and scripts behave the same on a fresh clone and on a working one.
   */
  configPath?: string;
  timeoutMs?: number;
}

/** Starts wrangler dev with `--var NAME:value` for each var and waits until /health answers. */
export async function startWranglerDev(persistTo: string, vars: Record<string, string>, options: WranglerDevOptions = {}): Promise<WranglerDev> {
  const { configPath, timeoutMs = 90_000 } = options;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const args = ["wrangler", "dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persistTo, "--show-interactive-dev-session=false"];
  // An explicit (empty) env file stands in for .dev.vars: wrangler loads one or the other.
  args.push(...(configPath ? ["--config", configPath] : ["--env-file", devNull]));
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  const server: ChildProcess = spawn("npx", args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...OFFLINE_ENV },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  server.stdout?.on("data", (d) => (log += d));
  server.stderr?.on("data", (d) => (log += d));
  const stop = async () => {
    if (!server.pid) return;
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      try {
        process.kill(-server.pid, signal);
      } catch {
        // already gone
      }
      if (signal === "SIGTERM") await new Promise((r) => setTimeout(r, 500));
    }
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || server.exitCode !== null) {
      await stop();
      throw new Error(`wrangler dev did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { base, log: () => log, stop };
}
