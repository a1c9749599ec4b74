/**
 * The one publish path on real D1 + R2 with workerd's ORT: every refusal names its step and leaves
 * the registry exactly as it was; concurrent publishes and alias moves stay consistent; archived
 * versions cannot be aliased, nor archived while aliased.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { PublishError } from "../../worker/registry/publish-version";
import { ARTIFACT_FILES, artifactKey } from "../../worker/registry/r2-keys";
import { openDb } from "../../worker/db/open-db";
import { aliasHistoryFor, setAlias } from "../../worker/registry/aliases";
import { archiveVersion } from "../../worker/registry/version-lifecycle";
import { getVersionRow } from "../../worker/registry/versions";
import { sha256Hex } from "../../worker/contract/sha256";
import { fixture, freshName, publish, refusedPublish, registerFixture, registryState } from "./helpers";

/** Runs a publish that must fail, and checks it left D1 and R2 untouched. */
const refused = refusedPublish;

/** A second version of an already registered model, so a half-applied publish would show in its rows. */
let existing: string;

beforeAll(async () => {
  existing = (await registerFixture("forest")).manifest.name;
});

function forestAs(name: string) {
  const { manifest, onnx } = fixture("forest");
  manifest.name = name;
  return { manifest, onnx };
}

describe("publish refuses, naming the step, and leaves D1 and R2 as they were", () => {
  it("a model.onnx whose bytes do not have the manifest's sha256", async () => {
    const { manifest, onnx } = forestAs(existing);
    onnx[100] = onnx[100]! ^ 0x01;
    const error = await refused({ manifest, onnx, createdBy: "test", aliases: ["production"] });
    expect(error.step).toBe("checksum");
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.message).toMatch(/^publish failed at checksum: model.onnx has sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}$/);
  });

  it("a corrupted model.onnx whose manifest matches its bytes: the runtime cannot open it", async () => {
    const { manifest, onnx } = forestAs(existing);
    onnx.fill(0xff, 0, 64);
    manifest.onnx.sha256 = await sha256Hex(onnx);
    const error = await refused({ manifest, onnx, createdBy: "test", aliases: ["production"] });
    expect(error.step).toBe("open");
    expect(error.message).toMatch(/^publish failed at opening the ONNX session: the runtime cannot load model.onnx: /);
  });

  it("a manifest whose features do not match the graph's inputs", async () => {
    const { manifest, onnx } = forestAs(existing);
    manifest.features[0]!.name = "tenure_months";
    const error = await refused({ manifest, onnx, createdBy: "test", aliases: ["production"] });
    expect(error.step).toBe("signature");
    expect(error.message).toBe(
      "publish failed at graph signature: feature tenure_months has no graph input; graph input tenure is not a manifest feature",
    );
  });

  it("a manifest naming an output the graph does not have", async () => {
    const { manifest, onnx } = forestAs(existing);
    manifest.onnx.output = "scores";
    const error = await refused({ manifest, onnx, createdBy: "test" });
    expect(error.step).toBe("signature");
    expect(error.message).toMatch(/the graph has no output scores \(it has .*probabilities/);
  });

  it("a golden row that does not reproduce", async () => {
    const { manifest, onnx } = forestAs(existing);
    const golden = manifest.golden[3]!;
    const stored = golden.probability;
    golden.probability = stored > 0.5 ? stored - 0.11 : stored + 0.11;
    const error = await refused({ manifest, onnx, createdBy: "test", aliases: ["production"] });
    expect(error.step).toBe("golden");
    expect(error.message).toBe(
      `publish failed at golden rows: row 3 gives ${Math.fround(stored).toPrecision(6)} not ${golden.probability.toPrecision(6)} ` +
        `(|Δ| ${Math.abs(Math.fround(stored) - golden.probability).toPrecision(2)} > 1e-5)`,
    );
  });

  it("a manifest that does not parse, and an alias name requests could not ask for", async () => {
    const { manifest, onnx } = forestAs(existing);
    const bad = await refused({ manifest: { ...manifest, onnx: { ...manifest.onnx, sha256: "abc" } }, onnx, createdBy: "test" });
    expect(bad.step).toBe("manifest");
    expect(bad.message).toMatch(/^publish failed at manifest: onnx\.sha256: /);
    const alias = await refused({ manifest, onnx, createdBy: "test", aliases: ["production", "not an alias"] });
    expect(alias.step).toBe("aliases");
    expect(alias.message).toMatch(/"not an alias" is not a valid alias name/);
  });

  it("an alias move to a missing version, or to one that is not ready", async () => {
    const db = openDb(env.DB);
    const before = await registryState();
    await expect(setAlias(db, { name: existing, alias: "production", version: 99, by: "test" })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: `model ${existing} has no version 99`,
    });
    await expect(setAlias(db, { name: "no-such-model", alias: "production", version: 1, by: "test" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await registryState()).toEqual(before);

    const { manifest } = await registerFixture("logistic", { aliases: [] });
    await archiveVersion(db, manifest.name, 1, "test", "superseded");
    const archived = await registryState();
    await expect(setAlias(db, { name: manifest.name, alias: "staging", version: 1, by: "test" })).rejects.toMatchObject({
      code: "CONFLICT",
      message: `cannot point staging at version 1 of ${manifest.name}: it is archived, and aliases point only at ready versions`,
    });
    expect(await registryState()).toEqual(archived);
  });
});

describe("a failed upload", () => {
  it("marks the version failed, deletes what was uploaded, and moves no alias", async () => {
    // R2 keys are at most 1,024 bytes: with this name model.onnx, manifest.json and model-card.md
    // fit and reference.json does not, so the upload fails half way, for real.
    const name = "a".repeat(1001);
    const { manifest, onnx } = forestAs(name);
    expect(artifactKey(name, 1, "manifest.json")).toHaveLength(1024);
    const error = await publish({ manifest, onnx, modelCard: "# card", reference: "{}", createdBy: "test", aliases: ["production"] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect(error).toMatchObject({ step: "store", code: "INTERNAL" });
    expect((error as Error).message).toMatch(/^publish failed at store: version 1: uploading the artifacts failed: .*it is marked failed and its uploads deleted$/);
    const row = await getVersionRow(openDb(env.DB), name, 1);
    expect(row).toMatchObject({ status: "failed", statusChangedBy: "test" });
    expect(row.statusReason).toMatch(/^uploading the artifacts failed/);
    expect((await env.MODELS.list({ prefix: `models/${name}/` })).objects).toEqual([]);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM aliases WHERE model_name = ?").bind(name).first("n")).toBe(0);
  });
});

describe("concurrency", () => {
  it("10 concurrent publishes of one model get 10 distinct versions, each complete", async () => {
    const name = freshName("concurrent");
    const { manifest, onnx } = forestAs(name);
    const published = await Promise.all(
      Array.from({ length: 10 }, (_, i) => publish({ manifest, onnx, createdBy: `ci-${i}`, aliases: ["production"] })),
    );
    expect(published.map((p) => p.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const db = openDb(env.DB);
    for (const { version } of published) {
      const row = await getVersionRow(db, name, version);
      expect(row).toMatchObject({ status: "ready", sha256: manifest.onnx.sha256, r2Key: artifactKey(name, version, "model.onnx") });
      const object = await env.MODELS.get(row.r2Key);
      expect(await sha256Hex(await object!.arrayBuffer())).toBe(manifest.onnx.sha256);
      expect(object!.customMetadata).toMatchObject({ sha256: manifest.onnx.sha256, version: String(version) });
      expect(JSON.parse(await (await env.MODELS.get(artifactKey(name, version, "manifest.json")))!.text()).onnx.sha256).toBe(manifest.onnx.sha256);
    }
    const history = await aliasHistoryFor(db, name);
    expect(history.map((h) => h.fromVersion)).toEqual([null, ...history.slice(0, -1).map((h) => h.toVersion)]);
  });

  it("10 concurrent alias moves leave a history that chains", async () => {
    const { manifest } = await registerFixture("forest");
    const name = manifest.name;
    await registerFixture("logistic", { name, aliases: [] });
    await registerFixture("boosting", { name, aliases: [] });
    const db = openDb(env.DB);
    const moves = await Promise.all(
      Array.from({ length: 10 }, (_, i) => setAlias(db, { name, alias: "production", version: (i % 3) + 1, by: `mover-${i}` })),
    );
    const history = await aliasHistoryFor(db, name);
    expect(history).toHaveLength(11);
    for (let i = 1; i < history.length; i++) {
      expect(history[i]!.fromVersion, `history row ${i}`).toBe(history[i - 1]!.toVersion);
    }
    // Each caller is told the from_version its own row recorded.
    const recorded = new Map(history.slice(1).map((h) => [h.changedBy, h.fromVersion]));
    moves.forEach((m, i) => expect(m.from).toBe(recorded.get(`mover-${i}`)));
  });
});

describe("archiveVersion", () => {
  it("refuses while an alias points at the version, and archives once the alias has moved away", async () => {
    const { manifest } = await registerFixture("forest", { aliases: ["production", "staging"] });
    const name = manifest.name;
    await registerFixture("logistic", { name, aliases: [] });
    const db = openDb(env.DB);
    await expect(archiveVersion(db, name, 1, "ops", "retire")).rejects.toMatchObject({
      code: "CONFLICT",
      message: `version 1 of ${name} is what production, staging point at: move them first`,
    });
    expect((await getVersionRow(db, name, 1)).status).toBe("ready");
    await setAlias(db, { name, alias: "production", version: 2, by: "ops" });
    await expect(archiveVersion(db, name, 1, "ops", "retire")).rejects.toMatchObject({ message: /staging points at/ });
    await setAlias(db, { name, alias: "staging", version: 2, by: "ops" });
    const archived = await archiveVersion(db, name, 1, "ops", "replaced by v2");
    expect(archived).toMatchObject({ status: "archived", statusChangedBy: "ops", statusReason: "replaced by v2" });
    expect(archived.statusChangedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    await expect(archiveVersion(db, name, 7, "ops", "x")).rejects.toMatchObject({ code: "NOT_FOUND" });
    for (const file of ARTIFACT_FILES.slice(0, 2)) expect(await env.MODELS.head(artifactKey(name, 1, file))).not.toBeNull();
  });
});
