/**
 * Reason codes at the edge (?explain), in workerd with real D1, R2 and ORT, on models trained by the
 * real trainer (forest, boosting, logistic regression) and on an imported XGBoost booster: every golden row's explanation adds up to
 * its probability (through the sigmoid in log-odds space) and equals what the trainer computed in
 * Node; top-k is the k largest by magnitude; refusals name what was wrong; the publish path refuses
 * an explainer that does not reproduce and writes nothing; a broken stored explainer is 503 for
 * explain requests only.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Explainer } from "../../worker/contract/explainer";
import type { Manifest } from "../../worker/contract/manifest";
import { explainedProbability } from "../../worker/explain/explained-output";
import { sha256Hex } from "../../worker/contract/sha256";
import { artifactKey } from "../../worker/registry/r2-keys";
import type { RowExplanation } from "../../worker/scoring/explanations";
import { type Envelope, failingFields, fixture, freshName, publish, refusedPublish, registerFixture, requestApp, VALID_ROW } from "./helpers";

const KINDS = ["trained", "trained-boosting", "trained-logistic", "imported"] as const;

function post(path: string, body: unknown, vars: Record<string, unknown> = {}) {
  return requestApp(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }, vars);
}

interface ExplainedRow {
  churn_probability: number;
  explanation?: RowExplanation;
}

async function explainGoldens(name: string, manifest: Manifest, from: number, to: number) {
  const rows = manifest.golden.slice(from, to).map((g) => g.input);
  const res = await post(`/models/${name}/predict?explain=all`, { instances: rows });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { predictions: ExplainedRow[] }).predictions;
}

describe("?explain on trained models", () => {
  for (const kind of KINDS) {
    it(`${kind}: every golden row's explanation adds up to its probability and equals the trainer's contributions`, async () => {
      const { manifest } = await registerFixture(kind);
      const features = manifest.features.map((f) => f.name);
      expect(manifest.golden.length).toBeGreaterThanOrEqual(100);
      const space = manifest.explainer!.space;
      expect(space).toBe(kind === "trained" ? "probability" : "log_odds");
      // The pool's MAX_BATCH_ROWS is 50.
      for (let from = 0; from < manifest.golden.length; from += 50) {
        const predictions = await explainGoldens(manifest.name, manifest, from, from + 50);
        predictions.forEach((p, j) => {
          const golden = manifest.golden[from + j]!;
          const e = p.explanation!;
          expect(e.space).toBe(space);
          expect(e.contributions.map((c) => c.feature).sort()).toEqual([...features].sort());
          // Sorted by |contribution|, largest first.
          for (let k = 1; k < e.contributions.length; k++) expect(Math.abs(e.contributions[k - 1]!.contribution)).toBeGreaterThanOrEqual(Math.abs(e.contributions[k]!.contribution));
          // The value is the input as sent.
          for (const c of e.contributions) expect(c.value).toEqual(golden.input[c.feature] ?? null);
          // Additive: within 1e-5 of the trainer's probability (which the graph reproduces within 1e-5).
          const inOrder = { base_value: e.base_value, contributions: features.map((f) => e.contributions.find((c) => c.feature === f)!.contribution) };
          expect(Math.abs(explainedProbability(space, inOrder) - golden.probability)).toBeLessThanOrEqual(2e-5);
          // The same numbers the trainer computed in Node from its own ORT run.
          expect(Math.abs(inOrder.base_value - golden.explanation!.base_value)).toBeLessThanOrEqual(1e-9);
          inOrder.contributions.forEach((c, f) => expect(Math.abs(c - golden.explanation!.contributions[f]!)).toBeLessThanOrEqual(1e-6));
        });
      }
    });
  }

  it("explain=3 gives the three largest contributions of the full explanation; no explain, no field", async () => {
    const { manifest } = await registerFixture("trained");
    const rows = manifest.golden.slice(0, 5).map((g) => g.input);
    const all = ((await (await post(`/models/${manifest.name}/predict?explain=all`, { instances: rows })).json()) as { predictions: ExplainedRow[] }).predictions;
    const top = ((await (await post(`/models/${manifest.name}/predict?explain=3`, { instances: rows })).json()) as { predictions: ExplainedRow[] }).predictions;
    top.forEach((p, i) => {
      expect(p.explanation!.contributions).toEqual(all[i]!.explanation!.contributions.slice(0, 3));
      expect(p.explanation!.base_value).toBe(all[i]!.explanation!.base_value);
      expect(p.churn_probability).toBe(all[i]!.churn_probability);
    });
    const single = await post(`/models/${manifest.name}/predict?explain=50`, rows[0]);
    expect(((await single.json()) as ExplainedRow).explanation!.contributions).toHaveLength(manifest.features.length);
    const plain = (await (await post(`/models/${manifest.name}/predict`, { instances: rows })).json()) as { predictions: Record<string, unknown>[] };
    for (const p of plain.predictions) expect(p).not.toHaveProperty("explanation");
  });

  it("a row with a missing value and an unseen category is explained, and still adds up", async () => {
    const { manifest } = await registerFixture("trained");
    const row = { ...manifest.golden[0]!.input, total_charges: null, internet_service: "Satellite" };
    const res = await post(`/models/${manifest.name}/predict?explain=all`, row);
    expect(res.status).toBe(200);
    const body = (await res.json()) as ExplainedRow;
    const e = body.explanation!;
    expect(e.contributions.find((c) => c.feature === "total_charges")!.value).toBeNull();
    expect(e.contributions.find((c) => c.feature === "internet_service")!.value).toBe("Satellite");
    const total = e.contributions.reduce((s, c) => s + c.contribution, e.base_value);
    // The response's probability has 4 decimals.
    expect(Math.abs(total - body.churn_probability)).toBeLessThanOrEqual(5e-5 + 1e-5);
  });

  it("MLflow answers the same explanation per prediction; OIP answers contributions [N, F] and base_value when asked for them", async () => {
    const { manifest } = await registerFixture("trained-boosting");
    const rows = manifest.golden.slice(0, 4).map((g) => g.input);
    const rest = ((await (await post(`/models/${manifest.name}/predict?explain=all`, { instances: rows })).json()) as { predictions: ExplainedRow[] }).predictions;
    const mlflow = await post(`/models/${manifest.name}/invocations?explain=all`, { dataframe_records: rows });
    expect(mlflow.status).toBe(200);
    const mlflowRows = ((await mlflow.json()) as { predictions: ExplainedRow[] }).predictions;
    mlflowRows.forEach((p, i) => expect(p.explanation).toEqual(rest[i]!.explanation));

    const features = manifest.features;
    const inputs = features.map((f) => ({
      name: f.name,
      shape: [rows.length, 1],
      datatype: f.kind === "numeric" ? "FP32" : "BYTES",
      data: rows.map((r) => r[f.name] ?? (f.kind === "numeric" ? null : "")),
    }));
    const oip = await post(`/v2/models/${manifest.name}/infer`, { inputs, outputs: [{ name: "contributions" }, { name: "base_value" }] });
    expect(oip.status, await oip.clone().text()).toBe(200);
    const outputs = ((await oip.json()) as { outputs: { name: string; shape: number[]; data: number[]; parameters?: { features: string[] } }[] }).outputs;
    expect(outputs.map((o) => o.name)).toEqual(["contributions", "base_value"]);
    const [contributions, base] = outputs;
    expect(contributions!.shape).toEqual([rows.length, features.length]);
    expect(contributions!.parameters!.features).toEqual(features.map((f) => f.name));
    rows.forEach((_, i) => {
      features.forEach((f, j) => {
        const expected = rest[i]!.explanation!.contributions.find((c) => c.feature === f.name)!.contribution;
        expect(contributions!.data[i * features.length + j]).toBe(expected);
      });
      expect(base!.data[i]).toBe(rest[i]!.explanation!.base_value);
    });
  });
});

describe("?explain refusals", () => {
  it("a version trained without an explainer: 422 EXPLANATION_UNAVAILABLE naming the version, and predictions without explain still serve", async () => {
    const { manifest } = await registerFixture("forest");
    const res = await post(`/models/${manifest.name}/predict?explain=3`, VALID_ROW);
    expect(res.status).toBe(422);
    const body = (await res.json()) as Envelope;
    expect(body.error.code).toBe("EXPLANATION_UNAVAILABLE");
    expect(body.error.message).toContain(`model ${manifest.name} version 1 has no explainer`);
    expect((await post(`/models/${manifest.name}/predict`, VALID_ROW)).status).toBe(200);
  });

  it("a bad explain value is 422 naming explain", async () => {
    const { manifest } = await registerFixture("trained");
    for (const value of ["0", "-1", "1.5", "abc", "", "ALL", "99999"]) {
      const res = await post(`/models/${manifest.name}/predict?explain=${encodeURIComponent(value)}`, manifest.golden[0]!.input);
      expect(res.status, value).toBe(422);
      expect(failingFields((await res.json()) as Envelope), value).toEqual(["explain"]);
    }
  });

  it("more rows than MAX_EXPLAIN_ROWS is 422 naming explain and the limit; the same batch without explain serves", async () => {
    const { manifest } = await registerFixture("trained");
    const rows = manifest.golden.slice(0, 3).map((g) => g.input);
    const res = await post(`/models/${manifest.name}/predict?explain=all`, { instances: rows }, { MAX_EXPLAIN_ROWS: "2" });
    expect(res.status).toBe(422);
    const body = (await res.json()) as Envelope;
    expect(failingFields(body)).toEqual(["explain"]);
    expect(body.error.details).toMatchObject({ max_rows: 2 });
    expect((await post(`/models/${manifest.name}/predict`, { instances: rows }, { MAX_EXPLAIN_ROWS: "2" })).status).toBe(200);
  });

  it("a stored explainer.json that no longer matches: explain is 503 with the reason, predictions keep serving", async () => {
    const { manifest } = await registerFixture("trained");
    const key = artifactKey(manifest.name, 1, "explainer.json");
    const original = await (await env.MODELS.get(key))!.text();
    await env.MODELS.put(key, original.replace('"version":1', '"version":1 '));
    const res = await post(`/models/${manifest.name}/predict?explain=2`, manifest.golden[0]!.input);
    expect(res.status).toBe(503);
    const body = (await res.json()) as Envelope;
    expect(body.error.code).toBe("MODEL_UNAVAILABLE");
    expect(body.error.message).toMatch(/cannot explain: explainer\.json checksum mismatch/);
    expect((await post(`/models/${manifest.name}/predict`, manifest.golden[0]!.input)).status).toBe(200);
  });

  it("explainer.json is served only with the admin token (its background is training rows)", async () => {
    const { manifest } = await registerFixture("trained");
    const path = `/models/${manifest.name}/versions/1/artifacts/explainer.json`;
    expect((await requestApp(path)).status).toBe(401);
    const res = await requestApp(path, { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Explainer).background).toHaveLength(manifest.explainer!.background_rows);
  });
});

describe("publishing an explainer", () => {
  const refused = refusedPublish;

  it("refuses a tampered explainer (checksum, then contributions that do not reproduce), a missing one, and one the manifest does not name, writing nothing", async () => {
    const { manifest, onnx, explainer } = fixture("trained");
    manifest.name = freshName("explain-publish");
    const parsed = JSON.parse(explainer!) as Explainer;
    // One leaf of the first tree moved: the file no longer matches its checksum...
    const model = parsed.model as { trees: { column: number[]; value: number[] }[] };
    const leaf = model.trees[0]!.column.indexOf(-1);
    model.trees[0]!.value[leaf] = model.trees[0]!.value[leaf]! + 0.25;
    const tampered = `${JSON.stringify(parsed)}\n`;
    const checksum = await refused({ manifest, onnx, explainer: tampered, createdBy: "test", aliases: ["production"] });
    expect(checksum.step).toBe("explainer");
    expect(checksum.message).toMatch(/explainer\.json has sha256 [0-9a-f]{64}, the manifest says/);
    // ...and with the manifest's checksum made to match, its explanations no longer reproduce the graph.
    const patched = structuredClone(manifest);
    patched.explainer = { ...patched.explainer!, sha256: await sha256Hex(new TextEncoder().encode(tampered)), size: new TextEncoder().encode(tampered).byteLength };
    const reproduce = await refused({ manifest: patched, onnx, explainer: tampered, createdBy: "test", aliases: ["production"] });
    expect(reproduce.step).toBe("explainer");
    expect(reproduce.message).toMatch(/contributions (add up to|differ from the manifest's)/);

    const missing = await refused({ manifest, onnx, createdBy: "test", aliases: ["production"] });
    expect(missing.message).toMatch(/the manifest names an explainer .* but no explainer\.json was uploaded/);
    const unnamed = structuredClone(manifest);
    delete unnamed.explainer;
    const extra = await refused({ manifest: unnamed, onnx, explainer, createdBy: "test", aliases: ["production"] });
    expect(extra.message).toMatch(/explainer\.json was uploaded, but the manifest has no explainer block/);

    const published = await publish({ manifest, onnx, explainer, createdBy: "test", aliases: ["production"] });
    expect(published.version).toBe(1);
    expect(await (await env.MODELS.get(artifactKey(manifest.name, 1, "explainer.json")))!.text()).toBe(explainer);
  });
});
