/** The per-isolate resolution cache, on real D1: reuse within the TTL, fresh after it, no cached misses. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openDb, setAlias } from "../../worker/registry/registry";
import { resolveVersionCached } from "../../worker/registry/resolve-cache";
import { registerFixture } from "./helpers";

describe("resolveVersionCached", () => {
  it("serves an alias from the cache until the TTL passes, then sees the move", async () => {
    const first = await registerFixture("forest");
    const name = first.manifest.name;
    await registerFixture("logistic", { name, aliases: [] });
    const ref = { alias: "production" };
    expect((await resolveVersionCached(openDb(env.DB), name, ref, 300)).row.version).toBe(1);
    await setAlias(openDb(env.DB), { name, alias: "production", version: 2, by: "test" });
    expect((await resolveVersionCached(openDb(env.DB), name, ref, 300)).row.version).toBe(1);
    expect((await resolveVersionCached(openDb(env.DB), name, ref, 0)).row.version).toBe(2);
    await new Promise((r) => setTimeout(r, 350));
    expect((await resolveVersionCached(openDb(env.DB), name, ref, 300)).row.version).toBe(2);
  });

  it("does not cache a miss: a model registered right after a 404 resolves at once", async () => {
    const name = `late-${Date.now().toString(36)}`;
    await expect(resolveVersionCached(openDb(env.DB), name, { alias: "production" }, 60_000)).rejects.toThrow(/not registered/);
    await registerFixture("forest", { name });
    expect((await resolveVersionCached(openDb(env.DB), name, { alias: "production" }, 60_000)).row.version).toBe(1);
  });
});
