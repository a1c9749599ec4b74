/**
 * GET /monitoring through the whole worker over real D1: drift reports written here in the shape
 * the cron stores (drift-report-types.ts), alias moves made through the registry, sampled rows in
 * request_samples. Checks sections, charts with real sizes, escaping of user-supplied text, empty
 * states, the query bounds and the 404 envelope.
 */
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { DASHBOARD_LIMITS } from "../../worker/monitoring/dashboard-data";
import type { CategoricalFeatureDrift, DriftReport, NumericFeatureDrift } from "../../worker/monitoring/drift-report-types";
import { openDb } from "../../worker/db/open-db";
import { setAlias } from "../../worker/registry/aliases";
import { customers, fireCron, putReference, writeWindowSamples } from "./drift-setup";
import { type Envelope, get, registerFixture } from "./helpers";

const HOUR = 3_600_000;
const BASE = Date.parse("2026-11-30T00:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

const SETTINGS = { alpha: 0.01, psi_threshold: 0.1, min_samples: 50, correction: "none", window_hours: 1, alert: false } as const;

function numeric(name: string, p: number, drift: boolean): NumericFeatureDrift {
  return {
    name,
    kind: "numeric",
    test: "ks",
    method: "exact",
    statistic: drift ? 0.42 : 0.03,
    p_value: p,
    psi: drift ? 0.9 : 0.01,
    reference_n: 1000,
    current_n: 400,
    current_missing: 0,
    reference_missing_share: 0,
    status: drift ? "drift" : "ok",
    bins: { edges: [10, 20, 30], reference_shares: [0.25, 0.25, 0.25, 0.25], current_shares: drift ? [0.05, 0.1, 0.25, 0.6] : [0.26, 0.24, 0.25, 0.25] },
    reference_mean: 20,
    current_mean: drift ? 35 : 20.2,
    reference_range: [1, 72],
    current_range: [1, 90],
  };
}

function categorical(name: string, p: number, categories: string[], unseen: string[] = []): CategoricalFeatureDrift {
  return {
    name,
    kind: "categorical",
    test: "chi2",
    dof: categories.length - 1,
    statistic: 120.5,
    p_value: p,
    psi: 0.4,
    reference_n: 2000,
    current_n: 400,
    current_missing: 3,
    reference_missing_share: 0,
    status: p < 0.01 ? "drift" : "ok",
    categories: categories.map((value, i) => ({ value, reference_share: 1 / categories.length, current_share: i === 0 ? 0.7 : 0.3 / (categories.length - 1), reference_count: 10, current_count: 5 })),
    unseen_values: unseen.map((value) => ({ value, count: 7 })),
  };
}

function report(name: string, version: number, start: number, p: number, categories = ["Month-to-month", "One year", "Two year", "__other__"], unseen: string[] = []): DriftReport {
  const features = [numeric("tenure", 0.6, false), numeric("monthly_charges", p, p < 0.01), categorical("contract_type", p, categories, unseen)];
  return {
    schema_version: 1,
    model: name,
    version,
    window: { start: iso(start), end: iso(start + HOUR) },
    status: p < 0.01 ? "drift" : "ok",
    samples: { total: 403, by_arm: { production: 403 } },
    settings: SETTINGS,
    reference: { split: "validation", rows: 2000, sample_size: 1000 },
    drifted_features: features.filter((f) => f.status === "drift").map((f) => f.name),
    features,
    predictions: {
      current_n: 403,
      reference_n: 1000,
      ks: { statistic: 0.2, p_value: 1e-5, method: "exact" },
      psi: 0.3,
      histogram: { edges: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], reference_shares: [0.3, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05, 0.04, 0.03, 0.03], current_shares: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1] },
      positive_rate: { threshold: 0.5, reference: 0.27, current: 0.5 },
      risk_tiers: {
        tiers: [
          { name: "HIGH", reference_share: 0.1, current_share: 0.3, reference_count: 100, current_count: 120 },
          { name: "LOW", reference_share: 0.9, current_share: 0.7, reference_count: 900, current_count: 283 },
        ],
        test: "chi2",
        statistic: 50,
        p_value: 1e-6,
        dof: 1,
      },
      status: "drift",
    },
  };
}

async function insertReport(r: DriftReport | { raw: string; name: string; version: number; start: number; status: string }) {
  const [name, version, start, status, text] =
    "raw" in r ? [r.name, r.version, iso(r.start), r.status, r.raw] : [r.model, r.version, r.window.start, r.status, JSON.stringify(r)];
  await env.DB.prepare("INSERT INTO drift_reports (model_name, version, window_start, window_end, status, report) VALUES (?, ?, ?, ?, ?, ?)")
    .bind(name, version, start, iso(Date.parse(start) + HOUR), status, text)
    .run();
}

async function page(query: string) {
  const res = await get(`/monitoring${query}`);
  return { res, body: await res.text() };
}

/** Every <svg> with its class and numeric width/height attributes. */
function svgs(body: string) {
  return [...body.matchAll(/<svg class="chart ([^"]+)"[^>]* width="([\d.]+)" height="([\d.]+)"/g)].map((m) => ({ kind: m[1]!, width: Number(m[2]), height: Number(m[3]) }));
}

describe("GET /monitoring with drift reports", () => {
  it("renders versions, aliases, status, the feature table and every chart with a real size", async () => {
    const { manifest } = await registerFixture("logistic");
    const name = manifest.name;
    await insertReport(report(name, 1, BASE - 2 * HOUR, 0.4));
    await insertReport(report(name, 1, BASE - HOUR, 0.05));
    await insertReport(report(name, 1, BASE, 1e-12));

    const { res, body } = await page(`?model=${name}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    for (const section of ["Versions and aliases", "Features", "Reference vs current distributions", "Scores", "p-values over time", "Recent alias moves"]) {
      expect(body).toContain(section);
    }
    expect(body).toContain(`data-model="${name}"`);
    expect(body).toMatch(/<span class="alias alias-production">production<\/span>/);
    // The newest report is the one described: drift, its window, its sample count.
    expect(body).toMatch(/v1 · production <span class="badge drift"/);
    expect(body).toContain("window 2026-11-30 00:00–01:00 UTC");
    expect(body).toContain("<strong>403</strong> sampled rows (production 403)");
    expect(body).toContain("Drifted: <strong>monthly_charges, contract_type</strong>");
    const featureRows = [...body.matchAll(/<tr class="feature (\w+)" data-feature="([^"]+)">/g)].map((m) => [m[2], m[1]]);
    expect(featureRows).toEqual([
      ["tenure", "ok"],
      ["monthly_charges", "drift"],
      ["contract_type", "drift"],
    ]);
    expect(body).toContain("1.0e-12");

    const charts = svgs(body);
    expect(charts.map((c) => c.kind).sort()).toEqual(["distribution", "distribution", "distribution", "p-values", "risk-tiers", "score-histogram"]);
    for (const chart of charts) {
      expect(chart.width).toBeGreaterThan(0);
      expect(chart.height).toBeGreaterThan(0);
    }
    // A numeric feature has a bar per reference bin and side; the categorical one a bar per category.
    const monthly = body.slice(body.indexOf('<figure class="feature-chart flagged" data-feature="monthly_charges"'));
    expect(monthly.slice(0, monthly.indexOf("</figure>")).match(/<rect class="bar (reference|current)"/g)).toHaveLength(8);
    expect(monthly).toContain("&gt; 30: current 60.0%");
    // p-values over time: one line per feature plus the scores, three points each, and the alpha line.
    const pChart = body.slice(body.indexOf('<svg class="chart p-values"'));
    expect(pChart.match(/<g class="series"/g)).toHaveLength(4);
    expect(pChart.slice(0, pChart.indexOf("</svg>")).match(/<circle /g)).toHaveLength(3 * 3 + 3);
    expect(pChart).toContain('<line class="alpha"');
    expect(pChart).toContain("alpha = 0.01");
  });

  it("escapes a hostile alias reason, actor-chosen text and category names from reports", async () => {
    const { manifest } = await registerFixture("logistic");
    const name = manifest.name;
    const hostile = `<script>alert("x")</script>`;
    await setAlias(openDb(env.DB), { name, alias: "canary", version: 1, by: "tester", reason: `bad ${hostile}` });
    await insertReport(report(name, 1, BASE, 0.001, ["Month-to-month", `"><img src=x onerror=alert(1)>`, "__other__"], [`<b>Weekly</b>`]));

    const { res, body } = await page(`?model=${name}`);
    expect(res.status).toBe(200);
    expect(body).not.toContain("<script>");
    expect(body).not.toContain("<img");
    expect(body).not.toContain("<b>Weekly</b>");
    expect(body).toContain("bad &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(body).toContain("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    expect(body).toContain("<q>&lt;b&gt;Weekly&lt;/b&gt;</q> (7)");
    // The canary move is listed (newest first), with who and from→to.
    expect(body).toMatch(/<td><span class="alias alias-canary">canary<\/span><\/td><td>new → v1<\/td><td>tester<\/td>/);
    // production and canary point at the same version: one section for both.
    expect(body).toContain("v1 · production + canary");
  });

  it("shows the ground-truth section: realized metrics from labels beside what the scores expect", async () => {
    const { manifest } = await registerFixture("logistic");
    const withLabels: DriftReport = {
      ...report(manifest.name, 1, BASE, 0.5),
      ground_truth: {
        labels: { count: 250, positives: 60, negatives: 190, joined_by: { token: 200, sample: 50, shadow: 0 } },
        min_labels: 100,
        realized: { status: "ok", roc_auc: 0.8123, precision: 0.61, recall: 0.55, predicted_positive_rate: 0.2 },
        expected: { basis: "unlabelled sampled predictions", count: 153, roc_auc: 0.79, precision: 0.6, recall: 0.5, positive_rate: 0.24, predicted_positive_rate: 0.21 },
      },
    };
    await insertReport(withLabels);
    const { body } = await page(`?model=${manifest.name}`);
    expect(body).toContain("250 labels (60 positive), at least 100 needed");
    expect(body).toContain('<tr><td>ROC AUC</td><td class="num">0.812</td><td class="num">0.790</td></tr>');
    expect(body).toContain("Expected from scores (153 unlabelled)");
  });

  it("draws attribution drift: two bars per feature on a value axis, the numbers in a table, and says why when it failed", async () => {
    const { manifest } = await registerFixture("logistic");
    const withAttribution: DriftReport = {
      ...report(manifest.name, 1, BASE, 0.5),
      attribution: {
        status: "ok",
        space: "log_odds",
        rows: 200,
        window_rows: 403,
        skipped_rows: 2,
        max_rows: 200,
        selection: "smallest_sample_key",
        rows_fingerprint: "0123456789abcdef",
        reference: { split: "validation", rows: 500 },
        features: [
          { name: "tenure", reference: 0.08, current: 0.05 },
          { name: "contract_type", reference: 0.1, current: 0.2 },
        ],
      },
    };
    await insertReport(withAttribution);
    const { body } = await page(`?model=${manifest.name}`);
    expect(body).toContain("Attribution: mean |contribution| per feature");
    expect(body).toContain("log-odds space · current: 200 of the window's 403 sampled rows (the 200 with the smallest sample keys at most, 2 that no longer validate left out) · reference: 500 validation rows at training");
    const chart = body.slice(body.indexOf('<svg class="chart attribution"'));
    const svg = chart.slice(0, chart.indexOf("</svg>"));
    expect(svgs(body).filter((c) => c.kind === "attribution")).toEqual([{ kind: "attribution", width: 220, height: 180 }]);
    expect(svg.match(/<rect class="bar (reference|current)"/g)).toEqual(['<rect class="bar reference"', '<rect class="bar current"', '<rect class="bar reference"', '<rect class="bar current"']);
    // The axis runs to 0.2 (the largest value): contract_type's current bar spans the plot, 124 px.
    expect(svg).toContain('<rect class="bar current" x="100" y="10" width="17" height="124" fill="#e8772e"><title>contract_type: current 0.2</title></rect>');
    expect(svg).toContain("<title>tenure: reference 0.08</title>");
    expect(body).toContain('<tr data-feature="tenure"><td>tenure</td><td class="num">0.08</td><td class="num">0.05</td><td class="num">-0.03</td></tr>');
    expect(body).toContain('<tr data-feature="contract_type"><td>contract_type</td><td class="num">0.1</td><td class="num">0.2</td><td class="num">+0.1</td></tr>');

    const { manifest: failing } = await registerFixture("logistic");
    await insertReport({ ...report(failing.name, 1, BASE, 0.5), attribution: { status: "error", reason: "explainer.json is missing <here>" } });
    const failed = await page(`?model=${failing.name}`);
    expect(failed.body).toContain("Attribution drift could not be computed for this window: explainer.json is missing &lt;here&gt;");
    expect(svgs(failed.body).some((c) => c.kind === "attribution")).toBe(false);
    // No attribution in the report (a version without an explainer): no section at all.
    expect((await page(`?model=${manifest.name}`)).body.match(/Attribution/g)).toHaveLength(1);
  });

  it("draws at most DASHBOARD_LIMITS.reports windows in the p-value history", async () => {
    const { manifest } = await registerFixture("logistic");
    const total = DASHBOARD_LIMITS.reports + 5;
    for (let i = 0; i < total; i++) await insertReport(report(manifest.name, 1, BASE - i * HOUR, 0.5));
    const { body } = await page(`?model=${manifest.name}`);
    const pChart = body.slice(body.indexOf('<svg class="chart p-values"'));
    const tenure = pChart.slice(pChart.indexOf('data-feature="tenure"'));
    expect(tenure.slice(0, tenure.indexOf("</g>")).match(/<circle /g)).toHaveLength(DASHBOARD_LIMITS.reports);
    expect(body).toContain(`${DASHBOARD_LIMITS.reports} reports`);
  });
});

describe("GET /monitoring over the cron's own report", () => {
  it("shows what the cron wrote: every feature's chart, the flagged ones, scores and p-values", async () => {
    const { manifest } = await registerFixture("trained");
    await putReference(manifest.name, 1, manifest, customers(manifest, { rows: 1000, seed: "dash-reference" }));
    const drifted = customers(manifest, { rows: 400, seed: "dash-drifted", edit: (row) => (row.monthly_charges = Number(row.monthly_charges) + 15) });
    await writeWindowSamples(manifest.name, 1, manifest, drifted);
    await fireCron();
    const stored = await env.DB.prepare("SELECT report FROM drift_reports WHERE model_name = ?").bind(manifest.name).first<{ report: string }>();
    const report = JSON.parse(stored!.report) as DriftReport;
    expect(report.drifted_features).toContain("monthly_charges");

    const { res, body } = await page(`?model=${manifest.name}`);
    expect(res.status).toBe(200);
    const flagged = [...body.matchAll(/<tr class="feature drift" data-feature="([^"]+)">/g)].map((m) => m[1]);
    expect(flagged).toEqual(report.drifted_features);
    const charts = svgs(body);
    expect(charts.filter((c) => c.kind === "distribution")).toHaveLength(manifest.features.length);
    expect(charts.map((c) => c.kind)).toEqual(expect.arrayContaining(["score-histogram", "risk-tiers", "p-values", "attribution"]));
    expect(report.attribution).toMatchObject({ status: "ok", rows: 200, window_rows: 400 });
    const attribution = body.slice(body.indexOf('<svg class="chart attribution"'));
    expect(attribution.slice(0, attribution.indexOf("</svg>")).match(/<rect class="bar (reference|current)"/g)).toHaveLength(2 * manifest.features.length);
    expect(body).toContain(`<strong>${report.samples.total}</strong> sampled rows`);
  });
});

describe("GET /monitoring empty and degraded states", () => {
  it("says what is missing: no report yet (with the local cron command), sampling off, no serving alias, no moves", async () => {
    const serving = await registerFixture("logistic");
    const idle = await registerFixture("logistic", { aliases: [] });
    // The page reads Date.now(): pinned, so "today" here and in the page is one day even at midnight.
    const day = 24 * HOUR;
    const now = Date.UTC(2026, 2, 10, 23, 59, 59, 900);
    vi.useFakeTimers({ toFake: ["Date"], now });
    let body: string;
    try {
      ({ body } = await page(`?model=${serving.manifest.name}`));
    } finally {
      vi.useRealTimers();
    }
    expect(body).toContain("No drift report yet: the cron runs hourly");
    // The hint's time is just after the current 24 h window (the manifest's default), so firing it reports today.
    const time = Number(body.match(/curl 'https:\/\/edge\.test\/cdn-cgi\/handler\/scheduled\?cron=5\+\*\+\*\+\*\+\*&amp;time=(\d+)'/)?.[1]);
    expect(time).toBe(Date.UTC(2026, 2, 11) + 60_000);
    expect(time).toBe((Math.floor(now / day) + 1) * day + 60_000);
    expect(body).toContain("reports each 24 h window once it has ended");
    expect(body).toContain("sampling is off");
    expect(body).toContain("no report yet");
    expect(svgs(body)).toEqual([]);

    const other = await page(`?model=${idle.manifest.name}`);
    expect(other.res.status).toBe(200);
    expect(other.body).toContain(`No version of ${idle.manifest.name} is production, canary or shadow`);
    expect(other.body).toContain("No alias moves recorded.");
  });

  it("shows the newest sampled hour's score histogram before any report, binned like the reference", async () => {
    const { manifest } = await registerFixture("logistic");
    const name = manifest.name;
    const window = "2026-11-30T05:00:00.000Z";
    // 0.2 sits on an edge: bins are right-closed, so it counts in 0.1–0.2, as in the reference.
    const scores = [0.05, 0.15, 0.2, 0.95];
    const insert = env.DB.prepare(
      `INSERT INTO request_samples (model_name, version, arm, request_id, row_index, features, probability, prediction, risk_tier, latency_ms, created_at, "window", sample_key)
       VALUES (?, 1, 'production', ?, 0, '{}', ?, 0, 'LOW', 3, ?, ?, ?)`,
    );
    await env.DB.batch([
      ...scores.map((p, i) => insert.bind(name, `r${i}`, p, window, window, i / 10)),
      // An older window must not be mixed in.
      insert.bind(name, "old", 0.55, "2026-11-30T04:00:00.000Z", "2026-11-30T04:00:00.000Z", 0.9),
      env.DB.prepare(`INSERT INTO sample_window_counts ("window", model_name, version, rows) VALUES (?, ?, 1, 4), ('2026-11-30T04:00:00.000Z', ?, 1, 1)`).bind(window, name, name),
    ]);
    const { body } = await page(`?model=${name}`);
    expect(body).toContain("sampled hour 2026-11-30 05:00 UTC, n 4");
    const chart = body.slice(body.indexOf('<svg class="chart score-histogram"'));
    const shown = [...chart.slice(0, chart.indexOf("</svg>")).matchAll(/<title>([^<]+): current ([\d.]+)%<\/title>/g)].map((m) => [m[1], Number(m[2])]);
    expect(shown).toEqual([
      ["≤ 0.1", 25],
      ["0.1–0.2", 50],
      ["0.2–0.3", 0],
      ["0.3–0.4", 0],
      ["0.4–0.5", 0],
      ["0.5–0.6", 0],
      ["0.6–0.7", 0],
      ["0.7–0.8", 0],
      ["0.8–0.9", 0],
      ["&gt; 0.9", 25],
    ]);
  });

  it("shows a report without samples by its reason, and a corrupt stored report without failing the page", async () => {
    const { manifest } = await registerFixture("logistic");
    const name = manifest.name;
    const empty: DriftReport = {
      ...report(name, 1, BASE - HOUR, 1),
      status: "no_samples",
      reason: "no sampled requests for version 1 in this window",
      samples: { total: 0, by_arm: {} },
      features: [],
      drifted_features: [],
      predictions: null,
    };
    await insertReport(empty);
    let { res, body } = await page(`?model=${name}`);
    expect(res.status).toBe(200);
    expect(body).toContain('<span class="badge no_samples" data-status="no_samples">no samples</span>');
    expect(body).toContain("no samples: no sampled requests for version 1 in this window");
    expect(body).toContain("No report with tested features yet");

    await insertReport({ raw: "{not json", name, version: 1, start: BASE, status: "ok" });
    ({ res, body } = await page(`?model=${name}`));
    expect(res.status).toBe(200);
    expect(body).toContain("could not be read (status ok)");
  });

  it("lists every model without ?model= and answers 404 in the error envelope for an unknown one", async () => {
    const a = await registerFixture("logistic");
    const b = await registerFixture("logistic");
    const all = await page("");
    expect(all.res.status).toBe(200);
    expect(all.body).toContain(`data-model="${a.manifest.name}"`);
    expect(all.body).toContain(`data-model="${b.manifest.name}"`);
    expect(all.body).toContain(`href="/monitoring?model=${a.manifest.name}"`);

    const res = await get("/monitoring?model=no-such-model");
    expect(res.status).toBe(404);
    const envelope = (await res.json()) as Envelope;
    expect(envelope.error.code).toBe("NOT_FOUND");
    expect(envelope.error.message).toBe("model no-such-model is not registered");
    expect(res.headers.get("x-request-id")).toBe(envelope.error.request_id);
  });
});
