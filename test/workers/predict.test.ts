/**
 * Happy paths through real onnxruntime-web sessions inside workerd, on real ONNX files exported by
 * the trainer's exporter: the per-row prediction contract, batches, generic routes, aliases and versions,
 * manifest-driven thresholds and tiers, unknown categories, imputation, and a corrupted artifact.
 */
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../../worker/app";
import { reaches } from "../../worker/contract/decision";
import { riskTier } from "../../worker/contract/manifest";
import { getSession } from "../../worker/inference/model-cache";
import { openDb } from "../../worker/db/open-db";
import { setAlias } from "../../worker/registry/aliases";
import { getVersionRow } from "../../worker/registry/versions";
import { sha256Hex } from "../../worker/contract/sha256";
import { verifyPredictionToken } from "../../worker/feedback/prediction-token";
import { corruptArtifact, type Envelope, postJson, registerFixture, twoVersions, VALID_ROW } from "./helpers";
import { oipInputs } from "../helpers/oip-inputs";

type Single = Record<string, unknown> & { churn_probability: number; churn_prediction: boolean; risk_tier: string; model_version: string; request_id: string };

describe("POST /predict (per-row prediction contract)", () => {
  it("scores the default model's production version and reproduces the trainer's golden rows", async () => {
    const { manifest, version } = await registerFixture("forest", { name: "churn-classifier" });
    for (const golden of manifest.golden) {
      const res = await postJson("/predict", golden.input);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Single;
      expect(Object.keys(body)).toEqual(["churn_probability", "churn_prediction", "risk_tier", "prediction_token", "model", "model_version", "request_id"]);
      // 4 decimals as displayed; tolerance covers that rounding only.
      expect(Math.abs(body.churn_probability - golden.probability)).toBeLessThanOrEqual(0.00005 + 1e-9);
      expect(body.churn_prediction).toBe(golden.probability >= 0.5);
      expect(body.risk_tier).toBe(riskTier(manifest, golden.probability));
      expect(body.model_version).toBe(String(version));
      expect(res.headers.get("x-model-version")).toBe(String(version));
      expect(res.headers.get("x-request-id")).toBe(body.request_id);
    }
    const tiers = new Set(manifest.golden.map((g) => riskTier(manifest, g.probability)));
    expect(tiers.size).toBeGreaterThanOrEqual(2); // the goldens exercise more than one tier
  });
});

describe("prediction tokens", () => {
  it("sign each row's model, version, request id, row and exact probability, on every protocol", async () => {
    const { version } = await registerFixture("forest", { name: "churn-classifier" });
    const res = await postJson("/predict", { instances: [VALID_ROW, { ...VALID_ROW, tenure: 60 }, VALID_ROW] });
    const body = (await res.json()) as { predictions: { churn_probability: number; prediction_token: string }[]; request_id: string };
    const claims = await Promise.all(body.predictions.map(async (p) => verifyPredictionToken(env, p.prediction_token)));
    claims.forEach((verdict, i) => {
      if (!verdict.ok) throw new Error(verdict.reason);
      expect(verdict.claim).toMatchObject({ model: "churn-classifier", version, requestId: body.request_id, rowIndex: i });
      expect(Math.abs(verdict.claim.probability - body.predictions[i]!.churn_probability)).toBeLessThanOrEqual(0.00005 + 1e-9);
    });
    expect(new Set(body.predictions.map((p) => p.prediction_token)).size).toBe(3);

    const mlflow = (await (await postJson("/invocations", { dataframe_records: [VALID_ROW] })).json()) as { predictions: { prediction_token: string }[] };
    expect((await verifyPredictionToken(env, mlflow.predictions[0]!.prediction_token)).ok).toBe(true);
  });

  it("are left out without PREDICTION_TOKEN_SECRET, even with an admin token, and the isolate says so once", async () => {
    await registerFixture("forest", { name: "churn-classifier" });
    const app = createApp();
    const warned = vi.spyOn(console, "warn").mockImplementation(() => {});
    // The admin token is set: it must not stand in as the key (a public token would be an oracle for it).
    const keyless = { ...env, PREDICTION_TOKEN_SECRET: "" };
    for (let i = 0; i < 2; i++) {
      const res = await app.request("/predict", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(VALID_ROW) }, keyless);
      expect(res.status).toBe(200);
      expect(Object.keys((await res.json()) as object)).not.toContain("prediction_token");
    }
    const offNotices = warned.mock.calls.filter(([line]) => String(line).includes("prediction tokens are off"));
    expect(offNotices).toHaveLength(1);
    expect(String(offNotices[0]![0])).toContain("PREDICTION_TOKEN_SECRET is not set");
    warned.mockRestore();
  });
});

describe("batches", () => {
  it("answers {predictions} from one run, row for row equal to single calls", async () => {
    const { manifest } = await registerFixture("logistic");
    const instances = manifest.golden.map((g) => g.input);
    const res = await postJson(`/models/${manifest.name}/predict`, { instances });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { predictions: Single[]; model_version: string };
    expect(body.predictions).toHaveLength(instances.length);
    for (const [i, golden] of manifest.golden.entries()) {
      expect(Math.abs(body.predictions[i]!.churn_probability - golden.probability)).toBeLessThanOrEqual(0.00005 + 1e-9);
    }
    const single = (await (await postJson(`/models/${manifest.name}/predict`, instances[3])).json()) as Single;
    expect(single.churn_probability).toBe(body.predictions[3]!.churn_probability);
  });

  it("accepts exactly the configured maximum", async () => {
    const { manifest } = await registerFixture("boosting");
    const res = await postJson(`/models/${manifest.name}/predict`, { instances: Array.from({ length: 50 }, () => VALID_ROW) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { predictions: unknown[] }).predictions).toHaveLength(50);
  });
});

describe("thresholds and tiers come from the manifest", () => {
  it("a version with its own threshold and tiers answers accordingly, on both sides of the cut", async () => {
    // The cut lies halfway between the two lowest goldens, so one row is below it and the rest above.
    const sorted = fixtureManifest("forest").golden.map((g) => g.probability).sort((a, b) => a - b);
    expect(sorted[1]! - sorted[0]!).toBeGreaterThan(0.01);
    const cut = Math.round(((sorted[0]! + sorted[1]!) / 2) * 1000) / 1000;
    const { manifest } = await registerFixture("forest", {
      patch: (m) => {
        m.output.threshold = cut;
        m.output.risk_tiers = [{ name: "WATCH", min: cut }, { name: "OK", min: 0 }];
      },
    });
    const low = manifest.golden.reduce((a, b) => (a.probability < b.probability ? a : b));
    const body = (await (await postJson(`/models/${manifest.name}/predict`, low.input)).json()) as Single;
    expect(body.churn_prediction).toBe(false);
    expect(body.risk_tier).toBe("OK");
    const high = manifest.golden.reduce((a, b) => (a.probability > b.probability ? a : b));
    const hi = (await (await postJson(`/models/${manifest.name}/predict`, high.input)).json()) as Single;
    expect(hi.churn_prediction).toBe(true);
    expect(hi.risk_tier).toBe("WATCH");
  });

  it("a row whose float32 probability equals the bound reaches it (bounds compared at float32)", async () => {
    const { row, p } = await rawProbability(0);
    // A double just above p that rounds to p in float32: as doubles p < bound, at float32 they are equal.
    const bound = p * (1 + 2 ** -26);
    expect(bound > p && Math.fround(bound) === p).toBe(true);
    const body = await predictWithBound(bound, row);
    expect(body.churn_prediction).toBe(true);
    expect(body.risk_tier).toBe("HIGH");
    expect(body.churn_probability).toBeGreaterThanOrEqual(bound);
  });

  it("the displayed probability never contradicts the decision: just below the threshold shows below it", async () => {
    // A row whose probability 4-decimal rounding would lift onto the threshold (like 0.49996 -> 0.5).
    const { row, p } = await rawProbability((q) => Math.round(q * 1e4) / 1e4 > q);
    const threshold = Math.round(p * 1e4) / 1e4;
    expect(reaches(p, threshold)).toBe(false);
    const body = await predictWithBound(threshold, row);
    expect(body.churn_prediction).toBe(false);
    expect(body.risk_tier).toBe("LOW");
    expect(body.churn_probability).toBe(Math.round((threshold - 0.0001) * 1e4) / 1e4);
  });
});

/** Scores a row on the logistic fixture with `bound` as its threshold and as its HIGH tier's lower bound. */
async function predictWithBound(bound: number, row: Record<string, unknown>) {
  const { manifest } = await registerFixture("logistic", {
    patch: (m) => {
      m.output.threshold = bound;
      m.output.risk_tiers = [{ name: "HIGH", min: bound }, { name: "LOW", min: 0 }];
    },
  });
  return (await (await postJson(`/models/${manifest.name}/predict`, row)).json()) as Single;
}

function fixtureManifest(kind: "forest" | "logistic") {
  return env.TEST_FIXTURES.find((f) => f.name === `churn-${kind}`)!.manifest;
}

/** The logistic fixture's raw float32 probability for a golden row, as this server computes it (OIP tensor). */
async function rawProbability(which: number | ((p: number) => boolean)) {
  const { manifest } = await registerFixture("logistic");
  const rows = manifest.golden.map((g) => g.input);
  const inputs = oipInputs(manifest.features, rows, { column: true });
  const res = await postJson(`/v2/models/${manifest.name}/infer`, { inputs, outputs: [{ name: manifest.onnx.output }] });
  expect(res.status).toBe(200);
  const data = ((await res.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data;
  const ps = rows.map((_, i) => data[2 * i + 1]!);
  const i = typeof which === "number" ? which : ps.findIndex(which);
  expect(i).toBeGreaterThanOrEqual(0);
  return { row: rows[i]!, p: ps[i]! };
}

describe("unknown categories and missing values", () => {
  it("scores an unseen payment method as one-hot 'ignore' and says so", async () => {
    const { manifest } = await registerFixture("logistic");
    const known = (await (await postJson(`/models/${manifest.name}/predict`, VALID_ROW)).json()) as Single;
    const res = await postJson(`/models/${manifest.name}/predict`, { ...VALID_ROW, payment_method: "Crypto wallet" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-unknown-categories")).toBe("payment_method=1");
    const unknown = (await res.json()) as Single;
    // "ignore" encodes every unseen value as the same all-zero block: two different unseen values
    // score identically, and differently from the known value (this model weighs payment_method).
    const other = (await (await postJson(`/models/${manifest.name}/predict`, { ...VALID_ROW, payment_method: "Cash" })).json()) as Single;
    expect(other.churn_probability).toBe(unknown.churn_probability);
    expect(unknown.churn_probability).not.toBe(known.churn_probability);
    const quiet = await postJson(`/models/${manifest.name}/predict`, VALID_ROW);
    expect(quiet.headers.get("x-unknown-categories")).toBeNull();
  });

  it("trims category values as the trainer does, for closed and open features alike", async () => {
    const { manifest } = await registerFixture("logistic");
    const clean = (await (await postJson(`/models/${manifest.name}/predict`, VALID_ROW)).json()) as Single;
    const open = { ...VALID_ROW, payment_method: " Electronic check", internet_service: "\tFiber optic\n" };
    for (const padded of [open, { ...open, contract_type: "Month-to-month " }]) {
      const res = await postJson(`/models/${manifest.name}/predict`, padded);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-unknown-categories")).toBeNull();
      expect(((await res.json()) as Single).churn_probability).toBe(clean.churn_probability);
    }
  });

  it("imputes a null nullable feature inside the graph (same as sending the training median)", async () => {
    const { manifest } = await registerFixture("forest");
    const median = manifest.preprocessing.numeric.find((n) => n.name === "total_charges")!.impute;
    const withNull = (await (await postJson(`/models/${manifest.name}/predict`, { ...VALID_ROW, total_charges: null })).json()) as Single;
    const withMedian = (await (await postJson(`/models/${manifest.name}/predict`, { ...VALID_ROW, total_charges: median })).json()) as Single;
    expect(withNull.churn_probability).toBe(withMedian.churn_probability);
    const absent = { ...VALID_ROW } as Record<string, unknown>;
    delete absent.total_charges;
    expect((await postJson(`/models/${manifest.name}/predict`, absent)).status).toBe(200);
  });
});

describe("versions and aliases", () => {
  it("serves a pinned version, the production alias, and ?alias=staging", async () => {
    const first = await registerFixture("forest");
    const name = first.manifest.name;
    const { logistic } = { logistic: await registerFixture("logistic", { patch: (m) => (m.name = name), name, aliases: ["staging"] }) };
    expect(logistic.version).toBe(2);
    const row = first.manifest.golden[0]!.input;
    const prod = await postJson(`/models/${name}/predict`, row);
    expect(prod.headers.get("x-model-version")).toBe("1");
    const staging = await postJson(`/models/${name}/predict?alias=staging`, row);
    expect(staging.headers.get("x-model-version")).toBe("2");
    const pinned = await postJson(`/models/${name}/versions/2/predict`, row);
    expect(((await pinned.json()) as Single).churn_probability).toBe(((await staging.json()) as Single).churn_probability);

    await setAlias(openDb(env.DB), { name, alias: "production", version: 2, by: "test", reason: "promote" });
    const moved = await postJson(`/models/${name}/predict`, row);
    expect(moved.headers.get("x-model-version")).toBe("2");
  });
});

describe("a broken artifact", () => {
  it("answers 503 with the reason, backs off, keeps other versions serving, and recovers", async () => {
    const name = await twoVersions();
    const broken = await corruptArtifact(name, 2);

    const res = await postJson(`/models/${name}/versions/2/predict`, VALID_ROW);
    expect(res.status).toBe(503);
    const body = (await res.json()) as Envelope;
    expect(body.error.code).toBe("MODEL_UNAVAILABLE");
    expect(body.error.message).toMatch(/checksum mismatch/);
    expect(body.error.details).toMatchObject({ version: 2, reason: expect.stringMatching(/sha256/) });
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

    // Version 1 (production) is unaffected.
    expect((await postJson(`/models/${name}/predict`, VALID_ROW)).status).toBe(200);

    // Within the backoff (60 s in tests) the failure is remembered: even with the artifact repaired, still 503.
    await broken.restore();
    expect((await postJson(`/models/${name}/versions/2/predict`, VALID_ROW)).status).toBe(503);
  });

  it("remembers a load failure for exactly the backoff, on an injected clock, then loads again", async () => {
    const { manifest, version } = await registerFixture("forest");
    const broken = await corruptArtifact(manifest.name, version);
    const row = await getVersionRow(openDb(env.DB), manifest.name, version);
    let now = 5_000_000;
    const options = { backoffMs: 30_000, now: () => now };
    await expect(getSession(env.MODELS, row, options)).rejects.toMatchObject({
      code: "MODEL_UNAVAILABLE",
      message: expect.stringMatching(/checksum mismatch/),
      details: { retry_after_seconds: 30 },
    });
    await broken.restore();
    now += 29_999;
    await expect(getSession(env.MODELS, row, options)).rejects.toMatchObject({ details: { retry_after_seconds: 1 } });
    now += 1;
    await expect(getSession(env.MODELS, row, options)).resolves.toBeUndefined();
  });

  it("a missing artifact is 503 too, naming the key", async () => {
    const { manifest, r2Key } = await registerFixture("boosting");
    await env.MODELS.delete(r2Key);
    const res = await postJson(`/models/${manifest.name}/predict`, VALID_ROW);
    expect(res.status).toBe(503);
    expect(((await res.json()) as Envelope).error.message).toMatch(/missing from storage/);
  });
});

describe("a model whose output is not finite", () => {
  /** Swaps the stored artifact for the same graph with tenure and monthly_charges weights at -3e38 and 3e38. */
  async function extremeWeights(name: string, version: number, onnx: Uint8Array) {
    const from = new Uint8Array(new Float32Array([-0.9, 0.45]).buffer);
    const to = new Uint8Array(new Float32Array([-3e38, 3e38]).buffer);
    const hits: number[] = [];
    for (let i = 0; i + from.length <= onnx.length; i++) if (from.every((b, j) => onnx[i + j] === b)) hits.push(i);
    expect(hits).toHaveLength(1); // the coefficient initializer, nowhere else
    const patched = onnx.slice();
    patched.set(to, hits[0]!);
    const row = await getVersionRow(openDb(env.DB), name, version);
    await env.MODELS.put(row.r2Key, patched);
    await env.DB.prepare("UPDATE model_versions SET sha256 = ?3 WHERE model_name = ?1 AND version = ?2").bind(name, version, await sha256Hex(patched)).run();
  }

  it("answers 500 NON_FINITE_OUTPUT naming the version and rows, never 200 with null, and logs it", async () => {
    const { manifest, version, onnx } = await registerFixture("logistic");
    await extremeWeights(manifest.name, version, onnx);
    // Valid inputs: (1000 - 32.4) / 24.6 * -3e38 and (1000 - 64.8) / 30.1 * 3e38 overflow float32 to
    // -Inf and +Inf, whose sum in the linear layer is NaN. The moderate row stays finite.
    const extreme = { ...VALID_ROW, tenure: 1000, monthly_charges: 1000 };
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const res = await createApp().request(
        `/models/${manifest.name}/predict`,
        { method: "POST", headers: { "content-type": "application/json", "x-request-id": "non-finite-1" }, body: JSON.stringify({ instances: [VALID_ROW, extreme] }) },
        env,
      );
      expect(res.status).toBe(500);
      const body = (await res.json()) as Envelope;
      expect(body.error.code).toBe("NON_FINITE_OUTPUT");
      expect(body.error.message).toContain(`model ${manifest.name} version ${version}`);
      expect(body.error.message).toMatch(/1 of 2 rows \(instances\[1\]\)/);
      expect(body.error.details).toMatchObject({ model: manifest.name, version, rows: [1] });
      const logged = errors.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
      expect(logged).toContainEqual(expect.objectContaining({ request_id: body.error.request_id, client_request_id: "non-finite-1", code: "NON_FINITE_OUTPUT" }));
    } finally {
      errors.mockRestore();
    }
    expect((await postJson(`/models/${manifest.name}/predict`, VALID_ROW)).status).toBe(200);
  });
});
