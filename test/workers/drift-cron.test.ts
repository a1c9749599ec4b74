/**
 * The monitoring cron in workerd with real D1 and R2: the served trained model, a reference.json from
 * the trainer's builder, sampled rows in request_samples, and the Worker's own `scheduled` handler.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { sortTiers } from "../../worker/contract/decision";
import { type FeatureRow, type Manifest, monitoringOf } from "../../worker/contract/manifest";
import { ATTRIBUTION_MAX_ROWS, attributionDriftSchema } from "../../worker/monitoring/attribution-drift";
import { groundTruthSection } from "../../worker/feedback/realized";
import { runDriftCron } from "../../worker/monitoring/cron";
import type { DriftReport } from "../../worker/monitoring/drift-report-types";
import { benjaminiHochberg } from "../../worker/monitoring/drift-stats";
import { sampleWindow } from "../../worker/monitoring/sample-store";
import { artifactKey } from "../../worker/registry/r2-keys";
import { createServices } from "../../worker/services";
import { callWorker, customers, DAY_MS, fireCron, putReference, reportsOf, SCHEDULED, scoreRows, WINDOW_END, WINDOW_START, writeWindowSamples } from "./drift-setup";
import { type Envelope, failingFields, get, registerFixture } from "./helpers";

const FEATURES = ["tenure", "monthly_charges", "total_charges", "num_products", "contract_type", "payment_method", "internet_service"];

/** The trained model under a fresh name, serving production, with a reference from 1,000 generated customers. */
async function servedModel(options: { patch?: (m: Manifest) => void; reference?: boolean } = {}) {
  const { manifest } = await registerFixture("trained", { patch: options.patch });
  if (options.reference !== false) await putReference(manifest.name, 1, manifest, customers(manifest, { rows: 1000, seed: "reference" }));
  return manifest;
}

/** 600 customers: monthly_charges +15 after the fact (total_charges untouched), Mailed check five times as likely. */
function driftedCustomers(manifest: Manifest, seed = "drifted") {
  return customers(manifest, {
    rows: 600,
    seed,
    drift: { payment_method: { reweight: { "Mailed check": 5 } } },
    edit: (row) => (row.monthly_charges = Number(row.monthly_charges) + 15),
  });
}

function parsed(row: { report: string }): DriftReport {
  return JSON.parse(row.report) as DriftReport;
}

describe("drift reports from the cron", () => {
  let drifted: Manifest;
  let steady: Manifest;

  beforeAll(async () => {
    drifted = await servedModel();
    await writeWindowSamples(drifted.name, 1, drifted, driftedCustomers(drifted));
    steady = await servedModel();
    await writeWindowSamples(steady.name, 1, steady, customers(steady, { rows: 600, seed: "steady" }));
    await fireCron();
  });

  it("flags exactly the shifted numeric feature and the re-mixed categorical one", async () => {
    const [row] = await reportsOf(drifted.name);
    expect(row).toMatchObject({ version: 1, window_start: WINDOW_START, window_end: WINDOW_END, status: "drift" });
    const report = parsed(row!);
    expect(report.drifted_features).toEqual(["monthly_charges", "payment_method"]);
    expect(report.features.map((f) => f.name)).toEqual(FEATURES);
    for (const f of report.features) {
      expect(f.status, f.name).toBe(f.name === "monthly_charges" || f.name === "payment_method" ? "drift" : "ok");
      expect(f.current_n).toBe(600);
    }
    const monthly = report.features.find((f) => f.name === "monthly_charges")!;
    expect(monthly).toMatchObject({ kind: "numeric", test: "ks", method: "exact", reference_n: 1000 });
    expect(monthly.p_value!).toBeLessThan(1e-6);
    expect(monthly.psi!).toBeGreaterThan(0.2);
    if (monthly.kind !== "numeric") throw new Error("numeric expected");
    expect(monthly.bins.reference_shares).toHaveLength(monthly.bins.edges.length + 1);
    expect(monthly.bins.current_shares.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    expect(monthly.current_mean! - monthly.reference_mean!).toBeCloseTo(15, 0);
    const payment = report.features.find((f) => f.name === "payment_method")!;
    if (payment.kind !== "categorical") throw new Error("categorical expected");
    const mailed = payment.categories.find((c) => c.value === "Mailed check")!;
    expect(mailed.current_share).toBeGreaterThan(mailed.reference_share * 1.8);
    expect(payment.categories.at(-1)!.value).toBe("__other__");
    expect(report.samples).toEqual({ total: 600, by_arm: { production: 600 } });
    expect(report.settings).toEqual({ alpha: 0.05, psi_threshold: 0.2, min_samples: 100, correction: "benjamini-hochberg", window_hours: 24, alert: true });
  });

  it("uses the monitoring settings the trainer copied into the manifest", () => {
    expect(drifted.monitoring).toEqual(monitoringOf({}));
  });

  it("reads ok for traffic from the reference's distribution, with every section filled", async () => {
    const [row] = await reportsOf(steady.name);
    const report = parsed(row!);
    expect(report.status).toBe("ok");
    expect(report.drifted_features).toEqual([]);
    expect(report.features.every((f) => f.status === "ok" && f.p_value !== null && f.psi !== null)).toBe(true);
    const predictions = report.predictions!;
    expect(predictions.status).toBe("ok");
    expect(predictions).toMatchObject({ current_n: 600, reference_n: 1000 });
    expect(predictions.ks!.p_value).toBeGreaterThan(0.05);
    expect(predictions.histogram.edges).toHaveLength(9);
    expect(predictions.positive_rate.reference).not.toBeNull();
    expect(predictions.risk_tiers.tiers.map((t) => t.name)).toEqual(sortTiers(steady.output.risk_tiers).map((t) => t.name));
    expect(predictions.risk_tiers.tiers.reduce((s, t) => s + t.current_count, 0)).toBe(600);
  });

  it("Benjamini–Hochberg adjusts the features' p-values together", async () => {
    const report = parsed((await reportsOf(steady.name))[0]!);
    const raw = report.features.map((f) => f.p_value!);
    expect(report.features.map((f) => f.p_value_adjusted)).toEqual(benjaminiHochberg(raw));
  });

  it("is idempotent: a second run leaves the same row, and a forced recomputation writes the same report", async () => {
    const before = await reportsOf(drifted.name);
    await fireCron();
    expect(await reportsOf(drifted.name)).toEqual(before);
    const services = createServices(env, undefined);
    const summary = await runDriftCron(services, {
      scheduledTime: SCHEDULED,
      force: true,
      model: drifted.name,
      // As the Worker's scheduled handler wires it.
      groundTruth: (r, manifest) => groundTruthSection(services.db, { model: r.model, version: r.version, windowStart: r.window.start, windowEnd: r.window.end, manifest }),
    });
    expect(summary.versions).toEqual([{ model: drifted.name, version: 1, windowStart: WINDOW_START, status: "drift", skipped: false, alert: null }]);
    const after = await reportsOf(drifted.name);
    expect(after).toHaveLength(1);
    expect(after[0]!.report).toBe(before[0]!.report);
    expect(after[0]!.created_at).toBe(before[0]!.created_at);
  });
});

describe("from real prediction traffic", () => {
  it("rows sampled by /predict itself are reported, and the drift is found on exactly the shifted features", async () => {
    const manifest = await servedModel();
    // The worker stamps samples with Date.now(): pinned to one UTC day, so no midnight can split them.
    const today = Date.UTC(2026, 2, 10);
    vi.useFakeTimers({ toFake: ["Date"], now: today + 12 * 3_600_000 });
    try {
      await scoreRows(manifest.name, driftedCustomers(manifest, "served"), { SAMPLE_RATE: "1", SAMPLE_MAX_ROWS_PER_REQUEST: "50" });
    } finally {
      vi.useRealTimers();
    }
    // The cron five minutes into the next day reports on that day (UTC), where these samples landed.
    await fireCron(today + DAY_MS + 5 * 60_000);
    const [row] = await reportsOf(manifest.name);
    expect(row).toMatchObject({ window_start: new Date(today).toISOString(), status: "drift" });
    const report = parsed(row!);
    expect(report.samples).toEqual({ total: 600, by_arm: { production: 600 } });
    expect(report.drifted_features).toEqual(["monthly_charges", "payment_method"]);
  });
});

describe("ground truth in the report", () => {
  it("labels joined to the window's predictions fill the section, and late labels refresh a settled report", async () => {
    const manifest = await servedModel();
    await writeWindowSamples(manifest.name, 1, manifest, customers(manifest, { rows: 150, seed: "labelled" }));
    await fireCron();
    const first = parsed((await reportsOf(manifest.name))[0]!);
    expect(first.ground_truth).toMatchObject({ labels: { count: 0 }, realized: { status: "insufficient_labels" } });

    const { results } = await env.DB.prepare("SELECT request_id, row_index, probability, created_at FROM request_samples WHERE model_name = ? ORDER BY id")
      .bind(manifest.name)
      .all<{ request_id: string; row_index: number; probability: number; created_at: string }>();
    const label = (rows: typeof results, offset: number) =>
      env.DB.batch(
        rows.map((r, i) =>
          env.DB.prepare(
            "INSERT INTO prediction_labels (request_id, row_index, model_name, version, label, probability, predicted_at, joined_by) VALUES (?, ?, ?, 1, ?, ?, ?, 'sample')",
          ).bind(r.request_id, r.row_index, manifest.name, (r.probability >= 0.5) !== ((i + offset) % 5 === 0) ? 1 : 0, r.probability, r.created_at),
        ),
      );
    await label(results.slice(0, 120), 0);
    await fireCron();
    const refreshed = parsed((await reportsOf(manifest.name))[0]!);
    expect(refreshed.ground_truth).toMatchObject({ labels: { count: 120, joined_by: { sample: 120 } }, realized: { status: "ok" } });
    expect({ ...refreshed, ground_truth: undefined }).toEqual({ ...first, ground_truth: undefined });
    // Without new labels a run writes nothing.
    const settled = await reportsOf(manifest.name);
    await fireCron();
    expect(await reportsOf(manifest.name)).toEqual(settled);

    // The next day's run reports on 10 Jan and still refreshes 9 Jan, which got its last labels late.
    await label(results.slice(120), 120);
    await fireCron(SCHEDULED + DAY_MS);
    const [earlier, next] = await reportsOf(manifest.name);
    expect(next!.window_start).toBe(WINDOW_END);
    expect(parsed(earlier!).ground_truth).toMatchObject({ labels: { count: 150 } });
  });
});

describe("GET /monitoring/models/:name/drift", () => {
  it("answers the latest report of each serving version and the history, newest first", async () => {
    const manifest = await servedModel();
    await writeWindowSamples(manifest.name, 1, manifest, driftedCustomers(manifest));
    // Two windows: 9 Jan (drift) and 10 Jan (no samples).
    await fireCron();
    await fireCron(SCHEDULED + DAY_MS);
    const res = await get(`/monitoring/models/${manifest.name}/drift`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      model: string;
      latest: { version: number; arms: string[]; report: { window_start: string; status: string; report: DriftReport; alert: unknown } }[];
      history: { version: number; window_start: string; window_end: string; status: string; report: DriftReport }[];
    };
    expect(body.model).toBe(manifest.name);
    expect(body.latest.map((l) => [l.version, l.arms, l.report.window_start, l.report.status])).toEqual([[1, ["production"], WINDOW_END, "no_samples"]]);
    expect(body.history.map((h) => [h.window_start, h.status])).toEqual([
      [WINDOW_END, "no_samples"],
      [WINDOW_START, "drift"],
    ]);
    expect(body.history[1]!.report.drifted_features).toEqual(["monthly_charges", "payment_method"]);
    // Aggregates only: no sampled row or request id leaves through this route.
    expect(JSON.stringify(body)).not.toMatch(/req-|request_id|Electronic check","monthly/);

    const limited = (await (await get(`/monitoring/models/${manifest.name}/drift?limit=1&version=1`)).json()) as typeof body;
    expect(limited.history.map((h) => h.window_start)).toEqual([WINDOW_END]);
    const other = (await (await get(`/monitoring/models/${manifest.name}/drift?version=7`)).json()) as typeof body;
    expect(other).toEqual({ model: manifest.name, latest: [], history: [] });
  });

  it("404 for an unknown model, 422 naming each bad query parameter", async () => {
    const missing = await get("/monitoring/models/no-such-model/drift");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Envelope).error.code).toBe("NOT_FOUND");
    const manifest = await servedModel({ reference: false });
    const bad = await get(`/monitoring/models/${manifest.name}/drift?limit=0&version=abc`);
    expect(bad.status).toBe(422);
    expect(failingFields((await bad.json()) as Envelope)).toEqual(["limit", "version"]);
  });
});

describe("what a report says when it cannot test", () => {
  it("below min_samples every feature reads insufficient_data, never ok", async () => {
    const manifest = await servedModel();
    await writeWindowSamples(manifest.name, 1, manifest, customers(manifest, { rows: 40, seed: "few" }));
    await fireCron();
    const report = parsed((await reportsOf(manifest.name))[0]!);
    expect(report.status).toBe("insufficient_data");
    expect(report.features.map((f) => f.status)).toEqual(FEATURES.map(() => "insufficient_data"));
    expect(report.features[0]!.note).toMatch(/40 current values, fewer than min_samples 100/);
    // The statistics are still shown, only not decided on.
    expect(report.features.every((f) => f.p_value !== null)).toBe(true);
    expect(report.predictions!.status).toBe("insufficient_data");
  });

  it("a feature drifts only where it has enough values: a large shift on a few rows is still insufficient", async () => {
    const manifest = await servedModel({ patch: (m) => (m.monitoring = { ...monitoringOf(m), min_samples: 500 }) });
    await writeWindowSamples(manifest.name, 1, manifest, driftedCustomers(manifest).slice(0, 400));
    await fireCron();
    const report = parsed((await reportsOf(manifest.name))[0]!);
    const monthly = report.features.find((f) => f.name === "monthly_charges")!;
    expect(monthly.p_value!).toBeLessThan(1e-6);
    expect(monthly.status).toBe("insufficient_data");
    expect(report.status).toBe("insufficient_data");
    expect(report.settings.min_samples).toBe(500);
  });

  it("no samples in the window: a no_samples report", async () => {
    const manifest = await servedModel();
    // A sample outside the window (the day before) does not count.
    await writeWindowSamples(manifest.name, 1, manifest, customers(manifest, { rows: 5, seed: "early" }), { startMs: Date.parse(WINDOW_START) - DAY_MS });
    await fireCron();
    const [row] = await reportsOf(manifest.name);
    expect(row).toMatchObject({ status: "no_samples", window_start: WINDOW_START });
    const report = parsed(row!);
    expect(report).toMatchObject({ status: "no_samples", samples: { total: 0 }, features: [], predictions: null });
    expect(report.reason).toMatch(/no sampled requests/);
  });

  it("no reference.json: a no_reference report naming the key", async () => {
    const manifest = await servedModel({ reference: false });
    await writeWindowSamples(manifest.name, 1, manifest, customers(manifest, { rows: 5, seed: "x" }));
    await fireCron();
    const report = parsed((await reportsOf(manifest.name))[0]!);
    expect(report.status).toBe("no_reference");
    expect(report.reason).toContain(artifactKey(manifest.name, 1, "reference.json"));
    expect(report.samples.total).toBe(0);
  });

  it("a reference that does not parse, or does not match the schema: no_reference saying why", async () => {
    const broken = await servedModel({ reference: false });
    await env.MODELS.put(artifactKey(broken.name, 1, "reference.json"), "{ not json");
    const wrong = await servedModel({ reference: false });
    await env.MODELS.put(artifactKey(wrong.name, 1, "reference.json"), JSON.stringify({ schema_version: 1, rows: 3 }));
    await fireCron();
    expect(parsed((await reportsOf(broken.name))[0]!).reason).toMatch(/reference.json is not valid JSON/);
    expect(parsed((await reportsOf(wrong.name))[0]!).reason).toMatch(/does not match the drift reference schema/);
  });

  it("a version whose manifest no longer parses gets an error report; the others still run", async () => {
    const corrupt = await servedModel();
    await env.DB.prepare("UPDATE model_versions SET manifest = '{' WHERE model_name = ?").bind(corrupt.name).run();
    const healthy = await servedModel();
    await writeWindowSamples(healthy.name, 1, healthy, customers(healthy, { rows: 150, seed: "healthy" }));
    await fireCron();
    const [failed] = await reportsOf(corrupt.name);
    expect(failed).toMatchObject({ status: "error", window_start: WINDOW_START });
    expect(parsed(failed!).reason).toMatch(/JSON/);
    expect((await reportsOf(healthy.name))[0]!.status).toBe("ok");
  });
});

/** Mean |contribution| per feature over the rows, as /predict?explain=all answers them (50 rows a request). */
async function meanAbsThroughPredict(name: string, rows: readonly FeatureRow[]): Promise<Record<string, number>> {
  const sums: Record<string, number> = {};
  for (let i = 0; i < rows.length; i += 50) {
    const res = await callWorker(`/models/${name}/predict?explain=all`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ instances: rows.slice(i, i + 50) }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { predictions: { explanation: { contributions: { feature: string; contribution: number }[] } }[] };
    for (const p of body.predictions) for (const c of p.explanation.contributions) sums[c.feature] = (sums[c.feature] ?? 0) + Math.abs(c.contribution);
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / rows.length]));
}

/** A window that ends in the future, so its report is not final yet and a later run recomputes it. */
function openWindow() {
  const scheduledTime = (Math.floor(Date.now() / DAY_MS) + 2) * DAY_MS + 5 * 60_000;
  return { scheduledTime, startMs: scheduledTime - 5 * 60_000 - DAY_MS };
}

describe("attribution drift in the report", () => {
  it("explains the 200 sampled rows with the smallest keys: mean |contribution| per feature beside the training-time importance", async () => {
    const manifest = await servedModel();
    const importance = manifest.explainer!.importance!;
    expect(importance.split).toBe("validation");
    const rows = customers(manifest, { rows: 300, seed: "attribution" });
    await writeWindowSamples(manifest.name, 1, manifest, rows);
    await fireCron();
    const report = parsed((await reportsOf(manifest.name))[0]!);
    expect(report.status).toBe("ok");
    const attribution = report.attribution!;
    expect(attributionDriftSchema.parse(attribution)).toEqual(attribution);
    expect(attribution).toMatchObject({
      status: "ok",
      space: "probability",
      rows: 200,
      window_rows: 300,
      skipped_rows: 0,
      max_rows: ATTRIBUTION_MAX_ROWS,
      selection: "smallest_sample_key",
      reference: { split: "validation", rows: importance.rows },
    });
    if (attribution.status !== "ok") throw new Error("ok expected");
    expect(attribution.features.map((f) => f.name)).toEqual(FEATURES);
    // writeWindowSamples gives row i the key (i + 0.5) / 300: the 200 smallest are the first 200 rows.
    const expected = await meanAbsThroughPredict(manifest.name, rows.slice(0, 200));
    for (const f of attribution.features) {
      expect(f.reference, f.name).toBe(importance.mean_abs[f.name]);
      expect(f.current, f.name).toBeCloseTo(expected[f.name]!, 12);
    }
    // Customers like the training data's: the window leans on the features about as training did.
    const ratio = attribution.features.reduce((sum, f) => sum + f.current, 0) / attribution.features.reduce((sum, f) => sum + f.reference!, 0);
    expect(ratio).toBeGreaterThan(0.7);
    expect(ratio).toBeLessThan(1.4);
  });

  it("a version without an explainer gets no attribution block, and that is not an error", async () => {
    const { manifest } = await registerFixture("forest");
    expect(manifest.explainer).toBeUndefined();
    await putReference(manifest.name, 1, manifest, customers(manifest, { rows: 300, seed: "reference" }));
    await writeWindowSamples(manifest.name, 1, manifest, customers(manifest, { rows: 150, seed: "no-explainer" }));
    await fireCron();
    const report = parsed((await reportsOf(manifest.name))[0]!);
    expect(report.status).toBe("ok");
    expect(report).not.toHaveProperty("attribution");
  });

  it("an explainer that does not load leaves the report standing, with attribution error saying why", async () => {
    const manifest = await servedModel();
    await env.MODELS.delete(artifactKey(manifest.name, 1, "explainer.json"));
    await writeWindowSamples(manifest.name, 1, manifest, customers(manifest, { rows: 150, seed: "no-explainer-file" }));
    await fireCron();
    const [row] = await reportsOf(manifest.name);
    expect(row!.status).toBe("ok");
    const report = parsed(row!);
    expect(report.features).toHaveLength(FEATURES.length);
    expect(report.attribution).toEqual({ status: "error", reason: expect.stringContaining(`explainer.json is missing from storage (${artifactKey(manifest.name, 1, "explainer.json")})`) });
  });

  it("is computed once per window: a recomputed report keeps the block while the chosen rows are the same", async () => {
    const manifest = await servedModel();
    const { scheduledTime, startMs } = openWindow();
    await writeWindowSamples(manifest.name, 1, manifest, customers(manifest, { rows: 250, seed: "open-window" }), { startMs, spanMs: 12 * 3_600_000 });
    const services = createServices(env, undefined);
    const run = (force = false) => runDriftCron(services, { scheduledTime, model: manifest.name, force });
    const stored = async () => parsed((await reportsOf(manifest.name)).find((r) => r.window_start === new Date(startMs).toISOString())!);
    await run();
    const first = (await stored()).attribution!;
    expect(first).toMatchObject({ status: "ok", rows: 200, window_rows: 250 });
    // Mark the stored block: a run that explained the rows again would overwrite the mark.
    await env.DB.prepare("UPDATE drift_reports SET report = json_set(report, '$.attribution.features[0].current', 12.5) WHERE model_name = ?").bind(manifest.name).run();
    // A late row with a larger key than the 200 chosen ones: the report is recomputed, the block kept.
    await writeWindowSamples(manifest.name, 1, manifest, customers(manifest, { rows: 1, seed: "late" }), { startMs: startMs + 13 * 3_600_000, sampleKey: () => 0.99 });
    await run();
    const kept = await stored();
    expect(kept.samples.total).toBe(251);
    expect(kept.attribution).toMatchObject({ rows_fingerprint: (first as { rows_fingerprint: string }).rows_fingerprint, window_rows: 251 });
    expect((kept.attribution as { features: { current: number }[] }).features[0]!.current).toBe(12.5);
    // A late row among the smallest keys changes the chosen rows: explained again.
    await writeWindowSamples(manifest.name, 1, manifest, customers(manifest, { rows: 1, seed: "early-key" }), { startMs: startMs + 14 * 3_600_000, sampleKey: () => 0 });
    await run();
    const recomputed = (await stored()).attribution!;
    expect(recomputed).toMatchObject({ status: "ok", rows: 200, window_rows: 252 });
    expect((recomputed as { features: { current: number }[] }).features[0]!.current).toBeLessThan(1);
    expect((recomputed as { rows_fingerprint: string }).rows_fingerprint).not.toBe((first as { rows_fingerprint: string }).rows_fingerprint);
    // force explains again even when the rows are the same.
    await env.DB.prepare("UPDATE drift_reports SET report = json_set(report, '$.attribution.features[0].current', 12.5) WHERE model_name = ?").bind(manifest.name).run();
    await run(true);
    expect((await stored()).attribution).toEqual(recomputed);
  });
});

describe("which versions, which windows", () => {
  it("reports on the production version and on one serving canary, each with its own window, counting every arm", async () => {
    const manifest = await servedModel();
    const { publish, fixture } = await import("./helpers");
    const second = fixture("trained");
    second.manifest.name = manifest.name;
    second.manifest.monitoring = { ...monitoringOf(second.manifest), window_hours: 6 };
    await publish({ manifest: second.manifest, onnx: second.onnx, explainer: second.explainer, createdBy: "test", aliases: ["canary"], reason: "canary" });
    await putReference(manifest.name, 2, second.manifest, customers(manifest, { rows: 1000, seed: "reference" }));
    await writeWindowSamples(manifest.name, 1, manifest, customers(manifest, { rows: 200, seed: "v1" }));
    // Version 2's last complete 6-hour window before 00:05 is 18:00-24:00 on 9 Jan.
    await writeWindowSamples(manifest.name, 2, second.manifest, customers(manifest, { rows: 150, seed: "v2" }), {
      startMs: Date.parse("2026-01-09T18:00:00Z"),
      spanMs: 6 * 3_600_000,
      arm: "canary",
    });
    await writeWindowSamples(manifest.name, 2, second.manifest, customers(manifest, { rows: 50, seed: "v2s" }), {
      startMs: Date.parse("2026-01-09T18:00:00Z"),
      spanMs: 6 * 3_600_000,
      arm: "version",
    });
    await fireCron();
    const rows = await reportsOf(manifest.name);
    expect(rows.map((r) => [r.version, r.window_start, r.window_end, r.status])).toEqual([
      [1, WINDOW_START, WINDOW_END, "ok"],
      [2, "2026-01-09T18:00:00.000Z", WINDOW_END, "ok"],
    ]);
    expect(parsed(rows[1]!).samples).toEqual({ total: 200, by_arm: { canary: 150, version: 50 } });
  });

  it("prunes samples past retention after reporting", async () => {
    const manifest = await servedModel();
    const old = SCHEDULED - 40 * DAY_MS;
    await writeWindowSamples(manifest.name, 1, manifest, customers(manifest, { rows: 3, seed: "old" }), { startMs: old, spanMs: 1000 });
    await writeWindowSamples(manifest.name, 1, manifest, customers(manifest, { rows: 3, seed: "new" }), { startMs: SCHEDULED - DAY_MS, spanMs: 1000 });
    await fireCron(SCHEDULED, { SAMPLE_RETENTION_DAYS: "30" });
    const { results } = await env.DB.prepare("SELECT \"window\" FROM request_samples WHERE model_name = ?").bind(manifest.name).all<{ window: string }>();
    expect(results.map((r) => r.window)).toEqual([sampleWindow(SCHEDULED - DAY_MS), sampleWindow(SCHEDULED - DAY_MS), sampleWindow(SCHEDULED - DAY_MS)]);
  });
});
