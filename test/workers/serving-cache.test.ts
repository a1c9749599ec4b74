/**
 * Serving through the per-isolate model caches, on real D1, R2 and onnxruntime sessions: status gates
 * (pending 503 and never remembered, failed 503, archived 404), a stored manifest that no longer
 * parses (503, not the client's 422), and the LRU bound on sessions, which releases an evicted
 * session, but never under a running inference. Statuses and manifests are changed with direct D1
 * UPDATEs, as an operator or a broken migration would.
 */
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { buildFeeds } from "../../worker/contract/feature-feeds";
import { clearModelCaches, getSession, modelCacheStats, runWithSession } from "../../worker/inference/model-cache";
import { openDb } from "../../worker/db/open-db";
import { getVersionRow } from "../../worker/registry/versions";
import { type Envelope, get, postJson, registerFixture, requestApp, VALID_ROW } from "./helpers";

async function setStatus(name: string, version: number, status: string) {
  await env.DB.prepare("UPDATE model_versions SET status = ?3 WHERE model_name = ?1 AND version = ?2").bind(name, version, status).run();
}

/** A POST through the whole app with this file's bindings plus overrides (settings are parsed per env object). */
function request(path: string, vars: Record<string, string> = {}, body: unknown = VALID_ROW) {
  return requestApp(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }, vars);
}

describe("status gates", () => {
  it("a pending version answers 503 (retry-after 1) and serves the moment it is ready", async () => {
    const { manifest, version } = await registerFixture("forest");
    await setStatus(manifest.name, version, "pending");
    const refused = await postJson(`/models/${manifest.name}/versions/${version}/predict`, VALID_ROW);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    const body = (await refused.json()) as Envelope;
    expect(body.error.code).toBe("MODEL_UNAVAILABLE");
    expect(body.error.message).toMatch(/still being registered/);
    expect((await get(`/v2/models/${manifest.name}/versions/${version}/ready`)).status).toBe(503);

    await setStatus(manifest.name, version, "ready");
    expect((await postJson(`/models/${manifest.name}/versions/${version}/predict`, VALID_ROW)).status).toBe(200);
    expect((await get(`/v2/models/${manifest.name}/versions/${version}/ready`)).status).toBe(200);
  });

  it("a failed version answers 503", async () => {
    const { manifest, version } = await registerFixture("boosting");
    await setStatus(manifest.name, version, "failed");
    const res = await postJson(`/models/${manifest.name}/versions/${version}/predict`, VALID_ROW);
    expect(res.status).toBe(503);
    expect(((await res.json()) as Envelope).error).toMatchObject({ code: "MODEL_UNAVAILABLE", details: { status: "failed" } });
  });

  it("an archived version stops serving: 404 saying so, on every protocol, and its session is released", async () => {
    const { manifest, version } = await registerFixture("logistic");
    expect((await request(`/models/${manifest.name}/predict`)).status).toBe(200);
    const before = modelCacheStats();
    await setStatus(manifest.name, version, "archived");

    for (const res of [
      await request(`/models/${manifest.name}/predict`),
      await request(`/models/${manifest.name}/versions/${version}/predict`),
      await request(`/models/${manifest.name}/invocations`, {}, { instances: [VALID_ROW] }),
    ]) {
      expect(res.status).toBe(404);
      const body = (await res.json()) as Envelope;
      expect(body.error.code).toBe("NOT_FOUND");
      expect(body.error.message).toBe(`model ${manifest.name} version ${version} is archived and no longer serves`);
    }
    const ready = await get(`/v2/models/${manifest.name}/ready`);
    expect(ready.status).toBe(404);
    expect(((await ready.json()) as { error: string }).error).toMatch(/archived/);
    expect(modelCacheStats().releasedSessions).toBe(before.releasedSessions + 1);
  });
});

describe("a stored manifest that no longer parses", () => {
  /** Rewrites a version's stored manifest column with an SQL expression over `manifest`. */
  const rewriteManifest = (name: string, version: number, expression: string) =>
    env.DB.prepare(`UPDATE model_versions SET manifest = ${expression} WHERE model_name = ?1 AND version = ?2`).bind(name, version).run();

  it("is 503 MODEL_UNAVAILABLE naming the version and the first problems, not a 422", async () => {
    const { manifest, version } = await registerFixture("forest");
    await rewriteManifest(manifest.name, version, "json_remove(manifest, '$.features', '$.output.threshold')");
    const res = await postJson(`/models/${manifest.name}/predict`, VALID_ROW);
    expect(res.status).toBe(503);
    const body = (await res.json()) as Envelope;
    expect(body.error.code).toBe("MODEL_UNAVAILABLE");
    expect(body.error.message).toContain(`model ${manifest.name} version ${version} cannot serve: its stored manifest does not parse`);
    expect(body.error.message).toMatch(/features: .*output\.threshold: /);
    expect(body.error.details).toMatchObject({ model: manifest.name, version });
  });

  it("is 503 for that version alone when the column is not JSON at all, and the registry still reads", async () => {
    const { manifest, version } = await registerFixture("forest");
    const other = await registerFixture("logistic");
    await rewriteManifest(manifest.name, version, `'{"features": ['`);
    const res = await postJson(`/models/${manifest.name}/predict`, VALID_ROW);
    expect(res.status).toBe(503);
    const body = (await res.json()) as Envelope;
    expect(body.error.code).toBe("MODEL_UNAVAILABLE");
    expect(body.error.message).toContain(`model ${manifest.name} version ${version} cannot serve: its stored manifest is not JSON`);
    expect((await postJson(`/models/${other.manifest.name}/predict`, VALID_ROW)).status).toBe(200);
    const detail = await get(`/models/${manifest.name}/versions/${version}`);
    expect(detail.status).toBe(200);
    expect(await detail.json()).toMatchObject({ version, manifest: null, metrics: null, manifest_error: expect.stringContaining("JSON") });
    expect((await get(`/models/${manifest.name}`)).status).toBe(200);
  });
});

describe("bounded session cache", () => {
  beforeEach(() => clearModelCaches());

  it("keeps at most MAX_CACHED_SESSIONS sessions, releasing the least recently used", async () => {
    const names: string[] = [];
    for (const kind of ["forest", "logistic", "boosting"] as const) names.push((await registerFixture(kind)).manifest.name);
    const base = modelCacheStats().releasedSessions;
    const two = { MAX_CACHED_SESSIONS: "2" };

    for (const name of names) expect((await request(`/models/${name}/predict`, two)).status).toBe(200);
    expect(modelCacheStats()).toMatchObject({ sessions: 2, maxSessions: 2, sessionsInUse: 0, releasedSessions: base + 1 });

    // The released one loads again when asked for; the least recently used of the others goes.
    expect((await request(`/models/${names[0]}/predict`, two)).status).toBe(200);
    expect(modelCacheStats()).toMatchObject({ sessions: 2, releasedSessions: base + 2 });

    // Looping readiness over every version stays within the bound. Cached now: [2], [0]. The first
    // /ready (names[0]) hits; each of the other 8 loads a session and releases the oldest.
    for (let round = 0; round < 3; round++) {
      for (const name of names) {
        const res = await requestApp(`/v2/models/${name}/ready`, {}, two);
        expect(res.status).toBe(200);
      }
    }
    expect(modelCacheStats()).toMatchObject({ sessions: 2, releasedSessions: base + 2 + 8 });
    expect(modelCacheStats().compiled).toBeLessThanOrEqual(2 * 8);
  });

  it("never releases a session under a running inference: an evicted session is released when the run settles", async () => {
    const a = await registerFixture("forest");
    const b = await registerFixture("logistic");
    const db = openDb(env.DB);
    const rowA = await getVersionRow(db, a.manifest.name, a.version);
    const rowB = await getVersionRow(db, b.manifest.name, b.version);
    const one = { backoffMs: 60_000, maxCachedSessions: 1 };
    const golden = a.manifest.golden[0]!;
    const base = modelCacheStats().releasedSessions;

    const output = await runWithSession(env.MODELS, rowA, one, async (session) => {
      await getSession(env.MODELS, rowB, one); // evicts A while this run holds it
      expect(modelCacheStats()).toMatchObject({ sessions: 1, releasedSessions: base });
      const { feeds } = buildFeeds(a.manifest.features, [golden.input]);
      return session.run(feeds, 1, a.manifest.onnx.output);
    });
    // Same float32 graph and runtime as the trainer's golden replay.
    expect(Math.abs(output[1]! - golden.probability)).toBeLessThan(1e-6);
    expect(modelCacheStats()).toMatchObject({ sessions: 1, releasedSessions: base + 1 });
  });
});
