/** Registry on real D1 + R2: numbering, aliases and their history, the read API, health and docs. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { artifactKey } from "../../worker/registry/r2-keys";
import { openDb } from "../../worker/db/open-db";
import { aliasHistoryFor, setAlias } from "../../worker/registry/aliases";
import { resolveVersion } from "../../worker/registry/versions";
import { type Envelope, fixture, get, publish, registerFixture, requestApp, twoVersions, VALID_ROW } from "./helpers";

describe("registration", () => {
  it("numbers versions per model, monotonic, even when registered concurrently", async () => {
    const { manifest, onnx } = fixture("forest");
    manifest.name = "concurrent-model";
    const results = await Promise.all(
      Array.from({ length: 4 }, () => publish({ manifest, onnx, createdBy: "ci" })),
    );
    expect(results.map((r) => r.version).sort()).toEqual([1, 2, 3, 4]);
    const other = await registerFixture("logistic");
    expect(other.version).toBe(1);
  });

  it("stores every artifact under the one key layout with the checksum", async () => {
    const { manifest, version, sha256 } = await registerFixture("forest");
    const object = await env.MODELS.head(artifactKey(manifest.name, version, "model.onnx"));
    expect(object?.customMetadata?.sha256).toBe(sha256);
    expect(artifactKey("a b", 3, "model.onnx")).toBe("models/a%20b/3/model.onnx");
    const stored = await env.MODELS.get(artifactKey(manifest.name, version, "manifest.json"));
    expect(JSON.parse(await stored!.text()).name).toBe(manifest.name);
  });

  it("refuses an artifact whose sha256 does not match its manifest", async () => {
    const { manifest, onnx } = fixture("forest");
    manifest.name = "mismatch-model";
    onnx[10] = onnx[10]! ^ 1;
    await expect(publish({ manifest, onnx, createdBy: "ci" })).rejects.toThrow(/publish failed at checksum: model.onnx has sha256 [0-9a-f]{64}, the manifest says/);
    await expect(resolveVersion(openDb(env.DB), "mismatch-model", { version: 1 })).rejects.toThrow(/not registered/);
  });
});

describe("aliases", () => {
  it("moves an alias and appends each move to the history", async () => {
    const name = await twoVersions();
    const db = openDb(env.DB);
    expect(await setAlias(db, { name, alias: "production", version: 2, by: "alice", reason: "better AUC" })).toEqual({ from: 1, to: 2 });
    expect(await setAlias(db, { name, alias: "production", version: 1, by: "bob", reason: "rollback" })).toEqual({ from: 2, to: 1 });
    const history = await aliasHistoryFor(db, name);
    expect(history.map((h) => [h.fromVersion, h.toVersion, h.changedBy, h.reason])).toEqual([
      [null, 1, "test", "test fixture"],
      [1, 2, "alice", "better AUC"],
      [2, 1, "bob", "rollback"],
    ]);
    const api = (await (await get(`/models/${name}/aliases`)).json()) as { history: { from: number | null; to: number }[] };
    expect(api.history.map((h) => h.to)).toEqual([1, 2, 1]);
  });

  it("cannot point an alias at a missing version", async () => {
    const { manifest } = await registerFixture("forest");
    await expect(setAlias(openDb(env.DB), { name: manifest.name, alias: "production", version: 9, by: "x" })).rejects.toThrow(/no version 9/);
  });

  it("refuses alias names that requests could not ask for", async () => {
    const { manifest } = await registerFixture("forest");
    for (const alias of ["", "9lives", "prod uction", "a".repeat(64)]) {
      await expect(setAlias(openDb(env.DB), { name: manifest.name, alias, version: 1, by: "x" }), alias).rejects.toThrow(/not a valid alias name/);
    }
  });

  it("refuses the alias names samples use for other arms (shadow, version), writing nothing; a request for one finds no alias", async () => {
    const { manifest } = await registerFixture("forest");
    for (const alias of ["shadow", "version", "Shadow"]) {
      await expect(setAlias(openDb(env.DB), { name: manifest.name, alias, version: 1, by: "x" }), alias).rejects.toThrow(/is reserved: samples and metrics use "shadow" and "version"/);
    }
    const { results } = await env.DB.prepare("SELECT alias FROM alias_history WHERE model_name = ? AND alias IN ('shadow', 'version', 'Shadow')").bind(manifest.name).all();
    expect(results).toEqual([]);
    const res = await requestApp(`/models/${manifest.name}/predict?alias=shadow`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(VALID_ROW) });
    expect(res.status).toBe(404);
  });
});

describe("read API", () => {
  it("GET /models, /models/:name and /models/:name/versions/:version", async () => {
    const { manifest, sha256 } = await registerFixture("boosting", { aliases: ["production", "staging"] });
    const list = (await (await get("/models")).json()) as { models: { name: string; latest_version: number; aliases: Record<string, number> }[] };
    expect(list.models.find((m) => m.name === manifest.name)).toMatchObject({ latest_version: 1, aliases: { production: 1, staging: 1 } });

    const detail = (await (await get(`/models/${manifest.name}`)).json()) as { versions: { version: number; sha256: string; aliases: string[] }[] };
    expect(detail.versions[0]).toMatchObject({ version: 1, sha256, aliases: ["production", "staging"] });

    const version = (await (await get(`/models/${manifest.name}/versions/1`)).json()) as Record<string, unknown>;
    expect(version).toMatchObject({ name: manifest.name, version: 1, status: "ready", sha256, created_by: "test" });
    expect(version.metrics).toEqual(manifest.metrics);
    expect((version.manifest as { features: unknown[] }).features).toHaveLength(7);
    expect(typeof version.created_at).toBe("string");

    const artifact = await get(`/models/${manifest.name}/versions/1/artifacts/manifest.json`);
    expect(artifact.status).toBe(200);
    expect(((await artifact.json()) as { name: string }).name).toBe(manifest.name);
  });

  it("404s in the envelope", async () => {
    for (const path of ["/models/ghost", "/models/ghost/versions/1", "/models/ghost/aliases"]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as Envelope).error.code).toBe("NOT_FOUND");
    }
    const { manifest } = await registerFixture("forest");
    expect((await get(`/models/${manifest.name}/versions/7`)).status).toBe(404);
    expect((await get(`/models/${manifest.name}/versions/1/artifacts/model-card.md`)).status).toBe(404);
    expect((await get(`/models/${manifest.name}/versions/1/artifacts/secrets.txt`)).status).toBe(404);
  });
});

describe("health, readiness and docs", () => {
  it("is live always, ready only once the default model loads", async () => {
    expect(await (await get("/health")).json()).toEqual({ status: "healthy" });
    const notReady = await get("/ready");
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as Envelope).error.message).toMatch(/churn-classifier is not registered/);
    await registerFixture("logistic", { name: "churn-classifier" });
    const ready = await get("/ready");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", model: "churn-classifier", version: 1 });
  });

  it("publishes OpenAPI generated from the default model's manifest, and a docs page", async () => {
    await registerFixture("forest", { name: "churn-classifier" });
    const doc = (await (await get("/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: { Row: { properties: Record<string, Record<string, unknown>>; required: string[] } } };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/predict", "/invocations", "/v2/models/{name}/infer"]));
    const row = doc.components.schemas.Row;
    expect(row.properties.tenure).toMatchObject({ type: "number", minimum: 0 });
    expect(row.properties.num_products).toMatchObject({ type: "integer", minimum: 1, maximum: 10 });
    expect(row.properties.contract_type).toMatchObject({ enum: ["Month-to-month", "One year", "Two year"] });
    expect(row.required).toEqual(expect.arrayContaining(["tenure", "payment_method"]));
    expect(row.required).not.toContain("total_charges");
    const page = await get("/docs");
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/curl -s -X POST/);
  });
});
