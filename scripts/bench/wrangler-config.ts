/** What the benchmarks read from the project: wrangler.toml's bindings and vars, and package versions. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { unstable_readConfig } from "wrangler";
import type { RegistryConfig } from "./registry-state";

export function readRegistryConfig(root: string): RegistryConfig {
  const config = unstable_readConfig({ config: join(root, "wrangler.toml") }, { hideWarnings: true });
  type D1Entry = { binding: string; database_id?: string; preview_database_id?: string };
  type R2Entry = { binding: string; bucket_name?: string };
  const d1 = (config.d1_databases as D1Entry[]).find((d) => d.binding === "DB");
  const r2 = (config.r2_buckets as R2Entry[]).find((b) => b.binding === "MODELS");
  const d1DatabaseId = d1?.preview_database_id ?? d1?.database_id;
  if (!d1DatabaseId || !r2?.bucket_name) throw new Error("wrangler.toml must declare the DB (D1) and MODELS (R2) bindings");
  const vars = Object.fromEntries(
    Object.entries(config.vars).flatMap(([k, v]) => (typeof v === "string" ? [[k, v] as [string, string]] : [])),
  );
  type Producer = { binding: string; queue: string };
  const producer = ((config.queues?.producers ?? []) as Producer[]).find((q) => q.binding === "OBSERVATIONS");
  if (!producer) throw new Error("wrangler.toml must declare the OBSERVATIONS queue producer");
  return { d1DatabaseId, r2BucketName: r2.bucket_name, observationQueue: producer.queue, vars };
}

export function packageVersion(root: string, name: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}
