/**
 * The drift report's ground-truth section from real D1: labels sent through POST /feedback (by token
 * and by sampled request id) give the window's realized AUC, precision and recall, worked by hand
 * here; unlabelled samples give the label-free estimate; window bounds and other versions are kept
 * out.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { issuePredictionTokens } from "../../worker/feedback/prediction-token";
import { groundTruthSection } from "../../worker/feedback/realized";
import { type SampleRecord, sampleWindow, writeSamples } from "../../worker/monitoring/sample-store";
import { openDb } from "../../worker/db/open-db";
import { writeShadowPairs } from "../../worker/traffic/shadow-store";
import { freshName, requestApp, VALID_ROW } from "./helpers";

const f = Math.fround;
// A recent hour (a day ago), not a fixed date: POST /feedback refuses tokens older than
// FEEDBACK_MAX_AGE_DAYS, so a fixed date would start failing once it is that old.
const HOUR_MS = 3_600_000;
const WINDOW_START_MS = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 24 * HOUR_MS;
const WINDOW_START = new Date(WINDOW_START_MS).toISOString();
const WINDOW_END = new Date(WINDOW_START_MS + HOUR_MS).toISOString();
const IN_WINDOW = WINDOW_START_MS + 20 * 60_000;
const MANIFEST = { output: { label: "churn", target_column: "churn", classes: ["0", "1"] as [string, string], threshold: 0.5, risk_tiers: [{ name: "LOW", min: 0 }] } };

async function postFeedback(body: unknown) {
  const res = await requestApp("/feedback", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${env.ADMIN_TOKEN}` },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

async function tokensFor(name: string, version: number, p: number[], issuedAt: number, requestId: string = crypto.randomUUID()) {
  const probabilities = new Float32Array(p.flatMap((v) => [1 - v, v]));
  return (await issuePredictionTokens(env, { requestId, result: { name, version, probabilities }, issuedAt }))!;
}

async function sampled(name: string, probability: number, at: number, version = 1): Promise<string> {
  const requestId = crypto.randomUUID();
  const record: SampleRecord = {
    modelName: name,
    version,
    arm: "production",
    requestId,
    clientRequestId: null,
    rowIndex: 0,
    features: JSON.stringify(VALID_ROW),
    probability,
    prediction: probability >= 0.5,
    riskTier: "LOW",
    latencyMs: 1,
    createdAt: new Date(at).toISOString(),
    window: sampleWindow(at),
    sampleKey: 0.5,
  };
  await writeSamples(openDb(env.DB), [record], { windowCap: 10_000 });
  return requestId;
}

describe("groundTruthSection over real D1", () => {
  it("realized metrics from labels joined by token and by sample; the estimate from unlabelled samples; bounds respected", async () => {
    const name = freshName("ground-truth");
    // In the window, by token: positives 0.9, 0.6; negatives 0.8, 0.3.
    const tokens = await tokensFor(name, 1, [0.9, 0.8, 0.3, 0.6], IN_WINDOW);
    // In the window, by sample: a negative at 0.6, tied with the token's positive.
    const labelledSample = await sampled(name, f(0.6), IN_WINDOW);
    // In the window, never labelled: the label-free estimate's rows.
    await sampled(name, f(0.2), IN_WINDOW);
    await sampled(name, f(0.8), Date.parse(WINDOW_START));
    // Outside: a label predicted at the window's (exclusive) end, an unlabelled sample before it,
    // and another version's label inside it.
    const [atEnd] = await tokensFor(name, 1, [0.1], Date.parse(WINDOW_END));
    await sampled(name, f(0.99), Date.parse(WINDOW_START) - 1);
    const [otherVersion] = await tokensFor(name, 2, [0.05], IN_WINDOW);
    await postFeedback({
      feedback: [
        ...[1, 0, 0, 1].map((label, i) => ({ prediction_token: tokens[i], label })),
        { request_id: labelledSample, label: 0 },
        { prediction_token: atEnd, label: 1 },
        { prediction_token: otherVersion, label: 1 },
      ],
    });

    const section = await groundTruthSection(openDb(env.DB), { model: name, version: 1, windowStart: WINDOW_START, windowEnd: WINDOW_END, manifest: MANIFEST, minLabels: 5 });
    expect(section.labels).toEqual({ count: 5, positives: 2, negatives: 3, joined_by: { token: 4, sample: 1, shadow: 0 } });
    expect(section.realized).toEqual({
      status: "ok",
      // 0.9 beats all 3 negatives; 0.6 beats 0.3, ties the negative 0.6 (½), loses to 0.8: 4.5 of 6
      roc_auc: 0.75,
      // at 0.5: tp 0.9, 0.6; fp 0.8, 0.6; tn 0.3
      precision: 0.5,
      recall: 1,
      predicted_positive_rate: 0.8,
      observed_positive_rate: 0.4,
      expected_positive_rate: (f(0.9) + f(0.8) + f(0.3) + f(0.6) + f(0.6)) / 5,
      confusion: { tp: 2, fp: 2, tn: 1, fn: 0 },
    });
    expect(section.expected.count).toBe(2);
    // [0.2, 0.8]: 0.8·0.8 / (0.8·0.8 + 0.2·0.2)
    const p2 = f(0.2);
    const p8 = f(0.8);
    expect(section.expected.roc_auc).toBeCloseTo((p8 * (1 - p2)) / (p8 * (1 - p2) + p2 * (1 - p8)), 12);
    expect(section.expected.positive_rate).toBeCloseTo((p2 + p8) / 2, 12);
    expect(section.expected.predicted_positive_rate).toBe(0.5);
    expect(section.window).toEqual({ start: WINDOW_START, end: WINDOW_END });
    expect(section.threshold).toBe(0.5);

    const strict = await groundTruthSection(openDb(env.DB), { model: name, version: 1, windowStart: WINDOW_START, windowEnd: WINDOW_END, manifest: MANIFEST, minLabels: 6 });
    expect(strict.realized).toEqual({ status: "insufficient_labels", reason: "5 labels in the window, 6 needed" });
    expect(strict.expected).toEqual(section.expected);
  });

  it("a shadow version's labels come through its shadow pairs, scored with the shadow's own probabilities", async () => {
    const name = freshName("shadow-truth");
    const pairs = [
      { shadow: 0.7, label: 1 as const },
      { shadow: 0.4, label: 0 as const },
      { shadow: 0.9, label: 0 as const },
      { shadow: 0.3, label: null },
    ].map((p) => ({ ...p, requestId: crypto.randomUUID() }));
    await writeShadowPairs(
      openDb(env.DB),
      pairs.map((p) => ({
        modelName: name,
        requestId: p.requestId,
        rowIndex: 0,
        primaryVersion: 1,
        shadowVersion: 2,
        primaryProbability: f(0.5),
        shadowProbability: f(p.shadow),
        primaryPrediction: true,
        shadowPrediction: p.shadow >= 0.5,
        agree: p.shadow >= 0.5,
        createdAt: new Date(IN_WINDOW).toISOString(),
      })),
    );
    const feedback = [];
    for (const p of pairs.filter((p) => p.label !== null)) {
      const [token] = await tokensFor(name, 1, [0.5], IN_WINDOW, p.requestId);
      feedback.push({ prediction_token: token, label: p.label });
    }
    await postFeedback({ feedback });

    const shadow = await groundTruthSection(openDb(env.DB), { model: name, version: 2, windowStart: WINDOW_START, windowEnd: WINDOW_END, manifest: MANIFEST, minLabels: 3 });
    expect(shadow.labels).toEqual({ count: 3, positives: 1, negatives: 2, joined_by: { token: 0, sample: 0, shadow: 3 } });
    // the positive (0.7) beats 0.4 and loses to 0.9
    expect(shadow.realized).toMatchObject({ status: "ok", roc_auc: 0.5, confusion: { tp: 1, fp: 1, tn: 1, fn: 0 } });
    expect(shadow.expected).toMatchObject({ count: 1, positive_rate: f(0.3) });
    const primary = await groundTruthSection(openDb(env.DB), { model: name, version: 1, windowStart: WINDOW_START, windowEnd: WINDOW_END, manifest: MANIFEST, minLabels: 3 });
    expect(primary.labels.joined_by).toEqual({ token: 3, sample: 0, shadow: 0 });
  });

  it("a window with no labels and no samples reads insufficient labels and estimates nothing", async () => {
    const section = await groundTruthSection(openDb(env.DB), { model: freshName("empty"), version: 1, windowStart: WINDOW_START, windowEnd: WINDOW_END, manifest: MANIFEST });
    expect(section.realized).toEqual({ status: "insufficient_labels", reason: "0 labels in the window, 100 needed" });
    expect(section.expected).toEqual({ basis: "unlabelled sampled predictions", count: 0, positive_rate: null, roc_auc: null, predicted_positive_rate: null, precision: null, recall: null });
  });
});
