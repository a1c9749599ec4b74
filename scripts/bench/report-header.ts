/**
 * Where and when a benchmark ran, recorded in its JSON and printed as its report's first line:
 * figures from a shared machine mean little without the load and versions beside them.
 */
import { cpus, loadavg } from "node:os";
import { packageVersion } from "./wrangler-config";

export interface RunEnvironment {
  date: string;
  node: string;
  cpus: number;
  /** 1, 5 and 15 minute load averages when the environment was read. */
  loadAvg: string;
  wrangler: string;
}

export function runEnvironment(root: string): RunEnvironment {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    loadAvg: loadavg().map((l) => l.toFixed(2)).join(" "),
    wrangler: packageVersion(root, "wrangler"),
  };
}

/** `<bench>  <date>  node <v>, <n> cpus (load avg <l>)  wrangler <v>[, <package> <v>...]` */
export function reportHeader(bench: string, env: RunEnvironment, packages: Record<string, unknown> = {}): string {
  const versions = [`wrangler ${env.wrangler}`, ...Object.entries(packages).map(([name, version]) => `${name} ${String(version)}`)];
  return `${bench}  ${env.date}  node ${env.node}, ${env.cpus} cpus (load avg ${env.loadAvg})  ${versions.join(", ")}`;
}
