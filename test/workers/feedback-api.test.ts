/**
 * POST /feedback through the app against real D1: labels join to real predictions (workerd's ORT)
 * by their signed token or by a sampled request id, a resent label replaces the stored one, and
 * every refusal (401 bad token, 403, 404 unknown id, 409, 422 naming the fields) writes nothing.
 */
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { MAX_FEEDBACK_ITEMS } from "../../worker/feedback/feedback-schema";
import { issuePredictionTokens } from "../../worker/feedback/prediction-token";
import { recordFeedback } from "../../worker/feedback/record-feedback";
import { type SampleRecord, sampleWindow, writeSamples } from "../../worker/monitoring/sample-store";
import { predictRows } from "../../worker/scoring/predict-rows";
import { openDb } from "../../worker/db/open-db";
import { createServices } from "../../worker/services";
import { CountingLimiter, type Envelope, failingFields, registerFixture, requestApp, VALID_ROW } from "./helpers";

const FEEDBACK_TOKEN = "feedback-token-0123456789abcdef";
let clients = 0;

async function send(body: unknown, options: { token?: string | null; vars?: Record<string, unknown>; client?: string } = {}) {
  const token = options.token === undefined ? env.ADMIN_TOKEN : options.token;
  const headers = {
    "content-type": "application/json",
    "cf-connecting-ip": options.client ?? `203.0.113.${++clients}`,
    ...(token === null ? {} : { authorization: `Bearer ${token}` }),
  };
  return requestApp("/feedback", { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) }, options.vars);
}

interface StoredLabel {
  request_id: string;
  row_index: number;
  model_name: string;
  version: number;
  label: number;
  probability: number;
  predicted_at: string;
  observed_at: string | null;
  received_at: string;
  joined_by: string;
}

async function allLabels(): Promise<StoredLabel[]> {
  return (await env.DB.prepare("SELECT * FROM prediction_labels ORDER BY request_id, row_index").all<StoredLabel>()).results;
}

async function labelOf(requestId: string, rowIndex = 0): Promise<StoredLabel | null> {
  return env.DB.prepare("SELECT * FROM prediction_labels WHERE request_id = ? AND row_index = ?").bind(requestId, rowIndex).first<StoredLabel>();
}

/** A real prediction of `rows` rows by the model's production version, with its tokens. */
async function predict(name: string, rows = 1) {
  const services = createServices(env, undefined);
  const result = await predictRows(services, { name, ref: { alias: "production" } }, Array.from({ length: rows }, (_, i) => ({ ...VALID_ROW, tenure: 1 + i * 7 })), {
    path: (i, f) => `instances[${i}]${f ? `.${f}` : ""}`,
  });
  const requestId = crypto.randomUUID();
  // An hour ago rather than a fixed date, which would expire (FEEDBACK_MAX_AGE_DAYS).
  const issuedAt = Math.floor(Date.now() / 1000) * 1000 - 3_600_000 + 250;
  const tokens = (await issuePredictionTokens(env, { requestId, result, issuedAt }))!;
  return { result, requestId, issuedAt, tokens, p: (i: number) => result.probabilities[i * 2 + 1]! };
}

/** Sampled rows of a request, as the sampler writes them. */
async function sample(
  name: string,
  requestId: string,
  rows: { rowIndex: number; probability: number }[],
  version = 1,
  createdAt = Date.UTC(2026, 10, 30, 4, 10),
  clientRequestId: string | null = null,
) {
  const records: SampleRecord[] = rows.map((r) => ({
    modelName: name,
    version,
    arm: "production",
    requestId,
    clientRequestId,
    rowIndex: r.rowIndex,
    features: JSON.stringify(VALID_ROW),
    probability: r.probability,
    prediction: r.probability >= 0.5,
    riskTier: "LOW",
    latencyMs: 3,
    createdAt: new Date(createdAt).toISOString(),
    window: sampleWindow(createdAt),
    sampleKey: 0.5,
  }));
  await writeSamples(openDb(env.DB), records, { windowCap: 10_000 });
}

async function expectRefused(body: unknown, status: number, code: string) {
  const before = await allLabels();
  const res = await send(body);
  const json = (await res.json()) as Envelope;
  expect(res.status, JSON.stringify(json)).toBe(status);
  expect(json.error.code).toBe(code);
  expect(json.error.message).toContain("nothing was written");
  expect(await allLabels()).toEqual(before);
  return json;
}

describe("auth", () => {
  it("no token is 401, a wrong one 403, and nothing is written", async () => {
    const body = { request_id: "any", label: 1 };
    const before = await allLabels();
    const none = await send(body, { token: null });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="feedback"');
    expect(((await none.json()) as Envelope).error.code).toBe("UNAUTHORIZED");
    expect((await send(body, { token: "wrong-token-wrong-token-wrong" })).status).toBe(403);
    expect((await send(body, { token: FEEDBACK_TOKEN })).status).toBe(403);
    expect(await allLabels()).toEqual(before);
  });

  it("failures count against the admin limiter, per client: once it refuses, 429 with retry-after", async () => {
    // An injected limiter (10 per client, no clock): the real binding's fixed 60 s windows made
    // the 11 requests fail whenever they straddled a window's end.
    const vars = { ADMIN_AUTH_FAILURES: new CountingLimiter(10) };
    const client = "198.18.0.77";
    const guess = { token: "guess-guess-guess-guess", client, vars };
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await send({ request_id: "any", label: 1 }, guess)).status);
    expect(statuses).toEqual([...Array(10).fill(403), 429]);
    const limited = await send({ request_id: "any", label: 1 }, guess);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(((await limited.json()) as Envelope).error.code).toBe("RATE_LIMITED");
    expect(vars.ADMIN_AUTH_FAILURES.counts.get(client)).toBe(12);
    // Another client still gets its 403; the right token is neither counted nor refused.
    expect((await send({ request_id: "any", label: 1 }, { token: guess.token, vars })).status).toBe(403);
    // (404: the unknown request id, past authentication).
    expect((await send({ request_id: "any", label: 1 }, { client, vars })).status).toBe(404);
    expect(vars.ADMIN_AUTH_FAILURES.counts.get(client)).toBe(12);
  });

  it("FEEDBACK_TOKEN, when set, is accepted beside the admin token", async () => {
    const { manifest } = await registerFixture("logistic");
    const a = await predict(manifest.name);
    const b = await predict(manifest.name);
    const vars = { FEEDBACK_TOKEN };
    expect((await send({ prediction_token: a.tokens[0], label: 1 }, { token: FEEDBACK_TOKEN, vars })).status).toBe(200);
    expect((await send({ prediction_token: b.tokens[0], label: 1 }, { vars })).status).toBe(200);
  });

  it("with neither secret configured feedback is closed (500 MISCONFIGURED), not open", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await send({ request_id: "any", label: 1 }, { token: "anything-at-all-0123456789", vars: { ADMIN_TOKEN: "" } });
    expect(res.status).toBe(500);
    expect(((await res.json()) as Envelope).error.code).toBe("MISCONFIGURED");
    expect(logged).toHaveBeenCalled();
    logged.mockRestore();
  });
});

describe("joining labels to predictions", () => {
  it("by prediction token: any row of an unsampled prediction, with the exact float32 probability", async () => {
    const { manifest } = await registerFixture("forest");
    const prediction = await predict(manifest.name, 3);
    const res = await send({ prediction_token: prediction.tokens[2], label: true, observed_at: "2026-12-01T09:30:00+01:00" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: 1, inserted: 1, replaced: 0, joined_by: { token: 1, sample: 0 } });
    const stored = await labelOf(prediction.requestId, 2);
    expect(stored).toMatchObject({
      model_name: manifest.name,
      version: 1,
      label: 1,
      predicted_at: new Date(prediction.issuedAt).toISOString(),
      observed_at: "2026-12-01T08:30:00.000Z",
      joined_by: "token",
    });
    expect(stored!.probability).toBe(prediction.p(2));
    expect(await labelOf(prediction.requestId, 0)).toBeNull();
  });

  it("by sampled request id and row, with the sample's probability and time", async () => {
    const { manifest } = await registerFixture("logistic");
    const requestId = crypto.randomUUID();
    const p = Math.fround(0.3711);
    await sample(manifest.name, requestId, [
      { rowIndex: 0, probability: Math.fround(0.9) },
      { rowIndex: 4, probability: p },
    ]);
    const res = await send({ request_id: requestId, row_index: 4, label: 0 });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: 1, inserted: 1, replaced: 0, joined_by: { token: 0, sample: 1 } });
    expect(await labelOf(requestId, 4)).toMatchObject({
      model_name: manifest.name,
      version: 1,
      label: 0,
      probability: p,
      predicted_at: "2026-11-30T04:10:00.000Z",
      observed_at: null,
      joined_by: "sample",
    });
  });

  it("a batch mixes tokens, sampled ids, and the manifest's class names", async () => {
    const { manifest } = await registerFixture("logistic", { patch: (m) => (m.output.classes = ["No", "Yes"]) });
    const prediction = await predict(manifest.name, 2);
    const sampledId = crypto.randomUUID();
    await sample(manifest.name, sampledId, [{ rowIndex: 0, probability: Math.fround(0.2) }]);
    const res = await send({
      feedback: [
        { prediction_token: prediction.tokens[0], label: "Yes" },
        { prediction_token: prediction.tokens[1], request_id: prediction.requestId, row_index: 1, label: " No " },
        { request_id: sampledId, label: false },
      ],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: 3, inserted: 3, replaced: 0, joined_by: { token: 2, sample: 1 } });
    expect((await labelOf(prediction.requestId, 0))!.label).toBe(1);
    expect((await labelOf(prediction.requestId, 1))!.label).toBe(0);
    expect((await labelOf(sampledId, 0))!.label).toBe(0);
  });

  it("a resent label replaces the stored one, never duplicates it", async () => {
    const { manifest } = await registerFixture("logistic");
    const prediction = await predict(manifest.name);
    expect(await (await send({ prediction_token: prediction.tokens[0], label: 1 })).json()).toMatchObject({ inserted: 1, replaced: 0 });
    const res = await send({ prediction_token: prediction.tokens[0], label: 0, observed_at: "2026-12-02T00:00:00Z" });
    expect(await res.json()).toMatchObject({ inserted: 0, replaced: 1 });
    const rows = (await allLabels()).filter((r) => r.request_id === prediction.requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ label: 0, observed_at: "2026-12-02T00:00:00.000Z" });
  });
});

describe("refusals write nothing", () => {
  it("an unknown request id is 404 naming it; in a batch every unknown item is named and the good ones are not written", async () => {
    const { manifest } = await registerFixture("logistic");
    const good = await predict(manifest.name);
    const single = await expectRefused({ request_id: "never-seen-1", label: 1 }, 404, "NOT_FOUND");
    expect(single.error.message).toContain("never-seen-1");
    const batch = await expectRefused(
      { feedback: [{ prediction_token: good.tokens[0], label: 1 }, { request_id: "never-seen-2", label: 1 }, { request_id: "never-seen-3", label: 0 }] },
      404,
      "NOT_FOUND",
    );
    expect(failingFields(batch)).toEqual(["feedback[1].request_id", "feedback[2].request_id"]);
    expect(JSON.stringify(batch.error.details)).toContain("never-seen-3");
    expect(await labelOf(good.requestId)).toBeNull();
  });

  it("a sampled request whose row was not sampled is 404, saying which rows were", async () => {
    const { manifest } = await registerFixture("logistic");
    const requestId = crypto.randomUUID();
    await sample(manifest.name, requestId, [{ rowIndex: 1, probability: 0.5 }, { rowIndex: 3, probability: 0.25 }]);
    const refused = await expectRefused({ request_id: requestId, label: 1 }, 404, "NOT_FOUND");
    expect(refused.error.message).toContain("sampled rows: 1, 3");
  });

  it("a token that does not verify is 401 naming it, and the batch's valid labels are not written", async () => {
    const { manifest } = await registerFixture("logistic");
    const prediction = await predict(manifest.name, 2);
    const tampered = prediction.tokens[1]!.slice(0, 10) + (prediction.tokens[1]![10] === "A" ? "B" : "A") + prediction.tokens[1]!.slice(11);
    const foreign = (await issuePredictionTokens({ PREDICTION_TOKEN_SECRET: "some-other-deployment-secret-0123456789abcdef" }, { requestId: "x", result: prediction.result, issuedAt: 0 }))![0];
    const refused = await expectRefused(
      { feedback: [{ prediction_token: prediction.tokens[0], label: 1 }, { prediction_token: tampered, label: 1 }, { prediction_token: foreign, label: 0 }] },
      401,
      "UNAUTHORIZED",
    );
    expect(failingFields(refused)).toEqual(["feedback[1].prediction_token", "feedback[2].prediction_token"]);
    expect(await labelOf(prediction.requestId)).toBeNull();
  });

  it("a token older than FEEDBACK_MAX_AGE_DAYS (default 90) is 422 naming the field and its age, and the batch is not written", async () => {
    const { manifest } = await registerFixture("logistic");
    const prediction = await predict(manifest.name);
    const DAY = 86_400_000;
    const issue = async (daysAgo: number) =>
      (await issuePredictionTokens(env, { requestId: crypto.randomUUID(), result: prediction.result, issuedAt: Date.now() - daysAgo * DAY }))![0]!;
    const refused = await expectRefused(
      { feedback: [{ prediction_token: prediction.tokens[0], label: 1 }, { prediction_token: await issue(91), label: 0 }] },
      422,
      "VALIDATION_FAILED",
    );
    expect(failingFields(refused)).toEqual(["feedback[1].prediction_token"]);
    const issue0 = (refused.error.details as { issues: { message: string }[] }).issues[0]!;
    expect(issue0.message).toMatch(/^expired: issued \d{4}-\d\d-\d\dT[^,]+, 91 days ago; tokens are accepted for 90 days \(FEEDBACK_MAX_AGE_DAYS\)$/);
    expect(await labelOf(prediction.requestId)).toBeNull();

    expect((await send({ prediction_token: await issue(89), label: 1 })).status).toBe(200);
    const shorter = await send({ prediction_token: await issue(8), label: 1 }, { vars: { FEEDBACK_MAX_AGE_DAYS: "7" } });
    expect(shorter.status).toBe(422);
    expect(((await shorter.json()) as Envelope).error.message).toContain("prediction_token");
  });

  it("malformed items are 422 naming every failing field by its path", async () => {
    const refused = await expectRefused(
      {
        feedback: [
          { request_id: "r-0", label: 2 },
          { request_id: "r-1", label: 1, observed_at: "yesterday" },
          { label: 1 },
          { request_id: "r-3", lable: 1, label: 0 },
          { request_id: "r-4", label: 1, row_index: -1 },
          { request_id: "has spaces", label: 1 },
          { request_id: "r-6", label: 1, row_index: 1.5 },
          { request_id: "r-7", client_request_id: "c-7", model: "m", label: 1 },
          { client_request_id: "has spaces", model: "m", label: 1 },
          { client_request_id: "c-9", model: "", label: 1 },
        ],
      },
      422,
      "VALIDATION_FAILED",
    );
    expect(failingFields(refused)).toEqual([
      "feedback[0].label",
      "feedback[1].observed_at",
      "feedback[2].request_id",
      "feedback[3].lable",
      "feedback[4].row_index",
      "feedback[5].request_id",
      "feedback[6].row_index",
      "feedback[7].client_request_id",
      "feedback[8].client_request_id",
      "feedback[9].model",
    ]);
  });

  it("a single malformed label names its bare field; malformed JSON is 400", async () => {
    expect(failingFields(await expectRefused({ request_id: "r" }, 422, "VALIDATION_FAILED"))).toEqual(["label"]);
    expect(failingFields(await expectRefused({ feedback: [] }, 422, "VALIDATION_FAILED"))).toEqual(["feedback"]);
    expect(failingFields(await expectRefused({ feedback: "x" }, 422, "VALIDATION_FAILED"))).toEqual(["feedback"]);
    const before = await allLabels();
    const res = await send("{not json");
    expect(res.status).toBe(400);
    expect(await allLabels()).toEqual(before);
  });

  it(`a batch over ${MAX_FEEDBACK_ITEMS} labels is 422`, async () => {
    const feedback = Array.from({ length: MAX_FEEDBACK_ITEMS + 1 }, (_, i) => ({ request_id: `r-${i}`, label: 1 }));
    const refused = await expectRefused({ feedback }, 422, "VALIDATION_FAILED");
    expect(failingFields(refused)).toEqual(["feedback"]);
  });

  it("contradictions are 422: a class name the model does not have, a token's id or row contradicted, a prediction labelled twice", async () => {
    const { manifest } = await registerFixture("logistic", { patch: (m) => (m.output.classes = ["stayed", "churned"]) });
    const prediction = await predict(manifest.name, 2);
    const refused = await expectRefused(
      {
        feedback: [
          { prediction_token: prediction.tokens[0], label: "Yes" },
          { prediction_token: prediction.tokens[1], request_id: "another-id", label: 1 },
          { prediction_token: prediction.tokens[1], row_index: 0, label: 1 },
        ],
      },
      422,
      "VALIDATION_FAILED",
    );
    expect(failingFields(refused)).toEqual(["feedback[0].label", "feedback[1].request_id", "feedback[2]", "feedback[2].row_index"]);
    expect(refused.error.details!.issues!.find((i) => i.field === "feedback[0].label")!.message).toContain('"stayed" (negative), "churned" (positive)');
  });

  it("a client's id reused within the model is 409 naming how many matched, rather than a guess; another model's use does not count", async () => {
    const a = await registerFixture("logistic");
    const b = await registerFixture("logistic");
    const client = `reused-${crypto.randomUUID()}`;
    const at = Date.UTC(2026, 10, 30, 4, 10);
    await sample(a.manifest.name, crypto.randomUUID(), [{ rowIndex: 0, probability: 0.5 }], 1, at, client);
    await sample(a.manifest.name, crypto.randomUUID(), [{ rowIndex: 0, probability: 0.75 }], 1, at, client);
    await sample(b.manifest.name, crypto.randomUUID(), [{ rowIndex: 0, probability: 0.25 }], 1, at, client);
    const refused = await expectRefused({ client_request_id: client, model: a.manifest.name, label: 1 }, 409, "CONFLICT");
    expect(failingFields(refused)).toEqual(["client_request_id"]);
    expect(refused.error.message).toContain("matches 2 sampled predictions");
    expect(refused.error.message).toContain("send the request_id or prediction_token");
    expect((await send({ client_request_id: client, model: b.manifest.name, label: 1 })).status).toBe(200);
  });

  it("a token label whose request id and row already hold another model's label is 409", async () => {
    const a = await registerFixture("logistic");
    const b = await registerFixture("logistic");
    const first = await predict(a.manifest.name);
    expect((await send({ prediction_token: first.tokens[0], label: 1 })).status).toBe(200);
    const second = await predict(b.manifest.name);
    const clash = (await issuePredictionTokens(env, { requestId: first.requestId, result: second.result, issuedAt: second.issuedAt }))![0];
    await expectRefused({ prediction_token: clash, label: 0 }, 409, "CONFLICT");
  });
});

describe("D1 cost", () => {
  it("labels by token cost one write statement: 3 rows written per new label (row, primary key, model/version/time index), 2 per resent one (updated in place)", async () => {
    const { manifest } = await registerFixture("logistic");
    const prediction = await predict(manifest.name, 10);
    const items = prediction.tokens.map((t, i) => ({ item: { prediction_token: t, label: (i % 2) as 0 | 1 }, path: `feedback[${i}]` }));
    const first = await recordFeedback(env.DB, env, items, { maxAgeDays: 90 });
    expect(first).toMatchObject({ inserted: 10, replaced: 0 });
    expect(first.d1.rows_written).toBe(30);
    const again = await recordFeedback(env.DB, env, items, { maxAgeDays: 90 });
    expect(again).toMatchObject({ inserted: 0, replaced: 10 });
    expect(again.d1.rows_written).toBe(20);
  });
});
