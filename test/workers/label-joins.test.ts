/**
 * Labels join exactly one prediction: the key is the Worker's own request id, never the client's
 * x-request-id, which anyone can reuse. Reproductions of three ways labels went wrong while the
 * client's id was the key (a reused id captured a label; a label counted once per reuse in a
 * shadow's ground truth; a shadow's own sample row made a label by request id ambiguous), and an
 * end-to-end check that realized ROC AUC is computed on exactly the intended rows. Real D1, R2 and
 * workerd's ORT throughout.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { rocAuc } from "../../worker/contract/classification-metrics";
import { openDb } from "../../worker/db/open-db";
import { groundTruthSection } from "../../worker/feedback/realized";
import { type Envelope, observationsSettled, registerFixture, requestApp, VALID_ROW } from "./helpers";

const AUTH = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
/** Every request sampled, every row of a 100-row batch (the suite's defaults: SAMPLE_RATE 0, MAX_BATCH_ROWS 50). */
const SAMPLE_ALL = { SAMPLE_RATE: "1", SAMPLE_MAX_ROWS_PER_REQUEST: "100", MAX_BATCH_ROWS: "100" };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function call(path: string, body: unknown, headers: Record<string, string> = {}, vars: Record<string, string> = {}) {
  return requestApp(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) }, vars);
}

async function putJson(path: string, body: unknown) {
  const res = await requestApp(path, { method: "PUT", headers: { "content-type": "application/json", ...AUTH }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** Labels after the observation queue has written every sample sent so far (a client labels later, too). */
async function feedback(body: unknown, vars: Record<string, string> = {}) {
  await observationsSettled();
  return call("/feedback", body, AUTH, vars);
}

async function twoVersions() {
  const first = await registerFixture("forest");
  const name = first.manifest.name;
  await registerFixture("logistic", { name, aliases: [] });
  return name;
}

/** The hour around now: every prediction these tests make falls inside it. */
function windowAroundNow() {
  const now = Date.now();
  return { windowStart: new Date(now - 3_600_000).toISOString(), windowEnd: new Date(now + 3_600_000).toISOString() };
}

const MANIFEST = { output: { label: "churn", target_column: "churn", classes: ["0", "1"] as [string, string], threshold: 0.5, risk_tiers: [{ name: "LOW", min: 0 }] } };

const LOW_RISK = { ...VALID_ROW, tenure: 70, monthly_charges: 20, total_charges: 1400, contract_type: "Two year", internet_service: "No" };
const HIGH_RISK = { ...VALID_ROW, tenure: 1, monthly_charges: 105, total_charges: 105 };

interface Single {
  churn_probability: number;
  prediction_token: string;
  request_id: string;
}

interface Batch {
  predictions: { churn_probability: number; prediction_token: string }[];
  request_id: string;
}

/** Raw positive-class probabilities of one version, from the OIP tensor output (float32, as stored). */
async function directProbabilities(name: string, version: number, batch: Record<string, unknown>[]): Promise<number[]> {
  const inputs = Object.keys(VALID_ROW).map((k) => ({
    name: k,
    shape: [batch.length],
    datatype: typeof VALID_ROW[k as keyof typeof VALID_ROW] === "number" ? "FP32" : "BYTES",
    data: batch.map((r) => r[k]),
  }));
  const res = await call(`/v2/models/${name}/versions/${version}/infer`, { inputs }, {}, { MAX_BATCH_ROWS: "100" });
  expect(res.status, await res.clone().text()).toBe(200);
  const body = (await res.json()) as { outputs: { name: string; data: number[] }[] };
  const tensor = body.outputs.find((o) => o.name === "probabilities")!.data;
  return batch.map((_, i) => tensor[i * 2 + 1]!);
}

describe("a client's reused x-request-id", () => {
  it("cannot capture the label of another caller's prediction: the server's id joins the customer's row, the client id is 409 naming 41 matches", async () => {
    const { manifest } = await registerFixture("logistic");
    const name = manifest.name;
    for (let i = 0; i < 40; i++) {
      const res = await call(`/models/${name}/predict`, { ...LOW_RISK, tenure: 60 + (i % 12) }, { "x-request-id": "order-77" }, SAMPLE_ALL);
      expect(res.status).toBe(200);
    }
    const customer = await call(`/models/${name}/predict`, HIGH_RISK, { "x-request-id": "order-77" }, SAMPLE_ALL);
    const body = (await customer.json()) as Single;
    expect(body.request_id).toMatch(UUID);
    expect(customer.headers.get("x-request-id")).toBe(body.request_id);
    expect(customer.headers.get("x-client-request-id")).toBe("order-77");

    const joined = await feedback({ request_id: body.request_id, label: 1 });
    expect(joined.status, await joined.clone().text()).toBe(200);
    const stored = await env.DB.prepare("SELECT probability FROM request_samples WHERE request_id = ? AND arm = 'production'").bind(body.request_id).first<{ probability: number }>();
    const label = await env.DB.prepare("SELECT * FROM prediction_labels WHERE request_id = ?").bind(body.request_id).first<{ probability: number; model_name: string; label: number }>();
    expect(label).toMatchObject({ model_name: name, label: 1, probability: stored!.probability });
    expect(Math.abs(label!.probability - body.churn_probability)).toBeLessThanOrEqual(1e-4);
    expect(body.churn_probability).toBeGreaterThan(0.5);

    const byClientId = await feedback({ client_request_id: "order-77", model: name, label: 1 });
    const refused = (await byClientId.json()) as Envelope;
    expect(byClientId.status).toBe(409);
    expect(refused.error.code).toBe("CONFLICT");
    expect(refused.error.message).toContain("41 sampled predictions");
  });

  it("a client id that matches exactly one sampled prediction of the named model joins it; unknown is 404; one without the other is 422", async () => {
    const { manifest } = await registerFixture("logistic");
    const other = await registerFixture("logistic");
    const id = `once-${crypto.randomUUID()}`;
    const res = await call(`/models/${manifest.name}/predict`, { instances: [LOW_RISK, HIGH_RISK] }, { "x-request-id": id }, SAMPLE_ALL);
    const body = (await res.json()) as Batch;
    // The same client id used with another model is that model's business: it does not make this one ambiguous.
    expect((await call(`/models/${other.manifest.name}/predict`, HIGH_RISK, { "x-request-id": id }, SAMPLE_ALL)).status).toBe(200);

    const joined = await feedback({ client_request_id: id, model: manifest.name, row_index: 1, label: 0 });
    expect(joined.status, await joined.clone().text()).toBe(200);
    expect(await joined.json()).toMatchObject({ inserted: 1, joined_by: { sample: 1 } });
    const label = await env.DB.prepare("SELECT * FROM prediction_labels WHERE request_id = ? AND row_index = 1").bind(body.request_id).first<{ model_name: string; label: number }>();
    expect(label).toMatchObject({ model_name: manifest.name, label: 0 });

    expect((await feedback({ client_request_id: `never-${id}`, model: manifest.name, label: 0 })).status).toBe(404);
    const half = await feedback({ feedback: [{ client_request_id: id, label: 1 }, { model: manifest.name, label: 1 }] });
    expect(half.status).toBe(422);
    expect(((await half.json()) as Envelope).error.details!.issues!.map((i) => i.field).sort()).toEqual(["feedback[0].model", "feedback[1].client_request_id"]);
  });
});

describe("labels and an active shadow", () => {
  it("one label counts once in the shadow's ground truth, however often the client reused its id", async () => {
    const name = await twoVersions();
    await putJson(`/admin/models/${name}/traffic`, { shadow: { version: 2, sample_rate: 1 }, reason: "test" });
    let last: Single | undefined;
    for (let i = 0; i < 21; i++) {
      const res = await call(`/models/${name}/predict`, { ...VALID_ROW, tenure: 1 + i * 3 }, { "x-request-id": "cust-9" });
      expect(res.status).toBe(200);
      last = (await res.json()) as Single;
    }
    const labelled = await feedback({ prediction_token: last!.prediction_token, label: 1 });
    expect(labelled.status, await labelled.clone().text()).toBe(200);

    // The pair the label reaches is the shadow's score of the labelled request, not of any other.
    const [p2] = await directProbabilities(name, 2, [{ ...VALID_ROW, tenure: 1 + 20 * 3 }]);
    await observationsSettled();
    const row = await env.DB.prepare("SELECT shadow_probability FROM shadow_pairs WHERE request_id = ?").bind(last!.request_id).all<{ shadow_probability: number }>();
    expect(row.results).toEqual([{ shadow_probability: p2 }]);
    const window = windowAroundNow();
    const shadow = await groundTruthSection(openDb(env.DB), { model: name, version: 2, ...window, manifest: MANIFEST, minLabels: 1 });
    expect(shadow.labels).toEqual({ count: 1, positives: 1, negatives: 0, joined_by: { token: 0, sample: 0, shadow: 1 } });
    // The other 20 requests' pairs are kept, unlabelled.
    expect(shadow.expected.count).toBe(20);
    const primary = await groundTruthSection(openDb(env.DB), { model: name, version: 1, ...window, manifest: MANIFEST, minLabels: 1 });
    expect(primary.labels).toEqual({ count: 1, positives: 1, negatives: 0, joined_by: { token: 1, sample: 0, shadow: 0 } });
  });

  it("a label sent by request id joins the answering version's row (200), not 409 against the shadow's row", async () => {
    const name = await twoVersions();
    await putJson(`/admin/models/${name}/traffic`, { shadow: { version: 2, sample_rate: 1 }, reason: "test" });
    const res = await call(`/models/${name}/predict`, HIGH_RISK, {}, SAMPLE_ALL);
    const body = (await res.json()) as Single;
    await observationsSettled();
    const arms = await env.DB.prepare("SELECT arm, version FROM request_samples WHERE request_id = ? ORDER BY arm").bind(body.request_id).all<{ arm: string; version: number }>();
    expect(arms.results).toEqual([
      { arm: "production", version: 1 },
      { arm: "shadow", version: 2 },
    ]);
    const labelled = await feedback({ request_id: body.request_id, label: 0 });
    expect(labelled.status, await labelled.clone().text()).toBe(200);
    const label = await env.DB.prepare("SELECT version, probability FROM prediction_labels WHERE request_id = ?").bind(body.request_id).first<{ version: number; probability: number }>();
    expect(label!.version).toBe(1);
    expect(Math.abs(label!.probability - body.churn_probability)).toBeLessThanOrEqual(1e-4);
    // Once for the primary, once for the shadow, from its pair and its sample row alike.
    const window = windowAroundNow();
    const shadow = await groundTruthSection(openDb(env.DB), { model: name, version: 2, ...window, manifest: MANIFEST, minLabels: 1 });
    expect(shadow.labels.count).toBe(1);
    expect(shadow.expected.count).toBe(0);
  });
});

describe("end to end: realized ROC AUC on exactly the intended rows", () => {
  it("1,000 predictions from two clients reusing the same ids, shadow on, labels by token and by server id", async () => {
    const name = await twoVersions();
    await putJson(`/admin/models/${name}/traffic`, { shadow: { version: 2, sample_rate: 1 }, reason: "test" });
    // A small deterministic generator (Park–Miller), so rows and labels are the same every run.
    let seed = 20_261_130;
    const next = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    const contracts = ["Month-to-month", "One year", "Two year"];
    const internet = ["DSL", "Fiber optic", "No"];
    const batches = Array.from({ length: 10 }, () =>
      Array.from({ length: 100 }, () => ({
        ...VALID_ROW,
        tenure: Math.floor(next() * 72),
        monthly_charges: Math.round(20 + next() * 90),
        total_charges: Math.round(100 + next() * 5000),
        contract_type: contracts[Math.floor(next() * 3)]!,
        internet_service: internet[Math.floor(next() * 3)]!,
      })),
    );

    // Clients A and B each send five batches under the same five ids.
    const responses: Batch[] = [];
    for (const [b, rows] of batches.entries()) {
      const res = await call(`/models/${name}/predict`, { instances: rows }, { "x-request-id": `batch-${b % 5}` }, SAMPLE_ALL);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-client-request-id")).toBe(`batch-${b % 5}`);
      responses.push((await res.json()) as Batch);
    }
    expect(new Set(responses.map((r) => r.request_id)).size).toBe(10);

    // The intended rows: even rows by token, rows 1 mod 4 by server request id + row, rows 3 mod 4 unlabelled.
    const primary = await Promise.all(batches.map((rows) => directProbabilities(name, 1, rows)));
    const shadow = await Promise.all(batches.map((rows) => directProbabilities(name, 2, rows)));
    const intended = { labels: [] as (0 | 1)[], primary: [] as number[], shadow: [] as number[] };
    const byToken: unknown[] = [];
    const byId: unknown[] = [];
    responses.forEach((res, b) => {
      res.predictions.forEach((p, r) => {
        if (r % 4 === 3) return;
        const label = next() < primary[b]![r]! * 0.6 + 0.2 ? 1 : 0;
        // The answer the client saw is the stored score (cut to 4 decimals in JSON).
        expect(Math.abs(p.churn_probability - primary[b]![r]!)).toBeLessThanOrEqual(1e-4);
        intended.labels.push(label);
        intended.primary.push(primary[b]![r]!);
        intended.shadow.push(shadow[b]![r]!);
        if (r % 2 === 0) byToken.push({ prediction_token: p.prediction_token, label });
        else byId.push({ request_id: res.request_id, row_index: r, label });
      });
    });
    for (const items of [byToken, byId]) {
      // 500 tokens are over the suite's 64 KiB body limit.
      const res = await feedback({ feedback: items }, { MAX_BODY_BYTES: "1048576" });
      expect(res.status, await res.clone().text()).toBe(200);
    }
    // The reused client ids name two predictions each: refused, saying so.
    const ambiguous = await feedback({ client_request_id: "batch-0", model: name, row_index: 3, label: 1 });
    expect(ambiguous.status).toBe(409);
    expect(((await ambiguous.json()) as Envelope).error.message).toContain("2 sampled predictions");

    // Expected values: the project's rocAuc (checked against scikit-learn in test/node and
    // scripts/reference/realized-metrics-reference.py) on the intended rows, which this test knows.
    const window = windowAroundNow();
    const realizedPrimary = await groundTruthSection(openDb(env.DB), { model: name, version: 1, ...window, manifest: MANIFEST });
    expect(realizedPrimary.labels).toMatchObject({ count: 750, joined_by: { token: 500, sample: 250, shadow: 0 } });
    expect(realizedPrimary.realized.status).toBe("ok");
    const expectedPrimary = rocAuc({ labels: intended.labels, scores: intended.primary })!;
    expect(realizedPrimary.realized).toMatchObject({ roc_auc: expectedPrimary });
    expect(realizedPrimary.expected.count).toBe(250);

    const realizedShadow = await groundTruthSection(openDb(env.DB), { model: name, version: 2, ...window, manifest: MANIFEST });
    expect(realizedShadow.labels).toMatchObject({ count: 750, joined_by: { token: 0, sample: 0, shadow: 750 } });
    const expectedShadow = rocAuc({ labels: intended.labels, scores: intended.shadow })!;
    expect(realizedShadow.realized).toMatchObject({ status: "ok", roc_auc: expectedShadow });
    expect(realizedShadow.expected.count).toBe(250);
    // The two versions really score differently, so the shadow's AUC is its own.
    expect(expectedShadow).not.toBe(expectedPrimary);
    console.log(`end-to-end realized ROC AUC: primary ${expectedPrimary}, shadow ${expectedShadow}`);
  });
});
