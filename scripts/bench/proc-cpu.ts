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

/**
 * A fine-grained CPU snapshot of processes: each live thread's run time from
 * /proc/<pid>/task/<tid>/schedstat (nanoseconds), beside the tick-resolution total from
 * /proc/<pid>/stat. The thread sum resolves a single request; the tick total also keeps the time of
 * threads that have exited, which the thread sum loses, so cpuSpanMs checks one against the other.
 * In workerd, JavaScript and wasm run on the process's main thread (tid = pid, named "workerd");
 * the other threads are V8's background workers (compilation, GC) and tokio's I/O runtime.
 */
export interface CpuSnapshot {
  at: number;
  ticksMs: number;
  threadsNs: Map<string, number>;
}

export function cpuSnapshot(pids: readonly number[]): CpuSnapshot {
  const threadsNs = new Map<string, number>();
  for (const pid of pids) {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
        if (Number.isFinite(ns)) threadsNs.set(`${pid}/${tid}`, ns);
      } catch {
        // the thread exited between the listing and the read
      }
    }
  }
  return { at: performance.now(), ticksMs: cpuMs(pids), threadsNs };
}

export interface CpuSpan {
  /** All threads of the processes. */
  ms: number;
  /** Main threads only (where workerd runs JavaScript and wasm). */
  mainMs: number;
  wallMs: number;
  /** A thread present at the start was gone at the end: `ms` is the tick total (10 ms resolution). */
  coarse: boolean;
}

/** CPU spent between two snapshots, in ms (threads born in between count from zero). */
export function cpuSpanMs(start: CpuSnapshot, end: CpuSnapshot): CpuSpan {
  let ns = 0;
  let mainNs = 0;
  let lost = false;
  for (const tid of start.threadsNs.keys()) if (!end.threadsNs.has(tid)) lost = true;
  for (const [key, after] of end.threadsNs) {
    const spent = after - (start.threadsNs.get(key) ?? 0);
    ns += spent;
    const [pid, tid] = key.split("/");
    if (pid === tid) mainNs += spent;
  }
  const wallMs = end.at - start.at;
  return { ms: lost ? end.ticksMs - start.ticksMs : ns / 1e6, mainMs: mainNs / 1e6, wallMs, coarse: lost };
}

/** Resident memory of a process from /proc/<pid>/status, in KiB: now (VmRSS) and its peak so far (VmHWM). */
export function memoryKiB(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
    return { rss: field("VmRSS"), peak: field("VmHWM") };
  } catch {
    return { rss: Number.NaN, peak: Number.NaN };
  }
}
