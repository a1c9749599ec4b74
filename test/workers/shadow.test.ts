/**
 * Shadow scoring on real D1, R2 and workerd's ORT, through the real observation queue (the consumer
 * scores the shadow off the request path; observationsSettled() waits for it): paired outputs carry both versions' exact
 * probabilities (checked against each version scored directly) and decisions; the client's answer
 * is the same with the shadow on or off; a shadow whose artifact is broken never touches the
 * response; the pair sample rate and retention bound storage; the shadow's scores are sampled under
 * arm "shadow"; and the admin read summarises agreement.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { shadowReportSchema } from "../../worker/registry/registry-views";
import { openDb } from "../../worker/db/open-db";
import { pruneShadowPairs, type ShadowPair, writeShadowPairs } from "../../worker/traffic/shadow-store";
import worker from "../../worker/index";
import type { ShadowJob } from "../../worker/traffic/shadow";
import { corruptArtifact, observationsSettled, registerFixture, requestApp, ROW_FEATURES, twoVersions, VALID_ROW } from "./helpers";
import { oipInputs } from "../helpers/oip-inputs";

const AUTH = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, vars: Record<string, string> = {}) {
  const init = { method, headers: { "content-type": "application/json", ...headers }, body: body === undefined ? undefined : JSON.stringify(body) };
  return requestApp(path, init, vars);
}


async function setShadow(name: string, shadow: unknown) {
  const res = await call("PUT", `/admin/models/${name}/traffic`, { shadow, reason: "test" }, AUTH);
  expect(res.status, await res.clone().text()).toBe(200);
}

interface StoredPair {
  request_id: string;
  row_index: number;
  primary_version: number;
  shadow_version: number;
  primary_probability: number;
  shadow_probability: number;
  primary_prediction: number;
  shadow_prediction: number;
  agree: number;
}

async function pairsOf(name: string): Promise<StoredPair[]> {
  await observationsSettled();
  return (await env.DB.prepare("SELECT * FROM shadow_pairs WHERE model_name = ? ORDER BY request_id, row_index").bind(name).all<StoredPair>()).results;
}

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ ...VALID_ROW, tenure: 2 + i * 9, monthly_charges: 30 + i * 11 }));

/** Raw positive-class probabilities of one version, from the OIP tensor output (float32, unrounded). */
async function directProbabilities(name: string, version: number, batch: Record<string, unknown>[]) {
  const inputs = oipInputs(ROW_FEATURES, batch);
  const res = await call("POST", `/v2/models/${name}/versions/${version}/infer`, { inputs });
  const body = (await res.json()) as { outputs: { name: string; data: (number | boolean)[] }[] };
  const tensor = body.outputs.find((o) => o.name === "probabilities")!.data as number[];
  const decisions = body.outputs.find((o) => o.name === "churn_prediction")!.data as boolean[];
  return { p: batch.map((_, i) => tensor[i * 2 + 1]!), decisions };
}

afterEach(() => vi.restoreAllMocks());

describe("shadow scoring", () => {
  it("stores paired outputs with each version's exact probability and decision, and the client's answer is unchanged", async () => {
    const name = await twoVersions();
    const batch = rows(6);
    const off = await call("POST", `/models/${name}/predict`, { instances: batch });
    await setShadow(name, { version: 2, sample_rate: 1 });
    const on = await call("POST", `/models/${name}/predict`, { instances: batch });
    expect(on.status).toBe(200);
    // The request id differs, and with it every row's prediction token (which signs it).
    const strip = (body: Record<string, unknown>) => ({
      ...body,
      request_id: undefined,
      predictions: (body.predictions as Record<string, unknown>[]).map((p) => ({ ...p, prediction_token: undefined })),
    });
    const onBody = (await on.json()) as Record<string, unknown>;
    expect(strip(onBody)).toEqual(strip((await off.json()) as Record<string, unknown>));
    for (const h of ["x-model-version", "x-model-arm", "x-model-name"]) expect(on.headers.get(h)).toBe(off.headers.get(h));

    const stored = await pairsOf(name);
    expect(stored.map((p) => p.row_index)).toEqual([0, 1, 2, 3, 4, 5]);
    const v1 = await directProbabilities(name, 1, batch);
    const v2 = await directProbabilities(name, 2, batch);
    stored.forEach((pair, i) => {
      expect(pair).toMatchObject({ request_id: onBody.request_id, primary_version: 1, shadow_version: 2 });
      // float32 outputs stored as REAL: equal to the tensor values, not just close.
      expect(pair.primary_probability).toBe(v1.p[i]);
      expect(pair.shadow_probability).toBe(v2.p[i]);
      expect(Boolean(pair.primary_prediction)).toBe(v1.decisions[i]);
      expect(Boolean(pair.shadow_prediction)).toBe(v2.decisions[i]);
      expect(Boolean(pair.agree)).toBe(v1.decisions[i] === v2.decisions[i]);
    });
    // The two fixtures disagree somewhere on these rows, so agreement is really computed.
    expect(new Set(stored.map((p) => p.primary_probability === p.shadow_probability))).toEqual(new Set([false]));
  });

  it("a shadow whose artifact is broken leaves every response 200 and logs the failure as JSON", async () => {
    const name = await twoVersions();
    await setShadow(name, { version: 2, sample_rate: 1 });
    const broken = await corruptArtifact(name, 2);
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void logged.push(String(line)));
    try {
      for (let i = 0; i < 5; i++) {
        const res = await call("POST", `/models/${name}/predict`, VALID_ROW);
        expect([res.status, res.headers.get("x-model-version")]).toEqual([200, "1"]);
      }
      await observationsSettled();
    } finally {
      await broken.restore();
    }
    expect(await pairsOf(name)).toEqual([]);
    const shadowLogs = logged.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.where === "shadow");
    expect(shadowLogs).toHaveLength(5);
    expect(shadowLogs[0]).toMatchObject({ level: "error", model: name, primary_version: 1, shadow_version: 2 });
  });

  it("sample_rate bounds the stored pairs: 0 stores none, 0.25 over 400 requests is binomial (4.5 sigma)", async () => {
    const name = await twoVersions();
    await setShadow(name, { version: 2, sample_rate: 0 });
    for (let i = 0; i < 20; i++) await call("POST", `/models/${name}/predict`, VALID_ROW);
    expect(await pairsOf(name)).toEqual([]);
    await setShadow(name, { version: 2, sample_rate: 0.25 });
    for (let start = 0; start < 400; start += 25) {
      await Promise.all(Array.from({ length: 25 }, () => call("POST", `/models/${name}/predict`, VALID_ROW)));
    }
    const stored = (await pairsOf(name)).length;
    const sd = Math.sqrt(400 * 0.25 * 0.75);
    expect(Math.abs(stored - 100)).toBeLessThanOrEqual(4.5 * sd);
  });

  it("a batch stores at most SAMPLE_MAX_ROWS_PER_REQUEST pairs", async () => {
    const name = await twoVersions();
    await setShadow(name, { version: 2, sample_rate: 1 });
    const batch = rows(12);
    await call("POST", `/models/${name}/predict`, { instances: batch }, {}, { SAMPLE_MAX_ROWS_PER_REQUEST: "4" });
    const stored = await pairsOf(name);
    expect(stored).toHaveLength(4);
    expect(new Set(stored.map((p) => p.row_index)).size).toBe(4);
    // The shadow scores only the stored rows; each pair still holds its own row's outputs.
    const v1 = await directProbabilities(name, 1, batch);
    const v2 = await directProbabilities(name, 2, batch);
    for (const pair of stored) {
      expect(pair.primary_probability).toBe(v1.p[pair.row_index]);
      expect(pair.shadow_probability).toBe(v2.p[pair.row_index]);
    }
  });

  it("a sampled batch records the shadow's scores of exactly the sampled rows, under their own row indices", async () => {
    const name = await twoVersions();
    await setShadow(name, { version: 2, sample_rate: 0 });
    const batch = rows(9);
    await call("POST", `/models/${name}/predict`, { instances: batch }, {}, { SAMPLE_RATE: "1", SAMPLE_MAX_ROWS_PER_REQUEST: "3" });
    await observationsSettled();
    const { results } = await env.DB.prepare("SELECT arm, row_index, probability, features FROM request_samples WHERE model_name = ? ORDER BY arm, row_index")
      .bind(name)
      .all<{ arm: string; row_index: number; probability: number; features: string }>();
    const production = results.filter((r) => r.arm === "production");
    const shadow = results.filter((r) => r.arm === "shadow");
    expect(production).toHaveLength(3);
    expect(shadow.map((r) => r.row_index)).toEqual(production.map((r) => r.row_index));
    const v2 = await directProbabilities(name, 2, batch);
    for (const r of shadow) {
      expect(r.probability).toBe(v2.p[r.row_index]);
      expect(JSON.parse(r.features)).toMatchObject({ tenure: batch[r.row_index]!.tenure });
    }
  });

  it("when the request is sampled, the shadow's scores of the same rows go to request_samples as arm shadow", async () => {
    const name = await twoVersions();
    await setShadow(name, { version: 2, sample_rate: 0 });
    await call("POST", `/models/${name}/predict`, { instances: rows(3) }, {}, { SAMPLE_RATE: "1" });
    await observationsSettled();
    const { results } = await env.DB.prepare("SELECT arm, version, row_index, probability FROM request_samples WHERE model_name = ? ORDER BY arm, row_index")
      .bind(name)
      .all<{ arm: string; version: number; row_index: number; probability: number }>();
    expect(results.map((r) => [r.arm, r.version, r.row_index])).toEqual([
      ["production", 1, 0],
      ["production", 1, 1],
      ["production", 1, 2],
      ["shadow", 2, 0],
      ["shadow", 2, 1],
      ["shadow", 2, 2],
    ]);
    const v2 = await directProbabilities(name, 2, rows(3));
    expect(results.slice(3).map((r) => r.probability)).toEqual(v2.p);
  });

  it("a request that names ?alias=shadow is recorded as alias:shadow, never mixed with the shadow's own rows", async () => {
    const name = await twoVersions();
    await setShadow(name, { version: 2, sample_rate: 0 });
    const res = await call("POST", `/models/${name}/predict?alias=shadow`, VALID_ROW, {}, { SAMPLE_RATE: "1" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-model-version")).toBe("2");
    await observationsSettled();
    const { results } = await env.DB.prepare("SELECT arm, version FROM request_samples WHERE model_name = ?").bind(name).all<{ arm: string; version: number }>();
    expect(results).toEqual([{ arm: "alias:shadow", version: 2 }]);
  });

  it("explicit requests and requests the canary answered with the shadow's own version are not shadowed", async () => {
    const name = await twoVersions();
    await setShadow(name, { version: 2, sample_rate: 1 });
    await call("POST", `/models/${name}/versions/1/predict`, VALID_ROW);
    await call("POST", `/models/${name}/predict?alias=production`, VALID_ROW);
    const canary = await call("PUT", `/admin/models/${name}/traffic`, { canary: { version: 2, percent: 100 }, reason: "test" }, AUTH);
    expect(canary.status).toBe(200);
    expect((await call("POST", `/models/${name}/predict`, VALID_ROW)).headers.get("x-model-arm")).toBe("canary");
    expect(await pairsOf(name)).toEqual([]);
  });
});

describe("the shadow job in the observation queue", () => {
  it("a redelivered job stores its pair and its shadow sample once", async () => {
    const name = await twoVersions();
    const job: ShadowJob = {
      kind: "shadow",
      requestId: `${name}-job`,
      clientRequestId: "client-7",
      name,
      shadowVersion: 2,
      primaryVersion: 1,
      rows: [VALID_ROW],
      rowIndices: [0],
      pairs: [{ row: 0, probability: 0.3, prediction: false }],
      sampledRows: [0],
      answeredAt: Date.now(),
    };
    for (const attempts of [1, 2]) {
      const batch = createMessageBatch("edge-mlops-observations", [{ id: `job-${attempts}`, timestamp: new Date(), attempts, body: job }]);
      const ctx = createExecutionContext();
      await worker.queue!(batch, env, ctx);
      await waitOnExecutionContext(ctx);
      expect(await getQueueResult(batch, ctx)).toMatchObject({ outcome: "ok", ackAll: true, retryBatch: { retry: false } });
    }
    const v2 = await directProbabilities(name, 2, [VALID_ROW]);
    const pairs = await pairsOf(name);
    expect(pairs.map((p) => [p.request_id, p.row_index, p.primary_probability, p.shadow_probability])).toEqual([[`${name}-job`, 0, 0.3, v2.p[0]]]);
    const samples = await env.DB.prepare("SELECT arm, version, request_id, client_request_id, probability FROM request_samples WHERE model_name = ?").bind(name).all();
    expect(samples.results).toEqual([{ arm: "shadow", version: 2, request_id: `${name}-job`, client_request_id: "client-7", probability: v2.p[0] }]);
  });
});

describe("shadow jobs of one delivery", () => {
  it("are scored together, each pair with its own row's scores; a job whose rows the shadow refuses is lost alone", async () => {
    const name = await twoVersions();
    const batch = rows(3);
    const job = (id: string, jobRows: unknown[], indices: number[]): ShadowJob => ({
      kind: "shadow",
      requestId: `${name}-${id}`,
      clientRequestId: null,
      name,
      shadowVersion: 2,
      primaryVersion: 1,
      rows: jobRows,
      rowIndices: indices,
      pairs: indices.map((row) => ({ row, probability: 0.5, prediction: true })),
      sampledRows: [],
      answeredAt: Date.now(),
    });
    const jobs = [job("a", [batch[0], batch[1]], [0, 1]), job("bad", [{ ...VALID_ROW, tenure: "many" }], [0]), job("b", [batch[2]], [4])];
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void logged.push(String(line)));
    const delivery = createMessageBatch("edge-mlops-observations", jobs.map((body, i) => ({ id: `j-${i}`, timestamp: new Date(), attempts: 1, body })));
    const ctx = createExecutionContext();
    await worker.queue!(delivery, env, ctx);
    await waitOnExecutionContext(ctx);
    const v2 = await directProbabilities(name, 2, batch);
    const pairs = await pairsOf(name);
    expect(pairs.map((p) => [p.request_id, p.row_index, p.shadow_probability])).toEqual([
      [`${name}-a`, 0, v2.p[0]],
      [`${name}-a`, 1, v2.p[1]],
      [`${name}-b`, 4, v2.p[2]],
    ]);
    const failures = logged.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.where === "shadow");
    expect(failures.map((f) => f.request_id)).toEqual([`${name}-bad`]);
    expect(String(failures[0]!.error)).toContain("tenure");
  });
});

describe("reading and pruning pairs", () => {
  const pair = (name: string, i: number, createdAt: string, agree: boolean, shadowVersion = 2): ShadowPair => ({
    modelName: name,
    requestId: `${name}-r-${i}`,
    rowIndex: 0,
    primaryVersion: 1,
    shadowVersion,
    primaryProbability: 0.2 + i / 100,
    shadowProbability: 0.25 + i / 100,
    primaryPrediction: false,
    shadowPrediction: !agree,
    agree,
    createdAt,
  });

  it("GET /admin/models/:name/shadow: latest pairs first, with count, agreement rate and mean |Δp|; admin only", async () => {
    const name = await twoVersions();
    const db = openDb(env.DB);
    await writeShadowPairs(db, [
      pair(name, 0, "2026-01-01T00:00:00.000Z", true),
      pair(name, 1, "2026-01-01T00:00:01.000Z", false),
      pair(name, 2, "2026-01-01T00:00:02.000Z", true),
      pair(name, 3, "2026-01-01T00:00:03.000Z", true),
      pair(name, 4, "2026-01-01T00:00:04.000Z", true, 3),
    ]);
    const res = await call("GET", `/admin/models/${name}/shadow?limit=2&version=2`, undefined, AUTH);
    expect(res.status).toBe(200);
    const body = shadowReportSchema.strict().parse(await res.json());
    expect(body.summary.count).toBe(4);
    expect(body.summary.agreement_rate).toBe(0.75);
    expect(body.summary.mean_abs_delta).toBeCloseTo(0.05, 12);
    expect(body.pairs.map((p) => p.request_id)).toEqual([`${name}-r-3`, `${name}-r-2`]);
    expect(body.pairs[0]).toMatchObject({ primary_version: 1, shadow_version: 2, primary_prediction: false, shadow_prediction: false, agree: true });
    const all = (await (await call("GET", `/admin/models/${name}/shadow`, undefined, AUTH)).json()) as { summary: { count: number } };
    expect(all.summary.count).toBe(5);
    expect((await call("GET", `/admin/models/${name}/shadow`)).status).toBe(401);
    expect((await call("GET", `/admin/models/${name}/shadow?limit=0`, undefined, AUTH)).status).toBe(422);
    expect((await call("GET", `/admin/models/unknown-${Date.now()}/shadow`, undefined, AUTH)).status).toBe(404);
  });

  it("pruneShadowPairs removes pairs older than the retention window and keeps the rest", async () => {
    const name = await twoVersions();
    const db = openDb(env.DB);
    const now = Date.parse("2026-03-31T12:00:00.000Z");
    await writeShadowPairs(db, [
      pair(name, 0, "2026-03-01T11:59:59.999Z", true),
      pair(name, 1, "2026-03-01T12:00:00.000Z", true),
      pair(name, 2, "2026-03-31T11:00:00.000Z", true),
    ]);
    const before = (await env.DB.prepare("SELECT count(*) AS n FROM shadow_pairs").first<{ n: number }>())!.n;
    expect(await pruneShadowPairs(db, { retentionDays: 30, now })).toBeGreaterThanOrEqual(1);
    expect((await pairsOf(name)).map((p) => p.request_id)).toEqual([`${name}-r-1`, `${name}-r-2`]);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM shadow_pairs").first<{ n: number }>())!.n).toBeLessThan(before);
  });
});
