/**
 * One place that owns everything the benchmark starts: temp dirs, Miniflare instances, detached
 * child process groups. Cleanups run in reverse order at the end and on an error (gracefully:
 * dispose, TERM then KILL); on a signal, and as a last resort on any exit, a synchronous handler
 * kills every process group still registered and removes the temp dirs, so nothing outlives the script.
 */
import { type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { groupPids, ownWorkerdPids } from "./proc-cpu";

type Cleanup = { name: string; run: () => Promise<void> | void };

const cleanups: Cleanup[] = [];
const tempDirs = new Set<string>();
const groups = new Set<number>();
let installed = false;
let running: Promise<void> | null = null;

export function onCleanup(name: string, run: Cleanup["run"]): () => void {
  const entry = { name, run };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  onCleanup(`remove ${dir}`, () => {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    tempDirs.delete(dir);
  });
  return dir;
}

/** Stops a detached child's whole process group (npx -> node -> workerd): TERM, then KILL after a grace period. */
export async function killGroup(child: ChildProcess, graceMs = 5000): Promise<void> {
  const pgid = child.pid;
  if (pgid === undefined) return;
  signalGroup(pgid, "SIGTERM");
  // Wait for every live member (not just the npx leader: workerd may outlive it), then KILL the rest.
  for (let waited = 0; waited < graceMs && groupPids(pgid).length > 0; waited += 100) await new Promise((r) => setTimeout(r, 100));
  if (groupPids(pgid).length > 0) {
    signalGroup(pgid, "SIGKILL");
    for (let waited = 0; waited < 2000 && groupPids(pgid).length > 0; waited += 100) await new Promise((r) => setTimeout(r, 100));
  }
  groups.delete(pgid);
}

/** Registers a detached child so the exit-time safety net can kill its group. */
export function trackGroup(child: ChildProcess): void {
  if (child.pid !== undefined) groups.add(child.pid);
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export function runCleanups(): Promise<void> {
  running ??= (async () => {
    while (cleanups.length) {
      const entry = cleanups.pop()!;
      try {
        await entry.run();
      } catch (error) {
        process.stderr.write(`cleanup "${entry.name}" failed: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  })();
  return running;
}

/**
 * Ctrl-C / SIGTERM / SIGHUP: exit at once with 128+signal; the exit handler then kills every
 * registered process group and our workerd children and removes the temp dirs, synchronously.
 * It has to be synchronous: Miniflare's exit hook calls process.exit() on SIGINT too, so an async
 * cleanup would be cut short. Importing wrangler (for unstable_readConfig) installs SIGINT/SIGTERM
 * listeners that call process.exit() with code 0 for its CLI's own children, which this process
 * never starts: they are removed here so a Ctrl-C exits 130. Ours are appended, not prepended, so
 * that tsx's hidden handler still tells the tsx parent first (otherwise it SIGKILLs us after 60 ms,
 * in the middle of the cleanup).
 */
export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
    for (const listener of process.listeners(signal)) process.off(signal, listener);
    process.on(signal, () => {
      try {
        writeSync(2, `\n${signal}: stopping servers and removing temp dirs\n`);
      } catch {
        // stderr gone
      }
      process.exit(code);
    });
  }
  process.on("exit", () => {
    for (const pgid of groups) signalGroup(pgid, "SIGKILL");
    // Miniflare's workerd children too (its own exit hook may run after this one).
    const workerds = ownWorkerdPids();
    for (const pid of workerds) signalPid(pid, "SIGKILL");
    // Let killed processes actually go before removing the files they were writing.
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const alive = () => [...groups].some((g) => groupPids(g).length > 0) || ownWorkerdPids().some((pid) => workerds.includes(pid));
    for (let waited = 0; waited < 3000 && alive(); waited += 50) Atomics.wait(pause, 0, 0, 50);
    for (const dir of tempDirs) {
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      } catch (error) {
        try {
          writeSync(2, `could not remove ${dir}: ${error instanceof Error ? error.message : String(error)}\n`);
        } catch {
          // stderr gone
        }
      }
    }
  });
}
