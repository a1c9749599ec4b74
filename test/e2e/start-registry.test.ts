/**
 * `npm start` against a real local registry (wrangler's platform proxy over a temp --persist-to
 * state, migrations applied): a run is published at most once, and a rollback of production stands
 * across restarts.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyLocalMigrations, localAliasVersion, runVersions, withLocalBindings } from "../../trainer/local-registry";
import { prepareProduction } from "../../scripts/lib/start-plan";
import { openDb } from "../../worker/db/open-db";
import { setAlias } from "../../worker/registry/aliases";
import { cachedFixtureModels } from "../fixtures/fixture-cache";
import type { FixtureModel } from "../fixtures/fixture-models";

const NAME = "churn-start";
let dir: string;
let artifactsDir: string;
let fixtures: FixtureModel[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "start-registry-"));
  artifactsDir = join(dir, "artifacts");
  fixtures = await cachedFixtureModels("churn-forest", "churn-logistic", "churn-boosting");
  applyLocalMigrations(join(dir, "state"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Writes a run directory the way `npm run train` does (artifacts/<run-id>/ and artifacts/LATEST). */
async function writeRun(runId: string, fixture: FixtureModel): Promise<string> {
  const manifest = structuredClone(fixture.manifest);
  manifest.name = NAME;
  manifest.source.run_id = runId;
  const runDir = join(artifactsDir, runId);
  await mkdir(runDir, { recursive: true });
  await writeFile(join(runDir, "model.onnx"), fixture.onnx);
  await writeFile(join(runDir, "manifest.json"), JSON.stringify(manifest));
  await writeFile(join(artifactsDir, "LATEST"), `${runId}\n`);
  return runDir;
}

describe("npm start on a local registry", () => {
  it("publishes each run once, and never re-promotes one, so a rollback stands", async () => {
    await withLocalBindings(async (env) => {
      let trained = 0;
      const start = (retrain = false) =>
        prepareProduction(env, {
          name: NAME,
          artifactsDir,
          retrain,
          train: () => writeRun(`trained-${++trained}`, fixtures[trained % fixtures.length]!),
        });
      const production = () => localAliasVersion(env, NAME, "production");

      expect((await start()).plan.action).toBe("train");
      expect(await production()).toBe(1);
      expect((await start()).plan.action).toBe("serve");

      await writeRun("run-b", fixtures[2]!);
      expect((await start()).published?.version).toBe(2);
      expect(await production()).toBe(2);

      await setAlias(openDb(env.DB), { name: NAME, alias: "production", version: 1, by: "ops", reason: "rollback" });
      for (let restart = 0; restart < 2; restart++) {
        expect((await start()).plan).toEqual({ action: "serve", message: "version 1 (run trained-1) is production; run run-b is version 2, left as it is" });
      }
      expect(await production()).toBe(1);
      expect(await runVersions(env, NAME, "run-b")).toEqual([2]);

      expect((await start(true)).published?.version).toBe(3);
      expect(await production()).toBe(3);
      expect(await runVersions(env, NAME, "trained-2")).toEqual([3]);
    }, join(dir, "state"));
  });
});
