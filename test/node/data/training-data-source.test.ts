/**
 * The record beside a fetched training CSV (trainer/data/training-data-source.ts): read back as
 * written, null for a file that was not fetched, and a file edited after its fetch refused by name.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkedDataSource, dataSourcePath, readDataSource, writeDataSource } from "../../../trainer/data/training-data-source";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "training-data-source-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("training data source record", () => {
  it("reads back what was written; a file with no record has no source", async () => {
    const csv = join(dir, "fetched.csv");
    await writeFile(csv, "a,b\n1,2\n");
    expect(readDataSource(csv)).toBeNull();
    expect(checkedDataSource(csv, sha256("a,b\n1,2\n"))).toBeNull();
    const source = { store: "r2" as const, bucket: "edge-mlops-models", key: "datasets/churn.csv", sha256: sha256("a,b\n1,2\n") };
    await writeDataSource(csv, source);
    expect(dataSourcePath(csv)).toBe(`${csv}.source.json`);
    expect(readDataSource(csv)).toEqual(source);
    expect(checkedDataSource(csv, source.sha256)).toEqual(source);
  });

  it("refuses a file whose bytes are not the ones fetched, naming the object and the way out", async () => {
    const csv = join(dir, "edited.csv");
    const fetched = sha256("a,b\n1,2\n");
    await writeDataSource(csv, { store: "r2", bucket: "b", key: "k.csv", sha256: fetched });
    expect(() => checkedDataSource(csv, sha256("a,b\n1,3\n"))).toThrow(
      `${csv} has sha256 ${sha256("a,b\n1,3\n").slice(0, 12)}…, not the ${fetched.slice(0, 12)}… fetched from r2://b/k.csv: it changed after the fetch; fetch it again (npm run data:fetch) or delete ${csv}.source.json to train on the file as it is`,
    );
  });

  it("names the field of a malformed record", async () => {
    const csv = join(dir, "bad.csv");
    await writeFile(dataSourcePath(csv), JSON.stringify({ store: "r2", bucket: "b", key: "k", sha256: "nothex" }));
    expect(() => readDataSource(csv)).toThrow(/bad\.csv\.source\.json is not a training data source record \(sha256: /);
  });
});
