/**
 * The cron's sweep of dead publishes, through the Worker's own `scheduled` handler over real D1 and
 * R2: a version left pending (its isolate died between the version row and the ready batch) longer
 * than PENDING_VERSION_TIMEOUT_MINUTES is marked failed, saying why, and its R2 objects are deleted;
 * recent pending versions, ready versions and their objects are left alone; a second run changes
 * nothing.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openDb } from "../../worker/db/open-db";
import { ARTIFACT_FILES, artifactKey } from "../../worker/registry/r2-keys";
import { failIfStillPending } from "../../worker/registry/stale-publishes";
import { insertVersion } from "../../worker/registry/version-lifecycle";
import { fireCron } from "./drift-setup";
import { freshName, registerFixture } from "./helpers";

const MINUTE = 60_000;

/** What an isolate that died mid-publish leaves: a pending row `ageMinutes` old, and its uploads in R2. */
async function deadPublish(name: string, ageMinutes: number, now: number): Promise<number> {
  const manifest = { ...structuredClone(env.TEST_FIXTURES[0]!.manifest), name };
  const version = await insertVersion(openDb(env.DB), { name, manifest, sha256: "0".repeat(64), sizeBytes: 3, createdBy: "test" });
  const createdAt = new Date(now - ageMinutes * MINUTE).toISOString();
  await env.DB.prepare("UPDATE model_versions SET created_at = ?3 WHERE model_name = ?1 AND version = ?2").bind(name, version, createdAt).run();
  for (const file of ARTIFACT_FILES) await env.MODELS.put(artifactKey(name, version, file), `${file} of a dead publish`);
  return version;
}

async function versionRow(name: string, version: number) {
  return env.DB.prepare("SELECT status, status_reason, status_changed_by FROM model_versions WHERE model_name = ?1 AND version = ?2")
    .bind(name, version)
    .first<{ status: string; status_reason: string | null; status_changed_by: string | null }>();
}

async function objectsLeft(name: string, version: number): Promise<number> {
  const listed = await env.MODELS.list({ prefix: `models/${encodeURIComponent(name)}/${version}/` });
  return listed.objects.length;
}

describe("the cron fails dead publishes", () => {
  it("a version pending past the timeout is marked failed with a reason and its R2 objects deleted; recent and ready ones are untouched; idempotent", async () => {
    const now = Date.now();
    const ready = await registerFixture("logistic");
    await env.DB.prepare("UPDATE model_versions SET created_at = ?3 WHERE model_name = ?1 AND version = ?2")
      .bind(ready.manifest.name, ready.version, new Date(now - 600 * MINUTE).toISOString())
      .run();
    const readyObjects = await objectsLeft(ready.manifest.name, ready.version);
    expect(readyObjects).toBeGreaterThan(0);

    const name = freshName("dead-publish");
    const dead = await deadPublish(name, 61, now);
    const recent = await deadPublish(name, 10, now);
    expect(await objectsLeft(name, dead)).toBe(ARTIFACT_FILES.length);

    await fireCron(now);
    const failed = await versionRow(name, dead);
    expect(failed).toMatchObject({ status: "failed", status_changed_by: "cron" });
    expect(failed!.status_reason).toMatch(/^publishing did not finish: pending since \d{4}-.*Z, over PENDING_VERSION_TIMEOUT_MINUTES \(60\); its artifacts were deleted$/);
    expect(await objectsLeft(name, dead)).toBe(0);
    expect((await versionRow(name, recent))!.status).toBe("pending");
    expect(await objectsLeft(name, recent)).toBe(ARTIFACT_FILES.length);
    expect((await versionRow(ready.manifest.name, ready.version))!.status).toBe("ready");
    expect(await objectsLeft(ready.manifest.name, ready.version)).toBe(readyObjects);

    await fireCron(now);
    expect(await versionRow(name, dead)).toEqual(failed);
    expect((await versionRow(name, recent))!.status).toBe("pending");
    expect(await objectsLeft(name, recent)).toBe(ARTIFACT_FILES.length);
  });

  it("PENDING_VERSION_TIMEOUT_MINUTES sets the age", async () => {
    const now = Date.now();
    const name = freshName("slow-publish");
    const version = await deadPublish(name, 120, now);
    await fireCron(now, { PENDING_VERSION_TIMEOUT_MINUTES: "180" });
    expect((await versionRow(name, version))!.status).toBe("pending");
    await fireCron(now, { PENDING_VERSION_TIMEOUT_MINUTES: "90" });
    expect((await versionRow(name, version))!.status).toBe("failed");
    expect((await versionRow(name, version))!.status_reason).toContain("PENDING_VERSION_TIMEOUT_MINUTES (90)");
  });

  it("a version that became ready after the sweep read it is left alone, objects and all (the UPDATE is guarded)", async () => {
    const ready = await registerFixture("logistic");
    const objects = await objectsLeft(ready.manifest.name, ready.version);
    const stale = { name: ready.manifest.name, version: ready.version, createdAt: "2020-01-01T00:00:00.000Z" };
    expect(await failIfStillPending({ db: openDb(env.DB), models: env.MODELS }, stale, "test")).toBe(false);
    expect((await versionRow(ready.manifest.name, ready.version))!.status).toBe("ready");
    expect(await objectsLeft(ready.manifest.name, ready.version)).toBe(objects);
  });
});
