/**
 * Request sampling into real D1 through the real observation queue: the rate per request, rows per
 * batch, the per-window reservoir, redelivery, the D1 fault path and retention. Requests go through
 * the whole app with sampling vars of their own (the suite's default SAMPLE_RATE is 0);
 * waitOnExecutionContext awaits their sends, and observationsSettled() the consumer's writes.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { pruneSamples, type SampleRecord, samplingStats, sampleWindow, writeSamples } from "../../worker/monitoring/sample-store";
import { openDb } from "../../worker/db/open-db";
import type { Manifest } from "../../worker/contract/manifest";
import { sampleRateFor } from "../../worker/monitoring/sample-requests";
import { consumeObservations } from "../../worker/observations/consume-observations";
import type { SamplesMessage } from "../../worker/observations/observation-messages";
import { createServices } from "../../worker/services";
import { parseSettings } from "../../worker/settings";
import worker from "../../worker/index";
import { fixture, freshName, observationsSettled, registerFixture, requestApp, ROW_FEATURES, VALID_ROW } from "./helpers";
import { oipInputs } from "../helpers/oip-inputs";


function send(vars: Record<string, string>, path: string, body: unknown) {
  return requestApp(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }, vars);
}

interface StoredSample {
  model_name: string;
  version: number;
  arm: string;
  request_id: string;
  row_index: number;
  features: string;
  probability: number;
  prediction: number;
  risk_tier: string;
  latency_ms: number;
  created_at: string;
  window: string;
  sample_key: number;
}

/** The model's stored samples once the queue has delivered everything sent so far. */
async function samplesOf(name: string): Promise<StoredSample[]> {
  await observationsSettled();
  const { results } = await env.DB.prepare("SELECT * FROM request_samples WHERE model_name = ? ORDER BY id").bind(name).all<StoredSample>();
  return results;
}

const ALWAYS = { SAMPLE_RATE: "1" };

afterEach(() => vi.restoreAllMocks());

describe("sampling rate (decided per request)", () => {
  it("rate 1 stores the row with its features, output, arm, latency, time and request id", async () => {
    const { manifest } = await registerFixture("logistic");
    const res = await send(ALWAYS, `/models/${manifest.name}/predict`, VALID_ROW);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    const rows = await samplesOf(manifest.name);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({ version: 1, arm: "production", request_id: body.request_id, row_index: 0 });
    expect(JSON.parse(row.features)).toEqual(VALID_ROW);
    expect(row.probability).toBeCloseTo(body.churn_probability as number, 4);
    expect(row.prediction).toBe(body.churn_prediction ? 1 : 0);
    expect(row.risk_tier).toBe(body.risk_tier);
    expect(row.latency_ms).toBeGreaterThanOrEqual(0);
    expect(row.window).toBe(sampleWindow(Date.parse(row.created_at)));
    expect(new Date(row.created_at).toISOString()).toBe(row.created_at);
    expect(row.sample_key).toBeGreaterThanOrEqual(0);
    expect(row.sample_key).toBeLessThan(1);
  });

  it("stores the feature values the model saw: manifest features only, categories normalised", async () => {
    const { manifest } = await registerFixture("logistic");
    const sent = { ...VALID_ROW, contract_type: "  Month-to-month ", customer_id: "c-42" };
    expect((await send(ALWAYS, `/models/${manifest.name}/predict`, sent)).status).toBe(200);
    const rows = await samplesOf(manifest.name);
    expect(rows.map((r) => JSON.parse(r.features))).toEqual([VALID_ROW]);
  });

  it("every prediction route samples, with the arm the request asked for", async () => {
    const { manifest } = await registerFixture("logistic", { aliases: ["production", "canary"] });
    const name = manifest.name;
    expect((await send(ALWAYS, `/models/${name}/invocations`, { dataframe_records: [VALID_ROW] })).status).toBe(200);
    const oip = { inputs: oipInputs(ROW_FEATURES, [VALID_ROW]) };
    expect((await send(ALWAYS, `/v2/models/${name}/infer`, oip)).status).toBe(200);
    expect((await send(ALWAYS, `/models/${name}/predict?alias=canary`, VALID_ROW)).status).toBe(200);
    expect((await send(ALWAYS, `/models/${name}/versions/1/predict`, VALID_ROW)).status).toBe(200);
    expect((await samplesOf(name)).map((r) => r.arm)).toEqual(["production", "production", "canary", "version"]);
  });

  it("rate 0 stores nothing", async () => {
    const { manifest } = await registerFixture("logistic");
    for (let i = 0; i < 20; i++) expect((await send({ SAMPLE_RATE: "0" }, `/models/${manifest.name}/predict`, VALID_ROW)).status).toBe(200);
    expect(await samplesOf(manifest.name)).toHaveLength(0);
  });

  it("rate 0.1 over 400 requests stays within 4 standard deviations of the binomial mean", async () => {
    const { manifest } = await registerFixture("logistic");
    const n = 400;
    const p = 0.1;
    for (let i = 0; i < n; i++) expect((await send({ SAMPLE_RATE: "0.1" }, `/models/${manifest.name}/predict`, VALID_ROW)).status).toBe(200);
    const sampled = new Set((await samplesOf(manifest.name)).map((r) => r.request_id)).size;
    // mean 40, sd sqrt(400 * 0.1 * 0.9) = 6: accept 16..64 (a false failure about 1 run in 16,000).
    const sd = Math.sqrt(n * p * (1 - p));
    expect(sampled).toBeGreaterThanOrEqual(n * p - 4 * sd);
    expect(sampled).toBeLessThanOrEqual(n * p + 4 * sd);
  });
});

describe("rows per sampled batch", () => {
  const batch = (size: number) => ({ instances: Array.from({ length: size }, (_, i) => ({ ...VALID_ROW, tenure: i })) });

  it("keeps at most SAMPLE_MAX_ROWS_PER_REQUEST distinct rows, each stored with its own features", async () => {
    const { manifest } = await registerFixture("logistic");
    const res = await send({ ...ALWAYS, SAMPLE_MAX_ROWS_PER_REQUEST: "3" }, `/models/${manifest.name}/predict`, batch(8));
    expect(res.status).toBe(200);
    const { predictions } = (await res.json()) as { predictions: { churn_probability: number; risk_tier: string }[] };
    const rows = await samplesOf(manifest.name);
    expect(rows).toHaveLength(3);
    expect(new Set(rows.map((r) => r.row_index)).size).toBe(3);
    for (const row of rows) {
      expect(row.row_index).toBeGreaterThanOrEqual(0);
      expect(row.row_index).toBeLessThan(8);
      expect(JSON.parse(row.features).tenure).toBe(row.row_index);
      expect(row.probability).toBeCloseTo(predictions[row.row_index]!.churn_probability, 4);
      expect(row.risk_tier).toBe(predictions[row.row_index]!.risk_tier);
    }
  });

  it("stores every row of a batch no larger than the limit", async () => {
    const { manifest } = await registerFixture("logistic");
    await send({ ...ALWAYS, SAMPLE_MAX_ROWS_PER_REQUEST: "3" }, `/models/${manifest.name}/predict`, batch(2));
    expect((await samplesOf(manifest.name)).map((r) => r.row_index)).toEqual([0, 1]);
  });

  it("a window keeps at most SAMPLE_WINDOW_CAP rows per model version, evicting past it, across concurrent deliveries", async () => {
    const name = freshName("cap");
    const before = samplingStats();
    const services = createServices({ ...env, SAMPLE_WINDOW_CAP: "4" } as typeof env, undefined);
    const now = Date.now();
    // Five deliveries of 3 rows each, consumed concurrently as several consumer invocations would be:
    // D1 runs each delivery's batch as one transaction.
    const deliveries = Array.from({ length: 5 }, (_, d) =>
      createMessageBatch<SamplesMessage>("edge-mlops-observations", [
        { id: `m-${d}`, timestamp: new Date(now), attempts: 1, body: { kind: "samples", records: [0, 1, 2].map((i) => record(name, Math.random(), now, `d${d}`, i)) } },
      ]),
    );
    const outcomes = await Promise.all(deliveries.map((batch) => consumeObservations(services, batch)));
    const after = samplingStats();
    const written = outcomes.reduce((n, o) => n + o.samples.written, 0);
    // Rows below the window's bar are inserted (at least the first 4); the others are skipped.
    expect(written).toBeGreaterThanOrEqual(4);
    expect(written).toBeLessThanOrEqual(15);
    const rows = await samplesOf(name);
    const perWindow = new Map<string, number>();
    for (const r of rows) perWindow.set(r.window, (perWindow.get(r.window) ?? 0) + 1);
    expect([...perWindow.values()]).toEqual([4]);
    const counts = await env.DB.prepare(`SELECT "window", rows FROM sample_window_counts WHERE model_name = ?`).bind(name).all<{ window: string; rows: number }>();
    expect(Object.fromEntries(counts.results.map((c) => [c.window, c.rows]))).toEqual(Object.fromEntries(perWindow));
    expect(after.written - before.written).toBe(written);
    // Every row not kept counts once as a reservoir drop, skipped at insert or evicted after it.
    expect(after.dropped - before.dropped).toBe(11);
    expect(outcomes.reduce((n, o) => n + o.samples.evicted, 0)).toBe(11);
  });
});

describe("delivery is at least once: a redelivered message writes nothing twice", () => {
  it("the same samples message consumed twice by the worker's queue handler stores each row once and counts it once", async () => {
    const name = freshName("redelivery");
    const now = Date.now();
    const message = { kind: "samples" as const, records: [0, 1, 2].map((i) => record(name, (i + 1) / 10, now, "req-1", i)) };
    for (const attempts of [1, 2]) {
      const batch = createMessageBatch("edge-mlops-observations", [{ id: `m-${attempts}`, timestamp: new Date(now), attempts, body: message }]);
      const ctx = createExecutionContext();
      await worker.queue!(batch, env, ctx);
      await waitOnExecutionContext(ctx);
      const result = await getQueueResult(batch, ctx);
      expect(result).toMatchObject({ outcome: "ok", retryBatch: { retry: false }, ackAll: true });
    }
    const rows = await samplesOf(name);
    expect(rows.map((r) => [r.request_id, r.row_index, r.sample_key])).toEqual([
      ["req-1", 0, 0.1],
      ["req-1", 1, 0.2],
      ["req-1", 2, 0.3],
    ]);
    const counts = await env.DB.prepare(`SELECT rows FROM sample_window_counts WHERE model_name = ?`).bind(name).all<{ rows: number }>();
    expect(counts.results).toEqual([{ rows: 3 }]);
  });

  it("one sampled request to a quiet server is in D1 within 2 s of its answer, with no other request after it (the deployed OBSERVATION_BATCH_MS)", async () => {
    const { manifest } = await registerFixture("logistic");
    const answered = Date.now();
    const res = await send({ ...ALWAYS, OBSERVATION_BATCH_MS: "100" }, `/models/${manifest.name}/predict`, VALID_ROW);
    const { request_id } = (await res.json()) as { request_id: string };
    for (;;) {
      const row = await env.DB.prepare("SELECT 1 FROM request_samples WHERE request_id = ?").bind(request_id).first();
      if (row) break;
      expect(Date.now() - answered).toBeLessThan(2_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
});

/** A sample written straight to the store, at time `ms`, with a chosen reservoir key. */
function record(name: string, sampleKey: number, ms: number, requestId = `${name}-r-${sampleKey}`, rowIndex = 0): SampleRecord {
  return {
    modelName: name,
    version: 1,
    arm: "production",
    requestId,
    rowIndex,
    features: "{}",
    probability: 0.5,
    prediction: true,
    riskTier: "high",
    latencyMs: 1,
    createdAt: new Date(ms).toISOString(),
    window: sampleWindow(ms),
    sampleKey,
  };
}

describe("writeSamples reservoir (direct, hand-chosen keys)", () => {
  it("keeps the cap smallest keys of each window, whatever the arrival order", async () => {
    const db = openDb(env.DB);
    const name = freshName("reservoir");
    const w1 = "2026-01-01T10:00:00.000Z";
    const w2 = "2026-01-01T11:00:00.000Z";
    const t1 = Date.parse(w1) + 59 * 60_000;
    const t2 = Date.parse(w2);
    expect(await writeSamples(db, [record(name, 0.9, t1), record(name, 0.1, t1), record(name, 0.5, t1)], { windowCap: 2 })).toEqual({ written: 3, evicted: 1 });
    expect(await writeSamples(db, [record(name, 0.05, t1), record(name, 0.95, t2)], { windowCap: 2 })).toEqual({ written: 2, evicted: 1 });
    const kept = await samplesOf(name);
    expect(kept.filter((r) => r.window === w1).map((r) => r.sample_key).sort()).toEqual([0.05, 0.1]);
    expect(kept.filter((r) => r.window === w2).map((r) => r.sample_key)).toEqual([0.95]);
    const counts = await env.DB.prepare(`SELECT "window", rows FROM sample_window_counts WHERE model_name = ? ORDER BY 1`).bind(name).all();
    expect(counts.results).toEqual([
      { window: w1, rows: 2 },
      { window: w2, rows: 1 },
    ]);
  });
});

describe("what a delivery costs D1", () => {
  const delivery = (name: string, keys: readonly number[], now: number) =>
    createMessageBatch<SamplesMessage>(
      "edge-mlops-observations",
      keys.map((key, i) => ({ id: `m-${i}`, timestamp: new Date(now), attempts: 1, body: { kind: "samples", records: [record(name, key, now, `${name}-${i}-${key}`)] } })),
    );

  it("100 one-row messages under the cap: one batch writing 4 rows per sample (the row and its 3 index entries) and 2 for the window count", async () => {
    const name = freshName("cost");
    const now = Date.now();
    const outcome = await consumeObservations(createServices(env, undefined), delivery(name, Array.from({ length: 100 }, (_, i) => (i + 0.5) / 100), now));
    expect(outcome.samples).toEqual({ written: 100, evicted: 0 });
    expect(outcome.d1.rowsWritten).toBe(402);
  });

  it("a full window inserts only keys below its largest kept key; the rest are skipped, not written and evicted", async () => {
    const name = freshName("bar");
    const now = Date.now();
    const services = createServices({ ...env, SAMPLE_WINDOW_CAP: "10" } as typeof env, undefined);
    await consumeObservations(services, delivery(name, [0.1, 0.11, 0.12, 0.13, 0.14, 0.15, 0.16, 0.17, 0.18, 0.19], now));
    // Full: keys 0.10 .. 0.19. Of these, only 0.05 and 0.15 are below the bar (0.19).
    const outcome = await consumeObservations(services, delivery(name, [0.5, 0.05, 0.9, 0.15, 0.7], now));
    expect(outcome.samples).toEqual({ written: 2, evicted: 5 });
    const kept = (await samplesOf(name)).map((r) => r.sample_key).sort((a, b) => a - b);
    expect(kept).toEqual([0.05, 0.1, 0.11, 0.12, 0.13, 0.14, 0.15, 0.15, 0.16, 0.17]);
    const counts = await env.DB.prepare(`SELECT rows FROM sample_window_counts WHERE model_name = ?`).bind(name).all<{ rows: number }>();
    expect(counts.results).toEqual([{ rows: 10 }]);
  });
});

describe("D1 failure while sampling", () => {
  it("still answers 200; the failed delivery is counted, logged and retried, and lands once the table is back", async () => {
    const { manifest } = await registerFixture("logistic");
    await observationsSettled();
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const before = samplingStats();
    await env.DB.prepare("ALTER TABLE request_samples RENAME TO request_samples_away").run();
    let requestId: string;
    try {
      const res = await send(ALWAYS, `/models/${manifest.name}/predict`, VALID_ROW);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { request_id: string };
      expect(body).toMatchObject({ model: manifest.name, model_version: "1", risk_tier: expect.any(String) });
      requestId = body.request_id;
      await vi.waitFor(() => expect(samplingStats().failed - before.failed).toBeGreaterThanOrEqual(1), { timeout: 10_000, interval: 20 });
    } finally {
      await env.DB.prepare("ALTER TABLE request_samples_away RENAME TO request_samples").run();
    }
    const entry = logged.mock.calls.map((c) => JSON.parse(String(c[0]))).find((e) => e.where === "observations consumer");
    expect(entry).toMatchObject({ level: "error", rows: 1 });
    expect(entry.error).toMatch(/no such table: request_samples/);
    // The queue redelivers after retry_delay; the row lands once, under the request's id.
    await vi.waitFor(
      async () => expect((await env.DB.prepare("SELECT request_id FROM request_samples WHERE model_name = ?").bind(manifest.name).all()).results).toEqual([{ request_id: requestId }]),
      { timeout: 10_000, interval: 50 },
    );
    expect(samplingStats().written - before.written).toBe(1);
  });
});

describe("pruneSamples", () => {
  it("deletes the windows that ended before the retention cutoff, keeps the rest, and a second run deletes nothing", async () => {
    const db = openDb(env.DB);
    const name = freshName("prune");
    // Older than every other row this file writes, so only this test's rows can fall past the cutoff.
    const now = Date.parse("2025-03-31T12:30:00.000Z");
    const cutoff = now - 30 * 86_400_000;
    const minute = 60_000;
    // 0.1 and 0.2 sit in windows that ended before the cutoff; 0.3 shares the cutoff's hour, so it
    // stays (whole windows go) although it is older than the cutoff.
    const rows = [record(name, 0.1, cutoff - 40 * 86_400_000), record(name, 0.2, cutoff - 31 * minute), record(name, 0.3, cutoff - 1), record(name, 0.4, now)];
    await writeSamples(db, rows, { windowCap: 100 });
    expect(await pruneSamples(db, { retentionDays: 30, now })).toBe(2);
    expect((await samplesOf(name)).map((r) => r.sample_key)).toEqual([0.3, 0.4]);
    const counts = await env.DB.prepare(`SELECT "window", rows FROM sample_window_counts WHERE model_name = ? ORDER BY 1`).bind(name).all();
    expect(counts.results).toEqual([
      { window: sampleWindow(cutoff), rows: 1 },
      { window: sampleWindow(now), rows: 1 },
    ]);
    expect(await pruneSamples(db, { retentionDays: 30, now })).toBe(0);
  });
});

describe("the sampling rate of a version", () => {
  const settingsWith = (rate: string) => parseSettings({ ...env, SAMPLE_RATE: rate });
  // Stored manifests may carry a partial section; monitoringOf fills the rest with defaults.
  const manifestWith = (monitoring: Record<string, unknown> | undefined) => ({ ...fixture("forest").manifest, monitoring }) as Manifest;

  it("is the manifest's monitoring.sample_rate when it sets one, else SAMPLE_RATE", () => {
    expect(sampleRateFor(settingsWith("0.1"), manifestWith({ sample_rate: 0.5 }))).toBe(0.5);
    expect(sampleRateFor(settingsWith("0.1"), manifestWith({}))).toBe(0.1);
    expect(sampleRateFor(settingsWith("0.25"), manifestWith(undefined))).toBe(0.25);
  });

  it("is 0 for every model when SAMPLE_RATE is 0, whatever the manifest says", () => {
    const manifest = manifestWith({ sample_rate: 1 });
    expect(sampleRateFor(settingsWith("1"), manifest)).toBe(1);
    expect(sampleRateFor(settingsWith("0"), manifest)).toBe(0);
  });
});
