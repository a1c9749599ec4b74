/**
 * Canary traffic on real D1, R2 and workerd's ORT: the split's share over 1,000 requests, sticky
 * entities (header and entity field), monotone growth, the arm headers, explicit requests never
 * split, MLflow and OIP under the same policy, samples recorded per arm, the admin API's refusals
 * leaving every table as it was, archive refused under a canary, and the policy read through the
 * resolve cache. Shadow scoring is in shadow.test.ts.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { trafficPolicySchema } from "../../worker/registry/registry-views";
import { openDb } from "../../worker/db/open-db";
import { archiveVersion } from "../../worker/registry/version-lifecycle";
import { clearResolveCache, resolvePolicyCached } from "../../worker/registry/resolve-cache";
import { changePolicy } from "../../worker/registry/traffic-policy";
import { bucketOf, chooseArm, entityOf, hash32 } from "../../worker/traffic/split";
import { type Envelope, failingFields, observationsSettled, registerFixture, requestApp, ROW_FEATURES, twoVersions, VALID_ROW } from "./helpers";
import { oipInputs } from "../helpers/oip-inputs";

const AUTH = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "x-actor": "release-bot" };

/** One request through the whole app, waiting for its waitUntil work (samples, shadow). */
function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, vars: Record<string, string> = {}) {
  const init = { method, headers: { "content-type": "application/json", ...headers }, body: body === undefined ? undefined : JSON.stringify(body) };
  return requestApp(path, init, vars);
}

const admin = (method: string, path: string, body?: unknown) => call(method, path, body, AUTH);
const predict = (name: string, body: unknown = VALID_ROW, headers: Record<string, string> = {}, vars: Record<string, string> = {}) =>
  call("POST", `/models/${name}/predict`, body, headers, vars);


async function setTraffic(name: string, body: Record<string, unknown>) {
  const res = await admin("PUT", `/admin/models/${name}/traffic`, { reason: "test", ...body });
  expect(res.status, await res.clone().text()).toBe(200);
  const policy = (await res.json()) as Record<string, unknown>;
  // The documented shape, exactly: no undocumented field, none missing.
  trafficPolicySchema.strict().parse(policy);
  return policy;
}

/** Sends requests in parallel chunks, returning each answer's version and arm. */
async function versionsServed(count: number, send: (i: number) => Promise<Response>) {
  const served: { version: string | null; arm: string | null }[] = [];
  for (let start = 0; start < count; start += 25) {
    const chunk = await Promise.all(Array.from({ length: Math.min(25, count - start) }, (_, k) => send(start + k)));
    for (const res of chunk) {
      expect(res.status).toBe(200);
      served.push({ version: res.headers.get("x-model-version"), arm: res.headers.get("x-model-arm") });
    }
  }
  return served;
}

/** |observed - n p| within 4.5 binomial standard deviations: a false failure about once in 150,000 runs. */
function expectBinomial(observed: number, n: number, p: number) {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(observed - n * p), `${observed} of ${n}, expected ${n * p} ± ${(4.5 * sd).toFixed(1)}`).toBeLessThanOrEqual(4.5 * sd);
}

describe("the split (pure functions)", () => {
  it("hash32 is FNV-1a then fmix32 over UTF-8 (values from an independent Python implementation)", () => {
    expect(hash32("")).toBe(2872998923);
    expect(hash32("a")).toBe(444641715);
    expect(hash32("churn\u0000customer-1")).toBe(2248609450);
    expect(hash32("ünï")).toBe(922030949);
    expect(hash32("€𝄞x")).toBe(2091553361);
    expect(hash32("日本")).toBe(4026831135);
  });

  it("hash32's inline UTF-8 matches TextEncoder's bytes, lone surrogates (U+FFFD) included", () => {
    const viaEncoder = (text: string) => {
      let h = 0x811c9dc5;
      for (const b of new TextEncoder().encode(text)) h = Math.imul(h ^ b, 0x01000193);
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
      return h >>> 0;
    };
    for (const text of ["", "abc", "é", "\u07ff", "\u0800", "\uffff", "😀", "a\ud800b", "\udc00", "x\ud83d", "Ω≈ç√∫˜µ≤≥÷"]) {
      const decoded = JSON.parse(`"${text}"`) as string;
      expect(hash32(decoded), JSON.stringify(text)).toBe(viaEncoder(decoded));
    }
  });

  it("sequential entity ids spread evenly: 20% of 20,000 buckets within 4.5 sigma, and each decile too", () => {
    const buckets = Array.from({ length: 20_000 }, (_, i) => bucketOf("churn", `customer-${i}`));
    expectBinomial(buckets.filter((b) => b < 20).length, 20_000, 0.2);
    for (let d = 0; d < 10; d++) expectBinomial(buckets.filter((b) => b >= d * 10 && b < d * 10 + 10).length, 20_000, 0.1);
  });

  it("raising the percent only moves entities from primary to canary", () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `e${i}`);
    let previous = new Set<string>();
    for (const percent of [0, 5, 20, 50, 80, 100]) {
      const canary = new Set(ids.filter((id) => chooseArm("m", percent, id) === "canary"));
      for (const id of previous) expect(canary.has(id)).toBe(true);
      expect(canary.size).toBeGreaterThanOrEqual(previous.size);
      previous = canary;
    }
    expect(previous.size).toBe(2000);
  });

  it("entityOf: the header wins, then a value every row shares (42 and \"42\" alike), else none", () => {
    const rows = [{ customer_id: 42 }, { customer_id: "42" }];
    expect(entityOf(rows, "h-1", "customer_id")).toBe("h-1");
    expect(entityOf(rows, undefined, "customer_id")).toBe("42");
    expect(entityOf([{ customer_id: "a" }, { customer_id: "b" }], undefined, "customer_id")).toBeNull();
    expect(entityOf([{ customer_id: "a" }, {}], undefined, "customer_id")).toBeNull();
    expect(entityOf([{ customer_id: { nested: 1 } }], undefined, "customer_id")).toBeNull();
    expect(entityOf(rows, undefined, null)).toBeNull();
    expect(entityOf(rows, "", "customer_id")).toBe("42");
  });
});

describe("canary routing through /predict", () => {
  it("20% canary over 1,000 requests without an entity: the share is binomial, and every answer says its arm and version", async () => {
    const name = await twoVersions();
    const policy = await setTraffic(name, { canary: { version: 2, percent: 20 } });
    expect(policy).toMatchObject({ name, primary: { alias: "production", version: 1 }, canary: { version: 2, percent: 20 }, shadow: null, updated_by: "release-bot" });
    const served = await versionsServed(1000, () => predict(name));
    for (const s of served) expect([s.version, s.arm]).toEqual(s.arm === "canary" ? ["2", "canary"] : ["1", "primary"]);
    expectBinomial(served.filter((s) => s.arm === "canary").length, 1000, 0.2);
  });

  it("sticky by x-entity-id: 300 entities asked 3 times each land on one arm, the one their bucket says", async () => {
    const name = await twoVersions();
    await setTraffic(name, { canary: { version: 2, percent: 30 } });
    const ids = Array.from({ length: 300 }, (_, i) => `cust-${i}`);
    const served = await versionsServed(900, (i) => predict(name, VALID_ROW, { "x-entity-id": ids[i % 300]! }));
    for (let i = 0; i < 900; i++) {
      const expected = bucketOf(name, ids[i % 300]!) < 30 ? "canary" : "primary";
      expect(served[i]!.arm).toBe(expected);
    }
    expectBinomial(served.slice(0, 300).filter((s) => s.arm === "canary").length, 300, 0.3);
  });

  it("sticky by the policy's entity_field, in single rows and in batches sharing the value; the header wins over it", async () => {
    const name = await twoVersions();
    await setTraffic(name, { canary: { version: 2, percent: 50 }, entity_field: "customer_id" });
    const ids = Array.from({ length: 60 }, (_, i) => `c-${i}`);
    const arm = (id: string) => (bucketOf(name, id) < 50 ? "canary" : "primary");
    for (const id of ids) {
      const single = await predict(name, { ...VALID_ROW, customer_id: id });
      expect(single.headers.get("x-model-arm")).toBe(arm(id));
      const batch = await predict(name, { instances: [{ ...VALID_ROW, customer_id: id }, { ...VALID_ROW, tenure: 3, customer_id: id }] });
      expect(batch.headers.get("x-model-arm")).toBe(arm(id));
    }
    const canaryId = ids.find((id) => arm(id) === "canary")!;
    const primaryId = ids.find((id) => arm(id) === "primary")!;
    const res = await predict(name, { ...VALID_ROW, customer_id: canaryId }, { "x-entity-id": primaryId });
    expect(res.headers.get("x-model-arm")).toBe("primary");
  });

  it("raising 10% to 40% over HTTP keeps every canary entity on the canary", async () => {
    const name = await twoVersions();
    const ids = Array.from({ length: 200 }, (_, i) => `grow-${i}`);
    const armsAt = async (percent: number) => {
      await setTraffic(name, { canary: { version: 2, percent } });
      return (await versionsServed(ids.length, (i) => predict(name, VALID_ROW, { "x-entity-id": ids[i]! }))).map((s) => s.arm);
    };
    const at10 = await armsAt(10);
    const at40 = await armsAt(40);
    ids.forEach((_, i) => {
      if (at10[i] === "canary") expect(at40[i]).toBe("canary");
    });
    expect(at40.filter((a) => a === "canary").length).toBeGreaterThan(at10.filter((a) => a === "canary").length);
  });

  it("explicit requests are never split: a version, ?alias=production and ?alias=canary answer what they name, without x-model-arm", async () => {
    const name = await twoVersions();
    await setTraffic(name, { canary: { version: 2, percent: 100 } });
    expect((await predict(name)).headers.get("x-model-version")).toBe("2");
    for (let i = 0; i < 20; i++) {
      const v1 = await call("POST", `/models/${name}/versions/1/predict`, VALID_ROW);
      expect([v1.headers.get("x-model-version"), v1.headers.get("x-model-arm")]).toEqual(["1", null]);
      const production = await call("POST", `/models/${name}/predict?alias=production`, VALID_ROW);
      expect([production.headers.get("x-model-version"), production.headers.get("x-model-arm")]).toEqual(["1", null]);
    }
    const canary = await call("POST", `/models/${name}/predict?alias=canary`, VALID_ROW);
    expect([canary.headers.get("x-model-version"), canary.headers.get("x-model-arm")]).toEqual(["2", null]);
  });

  it("MLflow and OIP follow the policy; OIP with a version in the path is explicit", async () => {
    const name = await twoVersions();
    await setTraffic(name, { canary: { version: 2, percent: 100 } });
    const oip = { inputs: oipInputs(ROW_FEATURES, [VALID_ROW]) };
    const mlflow = await call("POST", `/models/${name}/invocations`, { dataframe_records: [VALID_ROW] });
    expect([mlflow.status, mlflow.headers.get("x-model-version"), mlflow.headers.get("x-model-arm")]).toEqual([200, "2", "canary"]);
    const defaultMlflow = await call("POST", "/invocations", { dataframe_records: [VALID_ROW] }, {}, { DEFAULT_MODEL: name });
    expect([defaultMlflow.status, defaultMlflow.headers.get("x-model-arm")]).toEqual([200, "canary"]);
    const defaultPredict = await call("POST", "/predict", VALID_ROW, {}, { DEFAULT_MODEL: name });
    expect([defaultPredict.headers.get("x-model-version"), defaultPredict.headers.get("x-model-arm")]).toEqual(["2", "canary"]);
    const infer = await call("POST", `/v2/models/${name}/infer`, oip);
    expect(infer.status).toBe(200);
    expect(((await infer.json()) as { model_version: string }).model_version).toBe("2");
    expect(infer.headers.get("x-model-arm")).toBe("canary");
    const pinned = await call("POST", `/v2/models/${name}/versions/1/infer`, oip);
    expect([pinned.headers.get("x-model-version"), pinned.headers.get("x-model-arm")]).toEqual(["1", null]);
    await setTraffic(name, { canary: { version: 2, percent: 0 } });
    const none = await call("POST", `/v2/models/${name}/infer`, oip);
    expect([none.headers.get("x-model-version"), none.headers.get("x-model-arm")]).toEqual(["1", "primary"]);
  });

  it("samples record the arm that answered: production (v1) and canary (v2)", async () => {
    const name = await twoVersions();
    await setTraffic(name, { canary: { version: 2, percent: 50 } });
    await versionsServed(40, () => predict(name, VALID_ROW, {}, { SAMPLE_RATE: "1" }));
    await observationsSettled();
    const { results } = await env.DB.prepare("SELECT arm, version, count(*) AS n FROM request_samples WHERE model_name = ? GROUP BY arm, version ORDER BY arm")
      .bind(name)
      .all<{ arm: string; version: number; n: number }>();
    expect(results.map((r) => [r.arm, r.version])).toEqual([
      ["canary", 2],
      ["production", 1],
    ]);
    expect(results.reduce((a, r) => a + r.n, 0)).toBe(40);
  });

  it("an entity id longer than 256 characters is refused with 422 naming the header", async () => {
    const name = await twoVersions();
    const res = await predict(name, VALID_ROW, { "x-entity-id": "x".repeat(257) });
    expect(res.status).toBe(422);
    expect(failingFields((await res.json()) as Envelope)).toEqual(["x-entity-id"]);
  });
});

const TABLES = ["aliases", "alias_history", "traffic_policies", "model_versions"] as const;

async function tables() {
  const rows: Record<string, unknown[]> = {};
  for (const t of TABLES) rows[t] = (await env.DB.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).all()).results;
  return rows;
}

describe("the traffic admin API", () => {
  it("records each arm change in the alias history with its evidence; DELETE removes both arms; GET reads it publicly", async () => {
    const name = await twoVersions();
    await setTraffic(name, { canary: { version: 2, percent: 5 } });
    await setTraffic(name, { canary: { version: 2, percent: 25 }, shadow: { version: 2, sample_rate: 0.5 } });
    const after = trafficPolicySchema.strict().parse(await (await call("GET", `/models/${name}/traffic`)).json());
    expect(after).toMatchObject({ canary: { version: 2, percent: 25 }, shadow: { version: 2, sample_rate: 0.5 }, entity_field: null, reason: "test" });
    const cleared = await admin("DELETE", `/admin/models/${name}/traffic`, { reason: "done" });
    expect(cleared.status).toBe(200);
    expect(await cleared.json()).toMatchObject({ canary: null, shadow: null, primary: { version: 1 }, reason: "done" });
    const history = (await (await call("GET", `/models/${name}/aliases`)).json()) as {
      history: { alias: string; from: number | null; to: number | null; by: string; evidence: unknown }[];
    };
    expect(history.history.filter((h) => h.alias !== "production").map((h) => [h.alias, h.from, h.to, h.by, h.evidence])).toEqual([
      ["canary", null, 2, "release-bot", { percent: 5 }],
      ["canary", 2, 2, "release-bot", { percent: 25 }],
      ["shadow", null, 2, "release-bot", { sample_rate: 0.5 }],
      ["canary", 2, null, "release-bot", null],
      ["shadow", 2, null, "release-bot", null],
    ]);
    // Omitted keys stay: setting the entity field alone keeps the arms as they are.
    await setTraffic(name, { canary: { version: 2, percent: 10 } });
    expect(await setTraffic(name, { entity_field: "customer_id" })).toMatchObject({ canary: { version: 2, percent: 10 }, entity_field: "customer_id" });
  });

  it("refusals answer the cause and leave aliases, history, policies and versions exactly as they were", async () => {
    const name = await twoVersions();
    await registerFixture("boosting", { name, aliases: [] });
    await archiveVersion(openDb(env.DB), name, 3, "test", "retired");
    await setTraffic(name, { canary: { version: 2, percent: 10 }, entity_field: "customer_id" });
    const before = await tables();
    const refused = async (body: unknown, status: number, fields?: string[], headers = AUTH) => {
      const res = await call("PUT", `/admin/models/${name}/traffic`, body, headers);
      const text = await res.text();
      expect(res.status, text).toBe(status);
      if (fields) expect(failingFields(JSON.parse(text) as Envelope)).toEqual(fields);
      expect(await tables()).toEqual(before);
      return JSON.parse(text) as Envelope;
    };
    await refused({ canary: { version: 2, percent: 101 }, reason: "x" }, 422, ["canary.percent"]);
    await refused({ canary: { version: 2, percent: -1 }, shadow: { version: 2, sample_rate: 1.5 }, reason: "x" }, 422, ["canary.percent", "shadow.sample_rate"]);
    await refused({ entity_field: "customer id!", reason: "x" }, 422, ["entity_field"]);
    await refused({ reason: "x" }, 422, ["canary"]);
    await refused({ canary: { version: 2, percent: 5 } }, 422, ["reason"]);
    await refused({ canary: { version: 2, percent: 5, extra: 1 }, reason: "x" }, 422, ["canary"]);
    // A valid canary move with a refused shadow: the batch writes neither.
    const missing = await refused({ canary: { version: 1, percent: 50 }, shadow: { version: 9, sample_rate: 1 }, reason: "x" }, 404);
    expect(missing.error.message).toBe(`model ${name} has no version 9`);
    const archived = await refused({ canary: { version: 1, percent: 50 }, shadow: { version: 3, sample_rate: 1 }, reason: "x" }, 409);
    expect(archived.error.message).toMatch(/cannot point shadow at version 3 .*: it is archived/);
    await refused({ canary: { version: 2, percent: 5 }, reason: "x" }, 401, undefined, {} as typeof AUTH);
    await refused({ canary: { version: 2, percent: 5 }, reason: "x" }, 403, undefined, { ...AUTH, authorization: "Bearer wrong-token-0123456789abcdef" });
    const unknown = await call("PUT", `/admin/models/no-such-model-${Date.now()}/traffic`, { canary: { version: 1, percent: 5 }, reason: "x" }, AUTH);
    expect(unknown.status).toBe(404);
    expect((await call("GET", `/models/no-such-model-${Date.now()}/traffic`)).status).toBe(404);
    expect(await tables()).toEqual(before);
  });

  it("a version the canary points at cannot be archived until the canary is cleared", async () => {
    const name = await twoVersions();
    await setTraffic(name, { canary: { version: 2, percent: 10 } });
    const refused = await admin("POST", `/admin/models/${name}/versions/2/archive`, { reason: "retire" });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as Envelope).error.message).toMatch(/what canary points at/);
    await admin("DELETE", `/admin/models/${name}/traffic`, { reason: "stop the canary" });
    expect((await admin("POST", `/admin/models/${name}/versions/2/archive`, { reason: "retire" })).status).toBe(200);
  });
});

describe("the policy through the resolve cache", () => {
  it("resolvePolicyCached keeps a policy until the injected clock passes the TTL", async () => {
    const name = await twoVersions();
    const db = openDb(env.DB);
    let now = 5_000_000;
    const clock = () => now;
    expect((await resolvePolicyCached(db, name, 500, clock)).canary).toBeNull();
    await changePolicy(db, { name, canary: { version: 2, percent: 40 }, by: "test", reason: "test" });
    now += 499;
    expect((await resolvePolicyCached(db, name, 500, clock)).canary).toBeNull();
    now += 1;
    expect((await resolvePolicyCached(db, name, 500, clock)).canary).toEqual({ version: 2, percent: 40 });
  });

  it("with RESOLVE_CACHE_TTL_MS on, requests route by the cached policy; the admin route makes its own isolate see the change at once", async () => {
    const name = await twoVersions();
    const cached = { RESOLVE_CACHE_TTL_MS: "60000" };
    const version = async () => (await predict(name, VALID_ROW, {}, cached)).headers.get("x-model-version");
    expect(await version()).toBe("1");
    // Written behind the cache's back (as another isolate would): not seen within the TTL.
    await changePolicy(openDb(env.DB), { name, canary: { version: 2, percent: 100 }, by: "test", reason: "test" });
    expect(await version()).toBe("1");
    clearResolveCache();
    expect(await version()).toBe("2");
    // Through the admin API in this isolate: seen by the next request.
    await setTraffic(name, { canary: { version: 2, percent: 0 } });
    expect(await version()).toBe("1");
  });
});
