/**
 * CPU time of server processes from /proc (Linux): on a shared 2-core machine wall-clock figures
 * swing with whatever else runs, while CPU time spent by the server per request (or per inference
 * call) barely does. Resolution is one clock tick (10 ms), so it is only read around whole runs.
 * Returns NaN where /proc is not available.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";

interface ProcInfo {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  cpuTicks: number;
}

let ticksPerSecond: number | null = null;

function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function readProc(pid: number): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm may contain spaces and parentheses: split after the last ')'.
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const fields = stat.slice(close + 2).split(" ");
    // fields[0] is state (stat field 3): utime is field 14, stime field 15.
    return { pid, comm, state: fields[0]!, ppid: Number(fields[1]), pgrp: Number(fields[2]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

function allProcs(): ProcInfo[] {
  if (!existsSync("/proc")) return [];
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p): p is ProcInfo => p !== null);
}

/** Live (not zombie) workerd processes started, directly or not, by this Node process: Miniflare's runtime. */
export function ownWorkerdPids(): number[] {
  const procs = allProcs();
  const children = new Map<number, ProcInfo[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      if (c.comm === "workerd" && c.state !== "Z") out.push(c.pid);
      walk(c.pid);
    }
  };
  walk(process.pid);
  return out;
}

/** Every live process in a process group (a detached child's npx -> node -> workerd tree). */
export function groupPids(pgid: number): number[] {
  if (!existsSync("/proc")) {
    // No /proc: all we can tell is whether the group still has members (zombies included).
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  return allProcs()
    .filter((p) => p.pgrp === pgid && p.state !== "Z")
    .map((p) => p.pid);
}

/** Total user+system CPU of these processes so far, in ms (NaN if none could be read). */
export function cpuMs(pids: readonly number[]): number {
  if (!pids.length) return Number.NaN;
  let ticks = 0;
  let read = 0;
  for (const pid of pids) {
    const p = readProc(pid);
    if (p) {
      ticks += p.cpuTicks;
      read++;
    }
  }
  return read ? (ticks * 1000) / clockTicks() : Number.NaN;
}
