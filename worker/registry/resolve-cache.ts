/**
 * Per-isolate cache of version resolution (alias or number -> version row), so the hot predict path
 * does not query D1 and re-parse the manifest column on every request. Measured with
 * scripts/bench-predict.ts on the direct path: 1-row requests went from ~340 to ~1,200 req/s and
 * from 2.8 to 0.85 ms of workerd CPU each. The price: an alias move reaches a given isolate up to
 * `ttlMs` later. Failures (unknown model, alias or version) are never cached; concurrent misses
 * share one query.
 */
import { type Db, resolveVersion, type ResolvedVersion, type VersionRef } from "./registry";

const cache = new Map<string, { until: number; value: Promise<ResolvedVersion> }>();

export function resolveVersionCached(db: Db, name: string, ref: VersionRef, ttlMs: number): Promise<ResolvedVersion> {
  if (ttlMs <= 0) return resolveVersion(db, name, ref);
  const key = `${name}\u0000${"version" in ref ? `v${ref.version}` : `a${ref.alias}`}`;
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && hit.until > now) return hit.value;
  const value = resolveVersion(db, name, ref);
  cache.set(key, { until: now + ttlMs, value });
  value.catch(() => cache.delete(key));
  return value;
}

export function clearResolveCache(): void {
  cache.clear();
}
