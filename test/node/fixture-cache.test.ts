/**
 * The fixture cache's key (test/fixtures/fixture-cache.ts): it must change with every source the
 * fixtures are built from, followed import by import, and with the packages they import, or a
 * stale model would be served to the workers tests after a trainer change.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureCacheKey, fixtureInputs, importSpecifiers } from "../fixtures/fixture-cache";
import { PROJECT_ROOT } from "../../trainer/offline-env";

let root: string;

async function put(path: string, text: string) {
  await mkdir(join(root, path, ".."), { recursive: true });
  await writeFile(join(root, path), text);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "fixture-cache-"));
  await put("test/fixtures/build.ts", 'import { train } from "../../lib/train";\nimport type { T } from "../../lib/types";\nexport const x = await import("../../lib/lazy");\n');
  await put("lib/train.ts", 'export { helper } from "./helper";\nimport "./side-effect";\nimport { z } from "zod/v4";\nexport const train = 1;\n');
  await put("lib/helper.ts", "export const helper = 1;\n");
  await put("lib/side-effect.ts", "globalThis.x = 1;\n");
  await put("lib/types.ts", "export type T = number;\n");
  await put("lib/lazy.ts", "export const lazy = 1;\n");
  await put("lib/unrelated.ts", "export const unrelated = 1;\n");
  await put("whole/any.ts", "export const any = 1;\n");
  await put("node_modules/zod/package.json", JSON.stringify({ name: "zod", version: "4.0.0" }));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const key = () => fixtureCacheKey(root, ["test/fixtures/build.ts"], ["whole"]);

describe("fixture cache key", () => {
  it("finds static, type-only, re-exported, side-effect and dynamic imports", () => {
    expect(importSpecifiers('import a from "./a";\nimport type { B } from "./b";\nexport * from "./c";\nimport "./d";\nconst e = await import("./e");\n')).toEqual(
      expect.arrayContaining(["./a", "./b", "./c", "./d", "./e"]),
    );
  });

  it("covers every file the entries import, transitively, the whole directories, and the packages' versions", () => {
    const { files, packages } = fixtureInputs(root, ["test/fixtures/build.ts"], ["whole"]);
    expect(files.map((f) => relative(root, f))).toEqual([
      "lib/helper.ts",
      "lib/lazy.ts",
      "lib/side-effect.ts",
      "lib/train.ts",
      "lib/types.ts",
      "test/fixtures/build.ts",
      "whole/any.ts",
    ]);
    expect(packages).toEqual(["zod@4.0.0"]);
  });

  it("changes when any covered file or package version changes, and only then", async () => {
    const first = key();
    expect(key()).toBe(first);
    await put("lib/unrelated.ts", "export const unrelated = 2;\n");
    expect(key()).toBe(first);
    let last = first;
    for (const [path, text] of [
      ["lib/helper.ts", "export const helper = 2;\n"],
      ["lib/lazy.ts", "export const lazy = 2;\n"],
      ["whole/any.ts", "export const any = 2;\n"],
      ["node_modules/zod/package.json", JSON.stringify({ name: "zod", version: "4.0.1" })],
    ] as const) {
      await put(path, text);
      const next = key();
      expect(next, path).not.toBe(last);
      last = next;
    }
  });

  it("for the real fixtures, follows the trainer into the worker's contract and sees onnxruntime-web", () => {
    const { files, packages } = fixtureInputs();
    const covered = files.map((f) => relative(PROJECT_ROOT, f));
    expect(covered).toEqual(expect.arrayContaining(["test/fixtures/fixture-models.ts", "test/fixtures/trained-model.ts", "trainer/pipeline/train-run.ts", "trainer/onnx/export.ts", "worker/contract/manifest.ts"]));
    expect(packages.some((p) => p.startsWith("onnxruntime-web@"))).toBe(true);
  });
});
