/**
 * Per-isolate cache of version resolution (alias or number -> version row), so the hot predict path
 * does not query D1 and re-parse the manifest column on every request. Measured with
 * scripts/bench-predict.ts on the direct path: 1-row requests went from ~340 to ~1,200 req/s and
 * from 2.8 to 0.85 ms of workerd CPU each. The price: an alias move reaches a given isolate up to
 * `ttlMs` later. Failures (unknown model, alias or version) are never cached, nor is a version that
 * does not serve yet (`pending`): it must serve the moment it is ready, not a TTL later. Concurrent
 * misses share one query. At most MAX_ENTRIES are kept, expired ones dropped first.
 */
import { type Db, resolveVersion, type ResolvedVersion, type VersionRef } from "./registry";

interface Entry {
  until: number;
  value: Promise<ResolvedVersion>;
}

const MAX_ENTRIES = 256;
const cache = new Map<string, Entry>();

export function resolveVersionCached(
  db: Db,
  name: string,
  ref: VersionRef,
  ttlMs: number,
  now: () => number = Date.now,
): Promise<ResolvedVersion> {
  if (ttlMs <= 0) return resolveVersion(db, name, ref);
  const key = `${name}\u0000${"version" in ref ? `v${ref.version}` : `a${ref.alias}`}`;
  const at = now();
  const hit = cache.get(key);
  if (hit && hit.until > at) return hit.value;
  const entry: Entry = { until: at + ttlMs, value: resolveVersion(db, name, ref) };
  cache.delete(key);
  cache.set(key, entry);
  trim(at);
  const forget = () => {
    if (cache.get(key) === entry) cache.delete(key);
  };
  entry.value.then((resolved) => {
    if (resolved.row.status === "pending") forget();
  }, forget);
  return entry.value;
}

function trim(at: number): void {
  if (cache.size <= MAX_ENTRIES) return;
  for (const [key, entry] of cache) if (entry.until <= at) cache.delete(key);
  for (const key of cache.keys()) {
    if (cache.size <= MAX_ENTRIES) break;
    cache.delete(key);
  }
}

export function clearResolveCache(): void {
  cache.clear();
}
