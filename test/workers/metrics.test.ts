/**
 * GET /metrics against real D1 in workerd: the scrape parses as Prometheus text with the right family
 * types, counts match the requests made (single, batch, MLflow and OIP, successes and 422/404),
 * the histogram is cumulative, two isolates' buffers sum, a failed flush keeps its deltas, the token
 * guard, compaction leaves the scrape unchanged, and drift_status follows the latest report.
 *
 * Requests go through the whole app with an execution context (helpers.ts requestApp), which awaits
 * the observer's waitUntil work; a scrape flushes its own isolate's buffer before reading D1.
 */
import { env } from "cloudflare:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it, vi } from "vitest";
import { canonicalLabels, CONTENT_TYPE, parseLabels } from "../../worker/metrics/exposition";
import { isolateMetrics } from "../../worker/metrics/isolate-metrics";
import { MetricBuffer } from "../../worker/metrics/metric-buffer";
import { compactMetricBuckets, compactMetricsForCron, minuteOf, TOTAL_MINUTE } from "../../worker/metrics/metric-store";
import { renderMetrics } from "../../worker/metrics/render-metrics";
import { corruptArtifact, type Envelope, freshName, registerFixture, requestApp, VALID_ROW } from "./helpers";
import { oipInputs } from "../helpers/oip-inputs";

const ORIGIN = "https://edge.test";

const call = requestApp;

function post(path: string, body: unknown) {
  return call(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

/** A model whose production (1, logistic) sends every request to a canary (2, forest); its name. */
async function allToTheCanary(): Promise<string> {
  const first = await registerFixture("logistic");
  const name = first.manifest.name;
  await registerFixture("forest", { name, aliases: [] });
  const policy = await call(`/admin/models/${name}/traffic`, {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: `Bearer ${env.ADMIN_TOKEN}` },
    body: JSON.stringify({ canary: { version: 2, percent: 100 }, reason: "all to the canary" }),
  });
  expect(policy.status).toBe(200);
  return name;
}

async function scrapeText(vars: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<string> {
  const res = await call("/metrics", { headers }, vars);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe(CONTENT_TYPE);
  return res.text();
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every sample line, read independently of the parser library (which drops a labelled histogram's labels). */
function sampleLines(text: string): Sample[] {
  return text
    .split("\n")
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const raw = match[3]!;
      return { name: match[1]!, labels: match[2] ? parseLabels(match[2]) : {}, value: raw === "+Inf" ? Infinity : Number(raw) };
    });
}

function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found.reduce((sum, s) => sum + s.value, 0);
}

function valueOf(text: string, name: string, labels: Record<string, string> = {}): number {
  return total(sampleLines(text), name, labels);
}

const EXPECTED_TYPES: Record<string, string> = {
  predictions_total: "COUNTER",
  prediction_latency_seconds: "HISTOGRAM",
  high_risk_predictions_total: "COUNTER",
  prediction_errors_total: "COUNTER",
  samples_written_total: "COUNTER",
  samples_dropped_total: "COUNTER",
  drift_status: "GAUGE",
};

describe("GET /metrics over real prediction traffic", () => {
  it("parses as Prometheus text, every family typed and documented, counts matching the requests made", async () => {
    const { manifest } = await registerFixture("logistic");
    const name = manifest.name;
    const before = await scrapeText();

    const single = await post(`/models/${name}/predict`, VALID_ROW);
    expect(single.status).toBe(200);
    const rows = [VALID_ROW, { ...VALID_ROW, tenure: 1, monthly_charges: 110, contract_type: "Month-to-month" }, { ...VALID_ROW, tenure: 70, contract_type: "Two year" }];
    const batch = await post(`/models/${name}/predict`, { instances: rows });
    expect(batch.status).toBe(200);
    const invalid = await post(`/models/${name}/predict`, { ...VALID_ROW, tenure: "twelve" });
    expect(invalid.status).toBe(422);
    const unknown = await post(`/models/${freshName("nobody")}/predict`, VALID_ROW);
    expect(unknown.status).toBe(404);

    const tiers = [(await single.json()) as { risk_tier: string }, ...((await batch.json()) as { predictions: { risk_tier: string }[] }).predictions].map((p) => p.risk_tier);
    const highest = [...manifest.output.risk_tiers].sort((a, b) => b.min - a.min)[0]!.name;

    const text = await scrapeText();
    const families = parsePrometheusTextFormat(text);
    expect(Object.fromEntries(families.map((f) => [f.name, f.type]))).toEqual(EXPECTED_TYPES);
    for (const family of families) expect(family.help.length).toBeGreaterThan(20);

    const predictions = families.find((f) => f.name === "predictions_total")!;
    const mine = predictions.metrics.filter((m) => m.labels?.model === name);
    expect(mine.map((m) => [m.labels, Number(m.value)])).toEqual([
      [{ arm: "production", model: name, outcome: "client_error", version: "1" }, 1],
      [{ arm: "production", model: name, outcome: "success", version: "1" }, 4],
    ]);
    expect(valueOf(text, "high_risk_predictions_total", { model: name, version: "1" })).toBe(tiers.filter((t) => t === highest).length);
    const errorsOf = (t: string, code: string) => valueOf(t, "prediction_errors_total", { code });
    expect(errorsOf(text, "VALIDATION_FAILED") - errorsOf(before, "VALIDATION_FAILED")).toBe(1);
    expect(errorsOf(text, "NOT_FOUND") - errorsOf(before, "NOT_FOUND")).toBe(1);
    expect(sampleLines(text).some((s) => s.labels.model?.startsWith("nobody"))).toBe(false);
  });

  it("the latency histogram is cumulative over every bound, +Inf equals _count equals the successful requests", async () => {
    const { manifest } = await registerFixture("forest");
    const name = manifest.name;
    for (let i = 0; i < 3; i++) expect((await post(`/models/${name}/predict`, { instances: [VALID_ROW, VALID_ROW] })).status).toBe(200);
    expect((await post(`/models/${name}/versions/1/predict`, VALID_ROW)).status).toBe(200);

    const samples = sampleLines(await scrapeText()).filter((s) => s.labels.model === name);
    const buckets = samples.filter((s) => s.name === "prediction_latency_seconds_bucket");
    expect(buckets.map((b) => b.labels.le)).toEqual(["0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    const count = samples.find((s) => s.name === "prediction_latency_seconds_count")!.value;
    expect(count).toBe(4);
    expect(buckets.at(-1)!.value).toBe(count);
    const sum = samples.find((s) => s.name === "prediction_latency_seconds_sum")!.value;
    expect(sum).toBeGreaterThanOrEqual(0);
    expect(sum).toBeLessThanOrEqual(count * 10);
    // Rows (not requests) in predictions_total, split by the arm that answered.
    const byArm = (arm: string) => total(samples, "predictions_total", { arm, outcome: "success" });
    expect(byArm("production")).toBe(6);
    expect(byArm("version")).toBe(1);
  });

  it("counts MLflow and Open Inference requests, and an OIP 400 under the envelope's own code", async () => {
    const { manifest } = await registerFixture("logistic");
    const name = manifest.name;
    const before = await scrapeText();
    const columns = Object.keys(VALID_ROW);
    const split = { dataframe_split: { columns, data: [Object.values(VALID_ROW), Object.values(VALID_ROW)] } };
    expect((await post(`/models/${name}/invocations`, split)).status).toBe(200);
    const inputs = oipInputs(manifest.features, [VALID_ROW]);
    expect((await post(`/v2/models/${name}/infer`, { inputs })).status).toBe(200);
    const bad = inputs.map((i) => (i.name === "tenure" ? { ...i, data: [-5] } : i));
    const refused = await post(`/v2/models/${name}/infer`, { inputs: bad });
    expect(refused.status).toBe(400);

    const text = await scrapeText();
    expect(valueOf(text, "predictions_total", { model: name, outcome: "success" })).toBe(3);
    expect(valueOf(text, "predictions_total", { model: name, outcome: "client_error" })).toBe(1);
    const validation = (t: string) => valueOf(t, "prediction_errors_total", { code: "VALIDATION_FAILED" });
    expect(validation(text) - validation(before)).toBe(1);
  });

  it("a request the canary would have answered counts its failure against the canary's arm and version", async () => {
    const name = await allToTheCanary();
    expect((await post(`/models/${name}/predict`, { ...VALID_ROW, tenure: -5 })).status).toBe(422);
    expect((await post(`/models/${name}/predict`, VALID_ROW)).status).toBe(200);
    const text = await scrapeText();
    expect(valueOf(text, "predictions_total", { model: name, arm: "canary", version: "2", outcome: "client_error" })).toBe(1);
    expect(valueOf(text, "predictions_total", { model: name, arm: "canary", version: "2", outcome: "success" })).toBe(1);
    expect(total(sampleLines(text), "predictions_total", { model: name, arm: "production" })).toBe(0);
  });

  it("a broken canary never fails a client: the primary answers with x-canary-fallback, and each failure counts against the canary; a 4xx is not retried", async () => {
    const name = await allToTheCanary();
    await corruptArtifact(name, 2);
    const before = await scrapeText();
    for (let i = 0; i < 5; i++) {
      const res = await post(`/models/${name}/predict`, VALID_ROW);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-model-arm")).toBe("primary");
      expect(res.headers.get("x-model-version")).toBe("1");
      expect(res.headers.get("x-canary-fallback")).toBe("1");
    }
    // The request's own fault is answered as it is, by the arm that refused it, and never retried.
    const refused = await post(`/models/${name}/predict`, { ...VALID_ROW, tenure: -5 });
    expect(refused.status).toBe(422);
    expect(refused.headers.get("x-canary-fallback")).toBeNull();
    const text = await scrapeText();
    expect(valueOf(text, "predictions_total", { model: name, arm: "canary", version: "2", outcome: "server_error" })).toBe(5);
    expect(valueOf(text, "predictions_total", { model: name, arm: "canary", version: "2", outcome: "client_error" })).toBe(1);
    expect(valueOf(text, "predictions_total", { model: name, arm: "production", version: "1", outcome: "success" })).toBe(5);
    const unavailable = (t: string) => valueOf(t, "prediction_errors_total", { code: "MODEL_UNAVAILABLE" });
    expect(unavailable(text) - unavailable(before)).toBe(5);
  });

  it("CANARY_FALLBACK=0 lets a broken canary's 503 reach the client, counted against the canary", async () => {
    const name = await allToTheCanary();
    await corruptArtifact(name, 2);
    const res = await call(`/models/${name}/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(VALID_ROW) }, { CANARY_FALLBACK: "0" });
    expect(res.status).toBe(503);
    expect(res.headers.get("x-canary-fallback")).toBeNull();
    expect(((await res.json()) as Envelope).error.code).toBe("MODEL_UNAVAILABLE");
    expect(valueOf(await scrapeText(), "predictions_total", { model: name, arm: "canary", version: "2", outcome: "server_error" })).toBe(1);
  });

  it("a version that cannot serve counts as a server error of that version, by its code", async () => {
    const { manifest } = await registerFixture("logistic");
    const name = manifest.name;
    await corruptArtifact(name, 1);
    const before = await scrapeText();
    const res = await post(`/models/${name}/predict`, VALID_ROW);
    expect(res.status).toBe(503);
    const text = await scrapeText();
    expect(valueOf(text, "predictions_total", { model: name, version: "1", arm: "production", outcome: "server_error" })).toBe(1);
    expect(valueOf(text, "predictions_total", { model: name, outcome: "success" })).toBe(0);
    const unavailable = (t: string) => valueOf(t, "prediction_errors_total", { code: "MODEL_UNAVAILABLE" });
    expect(unavailable(text) - unavailable(before)).toBe(1);
  });

  it("requests within the flush interval write nothing to D1 until the interval passes or a scrape flushes", async () => {
    const { manifest } = await registerFixture("logistic");
    const name = manifest.name;
    await isolateMetrics.flush(env.DB);
    // An interval longer than a waitUntil may live arms no timer: the counts wait for traffic or a scrape.
    const slow = { METRICS_FLUSH_MS: "600000" };
    for (let i = 0; i < 5; i++) expect((await call(`/models/${name}/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(VALID_ROW) }, slow)).status).toBe(200);
    const stored = async () =>
      (await env.DB.prepare("SELECT name, value FROM metric_buckets WHERE labels LIKE ?").bind(`%"${name}"%`).all<{ name: string; value: number }>()).results;
    const storedSum = (rows: { name: string; value: number }[], metric: string) => rows.filter((r) => r.name === metric).reduce((n, r) => n + r.value, 0);
    // workerd's clock only moves on I/O, so these requests come well within the interval.
    expect(await stored()).toEqual([]);
    expect(isolateMetrics.snapshot().find((d) => d.name === "predictions_total" && d.labels.includes(name))?.value).toBe(5);
    expect(valueOf(await scrapeText(), "predictions_total", { model: name, outcome: "success" })).toBe(5);
    // The scrape flushed them: 5 rows scored, 5 requests observed in the latency histogram.
    const flushed = await stored();
    expect(storedSum(flushed, "predictions_total")).toBe(5);
    expect(storedSum(flushed, "prediction_latency_seconds_bucket")).toBe(5);
  });

  it("a quiet isolate writes its counts when METRICS_FLUSH_MS ends, with no request or scrape after them", async () => {
    const { manifest } = await registerFixture("logistic");
    const name = manifest.name;
    await isolateMetrics.flush(env.DB);
    const stored = () => env.DB.prepare("SELECT sum(value) AS n FROM metric_buckets WHERE name = 'predictions_total' AND labels LIKE ?").bind(`%"${name}"%`).first<{ n: number | null }>();
    // The request is not due (the flush above just ran), so it arms the timer; requestApp waits for
    // the request's waitUntil work, which is that timer and its flush.
    const res = await call(`/models/${name}/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(VALID_ROW) }, { METRICS_FLUSH_MS: "300" });
    expect(res.status).toBe(200);
    expect((await stored())!.n).toBe(1);
    expect(isolateMetrics.snapshot().some((d) => d.labels.includes(name))).toBe(false);
  });

  it("flushSoon arms one timer for the end of the interval, flushes at once when due, and never when nothing is pending", async () => {
    let clock = 1_000_000;
    const buffer = new MetricBuffer({ now: () => clock });
    const flushes: number[] = [];
    const work: Promise<unknown>[] = [];
    const flush = () => {
      flushes.push(clock);
      return buffer.flush(env.DB);
    };
    buffer.flushSoon(flush, (w) => work.push(w), 200);
    expect(work).toHaveLength(0);
    buffer.add("predictions_total", { model: freshName("soon") }, 1);
    buffer.flushSoon(flush, (w) => work.push(w), 200);
    expect(flushes).toEqual([clock]);
    await Promise.all(work.splice(0));
    clock += 50;
    buffer.add("predictions_total", { model: freshName("soon") }, 1);
    buffer.flushSoon(flush, (w) => work.push(w), 200);
    buffer.flushSoon(flush, (w) => work.push(w), 200);
    expect(work).toHaveLength(1);
    expect(flushes).toHaveLength(1);
    await Promise.all(work.splice(0));
    expect(flushes).toHaveLength(2);
    expect(buffer.size).toBe(0);
  });

  it("a failing D1 never fails the prediction, and the counts arrive with the next flush", async () => {
    const { manifest } = await registerFixture("logistic");
    const name = manifest.name;
    await env.DB.exec("ALTER TABLE metric_buckets RENAME TO metric_buckets_away");
    try {
      const res = await post(`/models/${name}/predict`, VALID_ROW);
      expect(res.status).toBe(200);
      await expect(isolateMetrics.flush(env.DB)).rejects.toThrow(/metric_buckets/);
      expect(isolateMetrics.snapshot().some((d) => d.name === "predictions_total" && d.labels.includes(name))).toBe(true);
    } finally {
      await env.DB.exec("ALTER TABLE metric_buckets_away RENAME TO metric_buckets");
    }
    const text = await scrapeText();
    expect(valueOf(text, "predictions_total", { model: name, outcome: "success" })).toBe(1);
  });
});

describe("per-isolate buffers", () => {
  it("two isolates flushing to the same D1 sum in the scrape, sampling counters as deltas", async () => {
    const model = freshName("two-isolates");
    let sampledA = { written: 10, dropped: 2, failed: 0 };
    const a = new MetricBuffer({ samplingStats: () => sampledA });
    const b = new MetricBuffer({ samplingStats: () => ({ written: 0, dropped: 0, failed: 0 }) });
    const labels = { arm: "production", model, outcome: "success", version: "1" };
    a.add("predictions_total", labels, 3);
    b.add("predictions_total", labels, 4);
    b.add("high_risk_predictions_total", { model, version: "1" }, 2);
    const before = await scrapeText();
    sampledA = { written: 17, dropped: 3, failed: 1 };
    await Promise.all([a.flush(env.DB), b.flush(env.DB)]);
    a.add("predictions_total", labels, 5);
    sampledA = { written: 20, dropped: 3, failed: 1 };
    await a.flush(env.DB);

    const text = await scrapeText();
    expect(valueOf(text, "predictions_total", { model })).toBe(12);
    expect(valueOf(text, "high_risk_predictions_total", { model })).toBe(2);
    const delta = (name: string, l: Record<string, string> = {}) => valueOf(text, name, l) - valueOf(before, name, l);
    // Growth since each buffer was created: 20 - 10 written, 3 - 2 evicted, 1 failed.
    expect(delta("samples_written_total")).toBe(10);
    expect(delta("samples_dropped_total", { reason: "reservoir" })).toBe(1);
    expect(delta("samples_dropped_total", { reason: "write_failed" })).toBe(1);
    expect(a.size).toBe(0);
    expect(b.size).toBe(0);
  });

  it("a failed flush keeps every delta, and the retry counts them once", async () => {
    const model = freshName("retry");
    const buffer = new MetricBuffer();
    buffer.add("predictions_total", { model, version: "1", arm: "production", outcome: "success" }, 2);
    await env.DB.exec("ALTER TABLE metric_buckets RENAME TO metric_buckets_away");
    try {
      await expect(buffer.flush(env.DB)).rejects.toThrow();
      await expect(buffer.flush(env.DB)).rejects.toThrow();
    } finally {
      await env.DB.exec("ALTER TABLE metric_buckets_away RENAME TO metric_buckets");
    }
    buffer.add("predictions_total", { model, version: "1", arm: "production", outcome: "success" }, 1);
    expect(buffer.snapshot()).toEqual([{ name: "predictions_total", labels: `arm="production",model="${model}",outcome="success",version="1"`, value: 3 }]);
    const outcome = await buffer.flush(env.DB);
    expect(outcome).toMatchObject({ series: 1, minute: minuteOf(Date.now()) });
    // One new series: its row and its primary-key entry.
    expect(outcome!.rowsWritten).toBe(2);
    expect(valueOf(await scrapeText(), "predictions_total", { model })).toBe(3);
  });

  it("flushes at most once per interval, and holds at most maxSeries series", async () => {
    let clock = 1_000_000;
    const buffer = new MetricBuffer({ flushIntervalMs: 10_000, maxSeries: 2, now: () => clock });
    expect(buffer.due()).toBe(false);
    buffer.add("predictions_total", { model: freshName("cap"), outcome: "success" }, 1);
    expect(buffer.due()).toBe(true);
    await buffer.flush(env.DB);
    buffer.add("predictions_total", { model: "a", outcome: "success" }, 1);
    clock += 9_999;
    expect(buffer.due()).toBe(false);
    clock += 1;
    expect(buffer.due()).toBe(true);
    buffer.add("predictions_total", { model: "b", outcome: "success" }, 1);
    buffer.add("predictions_total", { model: "c", outcome: "success" }, 1);
    buffer.add("predictions_total", { model: "a", outcome: "success" }, 1);
    expect(buffer.size).toBe(2);
    expect(buffer.droppedIncrements).toBe(1);
    expect(buffer.snapshot().map((d) => d.value)).toEqual([2, 1]);
  });
});

describe("METRICS_TOKEN", () => {
  const TOKEN = "metrics-token-0123456789";

  it("when set: no token 401, a wrong one 403, both in the envelope; the right one 200", async () => {
    const missing = await call("/metrics", {}, { METRICS_TOKEN: TOKEN });
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
    expect(((await missing.json()) as Envelope).error.code).toBe("UNAUTHORIZED");
    const basic = await call("/metrics", { headers: { authorization: `Basic ${btoa("a:b")}` } }, { METRICS_TOKEN: TOKEN });
    expect(basic.status).toBe(401);
    const wrong = await call("/metrics", { headers: { authorization: `Bearer ${TOKEN}x` } }, { METRICS_TOKEN: TOKEN });
    expect(wrong.status).toBe(403);
    expect(((await wrong.json()) as Envelope).error.code).toBe("FORBIDDEN");
    const text = await scrapeText({ METRICS_TOKEN: TOKEN }, { authorization: `Bearer ${TOKEN}` });
    expect(text).toContain("# TYPE predictions_total counter");
  });

  it("when unset, /metrics is open", async () => {
    expect((await call("/metrics")).status).toBe(200);
  });
});

describe("compactMetricBuckets", () => {
  it("folds old minutes into one total row per series; the scrape is unchanged, and so is a second run", async () => {
    const model = freshName("compact");
    const now = Date.parse("2026-11-30T12:00:30Z");
    const labels = `model="${model}",version="1"`;
    const insert = env.DB.prepare("INSERT INTO metric_buckets (minute, name, labels, value) VALUES (?, ?, ?, ?)");
    await env.DB.batch([
      insert.bind("2026-11-30T09:00Z", "high_risk_predictions_total", labels, 2),
      insert.bind("2026-11-30T10:59Z", "high_risk_predictions_total", labels, 3),
      insert.bind("2026-11-30T11:59Z", "high_risk_predictions_total", labels, 5),
      insert.bind("2026-11-30T10:00Z", "prediction_latency_seconds_bucket", `le="0.005",${labels}`, 7),
      insert.bind("2026-11-30T11:30Z", "prediction_latency_seconds_bucket", `le="0.01",${labels}`, 1),
    ]);
    const rowsOf = async () =>
      (await env.DB.prepare("SELECT minute, name, value FROM metric_buckets WHERE labels LIKE ? ORDER BY name, minute, labels").bind(`%${model}%`).all()).results;
    const before = await scrapeText();

    const result = await compactMetricBuckets(env.DB, { now, keepMinutes: 60 });
    expect(result.cutoff).toBe("2026-11-30T11:00Z");
    expect(await scrapeText()).toBe(before);
    expect(await rowsOf()).toEqual([
      { minute: "2026-11-30T11:59Z", name: "high_risk_predictions_total", value: 5 },
      { minute: TOTAL_MINUTE, name: "high_risk_predictions_total", value: 5 },
      { minute: "2026-11-30T11:30Z", name: "prediction_latency_seconds_bucket", value: 1 },
      { minute: TOTAL_MINUTE, name: "prediction_latency_seconds_bucket", value: 7 },
    ]);
    expect(valueOf(before, "high_risk_predictions_total", { model })).toBe(10);
    expect(valueOf(before, "prediction_latency_seconds_count", { model })).toBe(8);

    // Later minutes fold into the same total row; the scrape still does not move.
    await compactMetricBuckets(env.DB, { now: now + 3 * 3_600_000, keepMinutes: 60 });
    expect(await scrapeText()).toBe(before);
    expect(await rowsOf()).toEqual([
      { minute: TOTAL_MINUTE, name: "high_risk_predictions_total", value: 10 },
      { minute: TOTAL_MINUTE, name: "prediction_latency_seconds_bucket", value: 7 },
      { minute: TOTAL_MINUTE, name: "prediction_latency_seconds_bucket", value: 1 },
    ]);
  });
});

describe("compactMetricsForCron", () => {
  it("logs a failure instead of throwing, so the rest of the cron runs", async () => {
    const lines: string[] = [];
    const logged = vi.spyOn(console, "error").mockImplementation((line: unknown) => void lines.push(String(line)));
    await env.DB.exec("ALTER TABLE metric_buckets RENAME TO metric_buckets_away");
    try {
      expect(await compactMetricsForCron(env.DB, Date.now())).toBeNull();
    } finally {
      await env.DB.exec("ALTER TABLE metric_buckets_away RENAME TO metric_buckets");
      logged.mockRestore();
    }
    const entry = lines.map((line) => JSON.parse(line) as Record<string, string>).find((e) => e.where === "metrics compaction");
    expect(entry?.error).toMatch(/metric_buckets/);
    expect(await compactMetricsForCron(env.DB, Date.now())).toMatchObject({ cutoff: minuteOf(Date.now() - 60 * 60_000) });
  });
});

describe("drift_status", () => {
  async function insertReport(name: string, version: number, windowStart: string, status: string, report: unknown) {
    await env.DB.prepare("INSERT INTO drift_reports (model_name, version, window_start, window_end, status, report) VALUES (?, ?, ?, ?, ?, ?)")
      .bind(name, version, windowStart, windowStart, status, typeof report === "string" ? report : JSON.stringify(report))
      .run();
  }

  it("reflects the latest report per version: features, scores and overall as 0 / 1 / -1", async () => {
    const { manifest } = await registerFixture("logistic");
    const name = manifest.name;
    await insertReport(name, 1, "2026-11-30T10:00:00.000Z", "ok", { status: "ok", features: [{ name: "tenure", status: "ok" }], predictions: { status: "ok" } });
    await insertReport(name, 1, "2026-11-30T11:00:00.000Z", "drift", {
      status: "drift",
      features: [
        { name: "tenure", status: "drift" },
        { name: "contract_type", status: "ok" },
        { name: "num_products", status: "insufficient_data" },
      ],
      predictions: { status: "drift" },
    });
    const drift = sampleLines(await scrapeText()).filter((s) => s.name === "drift_status" && s.labels.model === name);
    expect(Object.fromEntries(drift.map((s) => [s.labels.feature, s.value]))).toEqual({
      __overall__: 1,
      tenure: 1,
      contract_type: 0,
      num_products: -1,
      __scores__: 1,
    });
    expect(drift.every((s) => s.labels.version === "1")).toBe(true);
  });

  it("an archived version's report is not shown", async () => {
    const { manifest } = await registerFixture("logistic", { aliases: [] });
    await insertReport(manifest.name, 1, "2026-11-30T11:00:00.000Z", "drift", { status: "drift", features: [{ name: "tenure", status: "drift" }] });
    const shown = async () => sampleLines(await scrapeText()).filter((s) => s.name === "drift_status" && s.labels.model === manifest.name).length;
    expect(await shown()).toBe(2);
    await env.DB.prepare("UPDATE model_versions SET status = 'archived' WHERE model_name = ?").bind(manifest.name).run();
    expect(await shown()).toBe(0);
  });

  it("a report that does not parse still gives its overall status; no_samples reads -1", async () => {
    const { manifest } = await registerFixture("logistic");
    await insertReport(manifest.name, 1, "2026-11-30T11:00:00.000Z", "no_samples", "{not json");
    const drift = sampleLines(await scrapeText()).filter((s) => s.name === "drift_status" && s.labels.model === manifest.name);
    expect(drift.map((s) => [s.labels.feature, s.value])).toEqual([["__overall__", -1]]);
  });
});

describe("exposition format", () => {
  it("escapes label values so a parser reads back backslash, quote and line feed", () => {
    const odd = 'a\\b "quoted"\nline';
    const labels = canonicalLabels({ version: "1", model: odd, arm: "production", outcome: "success" });
    expect(labels).toBe('arm="production",model="a\\\\b \\"quoted\\"\\nline",outcome="success",version="1"');
    expect(parseLabels(labels)).toEqual({ arm: "production", model: odd, outcome: "success", version: "1" });
    const text = renderMetrics([{ name: "predictions_total", labels, value: 2 }], [{ model: odd, version: 3, feature: "tenure", value: -1 }]);
    const families = parsePrometheusTextFormat(text);
    const predictions = families.find((f) => f.name === "predictions_total")!;
    expect(predictions.metrics).toEqual([{ labels: { arm: "production", model: odd, outcome: "success", version: "1" }, value: "2" }]);
    const drift = families.find((f) => f.name === "drift_status")!;
    expect(drift.metrics).toEqual([{ labels: { feature: "tenure", model: odd, version: "3" }, value: "-1" }]);
    expect(text.endsWith("\n")).toBe(true);
  });

  it("prints the sampling counters at 0 before any sample, and no histogram series without observations", () => {
    const samples = sampleLines(renderMetrics([], []));
    expect(samples).toEqual([
      { name: "samples_written_total", labels: {}, value: 0 },
      { name: "samples_dropped_total", labels: { reason: "reservoir" }, value: 0 },
      { name: "samples_dropped_total", labels: { reason: "write_failed" }, value: 0 },
    ]);
  });
});
