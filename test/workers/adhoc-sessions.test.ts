/**
 * Sessions of versions in front of traffic (alias, canary, shadow) are pinned: requests that name
 * other versions by number, which anyone can send, load into a small ad-hoc pool of their own and
 * never evict them. Observed through the model cache itself (which pool holds a version, how many
 * sessions were released), not through timing.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { cachedSessionPool, clearModelCaches, MAX_ADHOC_SESSIONS, modelCacheStats } from "../../worker/inference/model-cache";
import { freshName, registerFixture, requestApp, VALID_ROW } from "./helpers";

/** Small, so the ad-hoc traffic below is several times what the pinned pool could hold. */
const VARS = { MAX_CACHED_SESSIONS: "2" };

function predict(path: string) {
  return requestApp(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(VALID_ROW) }, VARS);
}

/** One model with `count` versions; version 1 is production. */
async function publishVersions(count: number) {
  const name = freshName("adhoc");
  const versions = [];
  for (let i = 0; i < count; i++) versions.push(await registerFixture("logistic", { name, aliases: i === 0 ? ["production"] : [] }));
  return { name, versions: versions.map((v) => ({ modelName: v.name, version: v.version, sha256: v.sha256 })) };
}

describe("ad-hoc versions cannot evict pinned sessions", () => {
  beforeEach(() => clearModelCaches());

  it("cycling every version by number leaves production's session loaded", async () => {
    const { name, versions } = await publishVersions(MAX_ADHOC_SESSIONS + 3);
    const production = versions[0]!;
    expect((await predict(`/models/${name}/predict`)).status).toBe(200);
    expect(cachedSessionPool(production)).toBe("pinned");
    const released = modelCacheStats().releasedSessions;

    for (let round = 0; round < 2; round++) {
      for (const v of versions) expect((await predict(`/models/${name}/versions/${v.version}/predict`)).status).toBe(200);
    }
    expect(cachedSessionPool(production)).toBe("pinned");
    // Production by number used the pinned session; the others shared the ad-hoc slots.
    expect(modelCacheStats()).toMatchObject({ sessions: 1, adhocSessions: MAX_ADHOC_SESSIONS, maxAdhocSessions: MAX_ADHOC_SESSIONS });
    expect(versions.slice(1).filter((v) => cachedSessionPool(v) === "adhoc")).toHaveLength(MAX_ADHOC_SESSIONS);
    // 4 other versions, 2 rounds, 2 slots: every ad-hoc load but the first two released one.
    expect(modelCacheStats().releasedSessions).toBe(released + 2 * (versions.length - 1) - MAX_ADHOC_SESSIONS);

    // The next production request loads nothing and releases nothing.
    expect((await predict(`/models/${name}/predict`)).status).toBe(200);
    expect(modelCacheStats()).toMatchObject({ sessions: 1, adhocSessions: MAX_ADHOC_SESSIONS, releasedSessions: released + 2 * (versions.length - 1) - MAX_ADHOC_SESSIONS });
  });

  it("a version first loaded by number moves to the pinned pool when production asks for it", async () => {
    const { name, versions } = await publishVersions(1);
    const production = versions[0]!;
    expect((await predict(`/models/${name}/versions/${production.version}/predict`)).status).toBe(200);
    expect(cachedSessionPool(production)).toBe("adhoc");
    const released = modelCacheStats().releasedSessions;
    expect((await predict(`/models/${name}/predict`)).status).toBe(200);
    expect(cachedSessionPool(production)).toBe("pinned");
    expect(modelCacheStats()).toMatchObject({ sessions: 1, adhocSessions: 0, releasedSessions: released });
  });

  it("readiness of a version by number is ad-hoc too; by alias it is pinned", async () => {
    const { name, versions } = await publishVersions(2);
    expect((await requestApp(`/v2/models/${name}/versions/2/ready`, {}, VARS)).status).toBe(200);
    expect(cachedSessionPool(versions[1]!)).toBe("adhoc");
    expect((await requestApp(`/v2/models/${name}/ready`, {}, VARS)).status).toBe(200);
    expect(cachedSessionPool(versions[0]!)).toBe("pinned");
  });
});
