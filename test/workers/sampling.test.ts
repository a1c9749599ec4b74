/**
 * Request sampling into real D1: the rate per request, rows per batch, the per-window reservoir, the
 * D1 fault path and retention. Requests go through the whole app with sampling vars of their own
 * (the suite's default SAMPLE_RATE is 0), and waitOnExecutionContext awaits the waitUntil writes.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { pruneSamples, type SampleRecord, samplingStats, sampleWindow, writeSamples } from "../../worker/monitoring/sample-store";
import { openDb } from "../../worker/db/open-db";
import type { Manifest } from "../../worker/contract/manifest";
import { MAX_PENDING_ROWS, sampleRateFor } from "../../worker/monitoring/sample-requests";
import { parseSettings } from "../../worker/settings";
import { fixture, freshName, registerFixture, requestApp, VALID_ROW } from "./helpers";


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

async function samplesOf(name: string): Promise<StoredSample[]> {
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
    const oip = { inputs: Object.entries(VALID_ROW).map(([k, v]) => ({ name: k, shape: [1], datatype: typeof v === "number" ? "FP32" : "BYTES", data: [v] })) };
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

  it("a window keeps at most SAMPLE_WINDOW_CAP rows per model version, evicting past it", async () => {
    const { manifest } = await registerFixture("logistic");
    const before = samplingStats();
    const vars = { ...ALWAYS, SAMPLE_MAX_ROWS_PER_REQUEST: "3", SAMPLE_WINDOW_CAP: "4" };
    // Concurrent, as requests of several isolates would be: D1 runs each batch as one transaction.
    const responses = await Promise.all(Array.from({ length: 5 }, () => send(vars, `/models/${manifest.name}/predict`, batch(3))));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const rows = await samplesOf(manifest.name);
    const perWindow = new Map<string, number>();
    for (const r of rows) perWindow.set(r.window, (perWindow.get(r.window) ?? 0) + 1);
    // Normally one window; a run crossing an hour boundary splits the 15 rows over two.
    for (const count of perWindow.values()) expect(count).toBeLessThanOrEqual(4);
    const counts = await env.DB.prepare(`SELECT "window", rows FROM sample_window_counts WHERE model_name = ?`).bind(manifest.name).all<{ window: string; rows: number }>();
    expect(Object.fromEntries(counts.results.map((c) => [c.window, c.rows]))).toEqual(Object.fromEntries(perWindow));
    expect(rows.length).toBeGreaterThanOrEqual(4);
    const after = samplingStats();
    expect(after.written - before.written).toBe(15);
    expect(after.dropped - before.dropped).toBe(15 - rows.length);
  });
});

/** A sample written straight to the store, at time `ms`, with a chosen reservoir key. */
function record(name: string, sampleKey: number, ms: number): SampleRecord {
  return {
    modelName: name,
    version: 1,
    arm: "production",
    requestId: `r-${sampleKey}`,
    clientRequestId: null,
    rowIndex: 0,
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

describe("D1 failure while sampling", () => {
  it("still answers 200 with the prediction; the failure is counted and logged", async () => {
    const { manifest } = await registerFixture("logistic");
    // The table as every migration so far left it (columns and indexes), to put back afterwards.
    const schema = await env.DB.prepare("SELECT sql FROM sqlite_master WHERE tbl_name = 'request_samples' AND sql IS NOT NULL ORDER BY type = 'index'").all<{ sql: string }>();
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const before = samplingStats();
    await env.DB.prepare("DROP TABLE request_samples").run();
    try {
      const res = await send(ALWAYS, `/models/${manifest.name}/predict`, VALID_ROW);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ model: manifest.name, model_version: "1", risk_tier: expect.any(String) });
    } finally {
      for (const { sql } of schema.results) await env.DB.prepare(sql).run();
    }
    expect(samplingStats().failed - before.failed).toBe(1);
    expect(samplingStats().written).toBe(before.written);
    const entry = logged.mock.calls.map((c) => JSON.parse(String(c[0]))).find((e) => e.where === "request_samples");
    expect(entry).toMatchObject({ level: "error", rows: 1, requests: 1, versions: [`${manifest.name}@1/production`] });
    expect(entry.error).toMatch(/no such table: request_samples/);
    // The restored table takes samples again.
    await send(ALWAYS, `/models/${manifest.name}/predict`, VALID_ROW);
    expect(await samplesOf(manifest.name)).toHaveLength(1);
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

describe("gathering sampled rows per isolate (SAMPLE_FLUSH_MS)", () => {
  it("holds rows within the interval and writes everything held in one batch once it has passed", async () => {
    const { manifest } = await registerFixture("logistic");
    const gather = { ...ALWAYS, SAMPLE_FLUSH_MS: "600000" };
    // An interval just ended: the next request writes what is queued (nothing of this model).
    await send({ ...ALWAYS, SAMPLE_FLUSH_MS: "0" }, `/models/${manifest.name}/predict`, VALID_ROW);
    expect(await samplesOf(manifest.name)).toHaveLength(1);
    const held = [];
    for (let i = 0; i < 3; i++) held.push(((await (await send(gather, `/models/${manifest.name}/predict`, VALID_ROW)).json()) as { request_id: string }).request_id);
    expect(await samplesOf(manifest.name)).toHaveLength(1);
    const last = ((await (await send({ ...ALWAYS, SAMPLE_FLUSH_MS: "0" }, `/models/${manifest.name}/predict`, VALID_ROW)).json()) as { request_id: string }).request_id;
    const rows = await samplesOf(manifest.name);
    expect(rows.map((r) => r.request_id).slice(1)).toEqual([...held, last]);
  });

  it("writes at once when MAX_PENDING_ROWS rows wait, whatever the interval", async () => {
    const { manifest } = await registerFixture("logistic");
    const gather = { ...ALWAYS, SAMPLE_FLUSH_MS: "600000", SAMPLE_MAX_ROWS_PER_REQUEST: "50" };
    await send({ ...ALWAYS, SAMPLE_FLUSH_MS: "0" }, `/models/${manifest.name}/predict`, VALID_ROW);
    await send(gather, `/models/${manifest.name}/predict`, { instances: Array.from({ length: 50 }, () => VALID_ROW) });
    expect(await samplesOf(manifest.name)).toHaveLength(1);
    await send(gather, `/models/${manifest.name}/predict`, { instances: Array.from({ length: 50 }, () => VALID_ROW) });
    expect(await samplesOf(manifest.name)).toHaveLength(1 + 2 * 50);
    expect(MAX_PENDING_ROWS).toBe(100);
  });
});
