/**
 * Happy paths through real onnxruntime-web sessions inside workerd, on real ONNX files exported by
 * the trainer's exporter: the tutorial contract, batches, generic routes, aliases and versions,
 * manifest-driven thresholds and tiers, unknown categories, imputation, and a corrupted artifact.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { riskTier } from "../../worker/contract/manifest";
import { setAlias, openDb } from "../../worker/registry/registry";
import { corruptArtifact, type Envelope, postJson, registerFixture, VALID_ROW } from "./helpers";

type Single = Record<string, unknown> & { churn_probability: number; churn_prediction: boolean; risk_tier: string; model_version: string; request_id: string };

describe("POST /predict (tutorial contract)", () => {
  it("scores the default model's production version and reproduces the trainer's golden rows", async () => {
    const { manifest, version } = await registerFixture("forest", { name: "churn-classifier" });
    for (const golden of manifest.golden) {
      const res = await postJson("/predict", golden.input);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Single;
      expect(Object.keys(body)).toEqual(["churn_probability", "churn_prediction", "risk_tier", "model", "model_version", "request_id"]);
      // 4 decimals, as the tutorial rounds; tolerance covers that rounding only.
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
  it("a version with threshold 0.05 and custom tiers answers accordingly", async () => {
    const { manifest } = await registerFixture("forest", {
      patch: (m) => {
        m.output.threshold = 0.05;
        m.output.risk_tiers = [{ name: "WATCH", min: 0.05 }, { name: "OK", min: 0 }];
      },
    });
    const low = manifest.golden.reduce((a, b) => (a.probability < b.probability ? a : b));
    const body = (await (await postJson(`/models/${manifest.name}/predict`, low.input)).json()) as Single;
    expect(body.churn_prediction).toBe(low.probability >= 0.05);
    expect(body.risk_tier).toBe(low.probability >= 0.05 ? "WATCH" : "OK");
    const high = manifest.golden.reduce((a, b) => (a.probability > b.probability ? a : b));
    const hi = (await (await postJson(`/models/${manifest.name}/predict`, high.input)).json()) as Single;
    expect(hi.churn_prediction).toBe(true);
    expect(hi.risk_tier).toBe("WATCH");
  });
});

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
    const good = await registerFixture("forest");
    const name = good.manifest.name;
    await registerFixture("logistic", { name, aliases: [] });
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

    // Within the backoff the failure is remembered: even with the artifact repaired, still 503.
    await broken.restore();
    expect((await postJson(`/models/${name}/versions/2/predict`, VALID_ROW)).status).toBe(503);

    // After the backoff (1.5 s in tests) the version loads again.
    await new Promise((r) => setTimeout(r, 1700));
    expect((await postJson(`/models/${name}/versions/2/predict`, VALID_ROW)).status).toBe(200);
  });

  it("a missing artifact is 503 too, naming the key", async () => {
    const { manifest, r2Key } = await registerFixture("boosting");
    await env.MODELS.delete(r2Key);
    const res = await postJson(`/models/${manifest.name}/predict`, VALID_ROW);
    expect(res.status).toBe(503);
    expect(((await res.json()) as Envelope).error.message).toMatch(/missing from storage/);
  });
});
