/**
 * The per-isolate resolution cache, on real D1: reuse within the TTL, fresh after it (on an injected
 * clock), no cached misses, no cached pending versions; and the cached path through the routes,
 * which the other worker tests run with the cache off (RESOLVE_CACHE_TTL_MS "0").
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openDb } from "../../worker/db/open-db";
import { setAlias } from "../../worker/registry/aliases";
import { clearResolveCache, resolveVersionCached } from "../../worker/registry/resolve-cache";
import { registerFixture, requestApp, twoVersions, VALID_ROW } from "./helpers";

describe("resolveVersionCached", () => {
  it("serves an alias from the cache until the injected clock passes the TTL, then sees the move", async () => {
    const name = await twoVersions();
    const ref = { alias: "production" };
    const db = openDb(env.DB);
    let now = 1_000_000;
    const clock = () => now;
    expect((await resolveVersionCached(db, name, ref, 300, clock)).row.version).toBe(1);
    await setAlias(db, { name, alias: "production", version: 2, by: "test" });
    now += 299;
    expect((await resolveVersionCached(db, name, ref, 300, clock)).row.version).toBe(1);
    expect((await resolveVersionCached(db, name, ref, 0, clock)).row.version).toBe(2);
    now += 1;
    expect((await resolveVersionCached(db, name, ref, 300, clock)).row.version).toBe(2);
  });

  it("does not cache a miss: a model registered right after a 404 resolves at once", async () => {
    const name = `late-${Date.now().toString(36)}`;
    await expect(resolveVersionCached(openDb(env.DB), name, { alias: "production" }, 60_000)).rejects.toThrow(/not registered/);
    await registerFixture("forest", { name });
    expect((await resolveVersionCached(openDb(env.DB), name, { alias: "production" }, 60_000)).row.version).toBe(1);
  });
});

describe("the cached path through the routes", () => {
  const predict = (path: string) =>
    requestApp(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(VALID_ROW) }, { RESOLVE_CACHE_TTL_MS: "60000" });

  it("an alias move is seen only once the cache is cleared (or the TTL passes)", async () => {
    const name = await twoVersions();
    expect((await predict(`/models/${name}/predict`)).headers.get("x-model-version")).toBe("1");
    await setAlias(openDb(env.DB), { name, alias: "production", version: 2, by: "test" });
    expect((await predict(`/models/${name}/predict`)).headers.get("x-model-version")).toBe("1");
    clearResolveCache();
    expect((await predict(`/models/${name}/predict`)).headers.get("x-model-version")).toBe("2");
  });

  it("a pending version is not cached: it serves the moment it is marked ready", async () => {
    const { manifest, version } = await registerFixture("boosting");
    const setStatus = (status: string) =>
      env.DB.prepare("UPDATE model_versions SET status = ?3 WHERE model_name = ?1 AND version = ?2").bind(manifest.name, version, status).run();
    await setStatus("pending");
    expect((await predict(`/models/${manifest.name}/versions/${version}/predict`)).status).toBe(503);
    await setStatus("ready");
    expect((await predict(`/models/${manifest.name}/versions/${version}/predict`)).status).toBe(200);
  });
});
