import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand } from "citty";
import { describe, expect, it } from "vitest";
import { featureSpecSchema } from "../../../worker/contract/manifest";
import { loadConfig, type Config } from "../../../trainer/config";
import { generateDataCommand, generateDefaultData } from "../../../trainer/commands/generate-data";
import { sha256File, sha256Text } from "../../../trainer/data/fingerprint";
import { generateChurnRows, toCsv } from "../../../trainer/data/synthetic";
import type { Tree } from "../../../trainer/models/types";
import { exportOnnx } from "../../../trainer/onnx/export";
import { createSession, runRows } from "../../../trainer/onnx/node-runtime";
import { prepareData, rawRows } from "../../../trainer/pipeline/prepare";
import { testConfig } from "./test-config";
import { fitPreprocessing, transform } from "../../../trainer/preprocess";

const repoConfig = (): Config => loadConfig(fileURLToPath(new URL("../../../config.yaml", import.meta.url))).config;
const csvText = toCsv(generateChurnRows({ rows: 3000, seed: 11, messy: true }));

describe("prepareData", async () => {
  const config = repoConfig();
  const prepared = await prepareData(config, { csvText });
  const { train, validation, preprocessing } = prepared;

  it("splits stratified with exact per-class counts", () => {
    const positives = [...train.y, ...validation.y].reduce((n, v) => n + v, 0);
    const negatives = 3000 - positives;
    expect(validation.y.length).toBe(Math.round(positives * 0.2) + Math.round(negatives * 0.2));
    expect(validation.y.reduce((n, v) => n + v, 0)).toBe(Math.round(positives * 0.2));
    expect(train.y.length + validation.y.length).toBe(3000);
    expect(prepared.fingerprint).toEqual({
      sha256: sha256Text(csvText),
      rows: 3000,
      train_rows: train.y.length,
      validation_rows: validation.y.length,
    });
    expect(prepared.classes).toEqual(["0", "1"]);
  });

  it("fits the preprocessing on the training rows only", () => {
    const observed = Array.from(train.raw.numeric.total_charges!).filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
    const mid = observed.length >> 1;
    const median = observed.length % 2 ? observed[mid]! : (observed[mid - 1]! + observed[mid]!) / 2;
    expect(preprocessing.numeric.find((n) => n.name === "total_charges")!.impute).toBe(Math.fround(median));
    expect(preprocessing).toEqual(fitPreprocessing(train.raw, config.features));
    const all = fitPreprocessing(
      {
        numeric: { ...train.raw.numeric, tenure: Float64Array.from([...train.raw.numeric.tenure!, ...validation.raw.numeric.tenure!]) },
        categorical: train.raw.categorical,
      },
      config.features,
    );
    expect(all.numeric[0]!.mean).not.toBe(preprocessing.numeric[0]!.mean);
  });

  it("encodes both splits with the fitted preprocessing", () => {
    expect([train.X.rows, train.X.cols]).toEqual([train.y.length, 4 + 3 + 4 + 3]);
    expect(Array.from(validation.X.data)).toEqual(Array.from(transform(preprocessing, validation.raw).data));
    expect(Array.from(train.raw.rowNumbers.slice(0, 3)).every((r) => r >= 2)).toBe(true);
  });

  it("builds manifest feature specs from the config and the training split", () => {
    expect(prepared.features.map((f) => featureSpecSchema.parse(f))).toEqual(prepared.features);
    expect(prepared.features.map((f) => f.name)).toEqual([...config.features.numeric, ...config.features.categorical]);
    const [tenure, , totalCharges, products, contract, payment] = prepared.features;
    expect(tenure).toMatchObject({ kind: "numeric", min: 0, nullable: false, description: "Months as customer" });
    expect(totalCharges).toMatchObject({ kind: "numeric", nullable: true });
    expect(products).toMatchObject({ kind: "numeric", integer: true, min: 1, max: 10 });
    expect(contract).toEqual({
      name: "contract_type",
      kind: "categorical",
      categories: ["Month-to-month", "One year", "Two year"],
      closed: true,
      allowed: ["Month-to-month", "One year", "Two year"],
      nullable: false,
    });
    expect(payment).toMatchObject({ closed: false, categories: preprocessing.categorical[1]!.categories });
    expect(payment).not.toHaveProperty("allowed");
    const stats = tenure!.kind === "numeric" ? tenure!.stats! : undefined;
    const tenures = train.raw.numeric.tenure!;
    expect(stats?.max).toBe(Math.max(...tenures));
    expect(stats?.mean).toBeCloseTo(tenures.reduce((a, b) => a + b, 0) / tenures.length, 9);
  });

  it("carries the load report, with the messy total_charges cells", () => {
    expect(prepared.report.columns.total_charges!.blank.count).toBeGreaterThan(0);
    expect(prepared.report.warnings.some((w) => w.startsWith("total_charges: blank in"))).toBe(true);
  });

  it("is deterministic for the config's random_state", async () => {
    const again = await prepareData(config, { csvText });
    expect(Array.from(again.validation.raw.rowNumbers)).toEqual(Array.from(validation.raw.rowNumbers));
    const reseeded = await prepareData({ ...config, training: { ...config.training, random_state: 1 } }, { csvText });
    expect(Array.from(reseeded.validation.raw.rowNumbers)).not.toEqual(Array.from(validation.raw.rowNumbers));
  });

  it("gives raw rows as the API receives them, missing as null", () => {
    const rows = rawRows(validation.raw);
    expect(rows).toHaveLength(validation.y.length);
    expect(Object.keys(rows[0]!)).toEqual([...config.features.numeric, ...config.features.categorical]);
    const missing = Array.from(validation.raw.numeric.total_charges!).findIndex(Number.isNaN);
    expect(missing).toBeGreaterThanOrEqual(0);
    expect(rows[missing]!.total_charges).toBeNull();
    expect(rawRows(validation.raw, 2)).toEqual(rows.slice(0, 2));
  });

  it("warns about declared categories the training split never shows", async () => {
    const columns = { ...config.features.columns, internet_service: { values: ["DSL", "Fiber optic", "No", "Satellite"] } };
    const p = await prepareData({ ...config, features: { ...config.features, columns } }, { csvText });
    expect(p.report.warnings).toContain(
      'internet_service: declared value "Satellite" never appears in the training split; it encodes as all zeros',
    );
    expect(p.features[6]).toMatchObject({ closed: false, allowed: ["DSL", "Fiber optic", "No", "Satellite"] });
  });
});

describe("prepareData vs the ONNX graph", () => {
  it("encodes exactly what onnxruntime computes: probe trees split at every observed value", async () => {
    const config = repoConfig();
    const { validation, preprocessing, features } = await prepareData(config, { csvText });
    const { X } = validation;
    // Thresholds at the encoded values of some rows, including rows with imputed total_charges: a one-ulp
    // difference between this encoding and the graph's flips those rows to the other leaf.
    const missing = Array.from(validation.raw.numeric.total_charges!).flatMap((v, i) => (Number.isNaN(v) ? [i] : []));
    const probeRows = [...missing.slice(0, 4), 0, 1, 2, 3, 5, 8, 13, 21];
    const trees: Tree[] = [];
    for (let j = 0; j < X.cols; j++)
      for (const r of probeRows)
        trees.push({
          feature: Int32Array.from([j, -1, -1]),
          threshold: Float32Array.from([X.data[r * X.cols + j]!, 0, 0]),
          left: Int32Array.from([1, -1, -1]),
          right: Int32Array.from([2, -1, -1]),
          value: Float64Array.from([0, 0, 1]),
        });
    const expected = Array.from({ length: X.rows }, (_, r) => {
      let right = 0;
      for (const t of trees) if (!(X.data[r * X.cols + t.feature[0]!]! <= t.threshold[0]!)) right++;
      return right / trees.length;
    });
    const onnx = exportOnnx({ modelName: "probe", features, preprocessing, model: { family: "random_forest", trees }, producerVersion: "test" });
    const session = await createSession(onnx);
    try {
      const actual = await runRows(session, features, rawRows(validation.raw));
      const worst = expected.reduce((w, p, i) => Math.max(w, Math.abs(p - actual[i]!)), 0);
      expect(worst).toBeLessThan(1e-6); // one flipped comparison would be 1/trees.length ~ 7e-3
    } finally {
      await session.release();
    }
  });
});

describe("prepareData from a file", () => {
  it("resolves train_path against baseDir and reports progress", async () => {
    const dir = mkdtempSync(join(tmpdir(), "prepare-"));
    writeFileSync(join(dir, "train.csv"), csvText);
    const config = repoConfig();
    const rows: number[] = [];
    const p = await prepareData(
      { ...config, data: { ...config.data, train_path: "train.csv" } },
      { baseDir: dir, onProgress: (progress) => rows.push(progress.rows) },
    );
    expect(rows).toEqual([3000]);
    expect(p.fingerprint.sha256).toBe(await sha256File(join(dir, "train.csv")));
    expect(p.report.source).toBe(join(dir, "train.csv"));
  });
});

describe("fingerprint", () => {
  it("hashes text and files alike", async () => {
    expect(sha256Text("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const path = join(mkdtempSync(join(tmpdir(), "fp-")), "abc.txt");
    writeFileSync(path, "abc");
    expect(await sha256File(path)).toBe(sha256Text("abc"));
  });
});

describe("generate-data", () => {
  it("writes a messy training file plus current and drifted samples", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "gen-"));
    const files = await generateDefaultData({ outDir, rows: 1000, seed: 42 });
    expect(files).toEqual([
      { path: join(outDir, "churn_train.csv"), rows: 1000 },
      { path: join(outDir, "churn_current.csv"), rows: 200 },
      { path: join(outDir, "churn_drifted.csv"), rows: 200 },
    ]);
    const train = readFileSync(files[0]!.path, "utf8");
    expect(train).toBe(toCsv(generateChurnRows({ rows: 1000, seed: 42, messy: true })));
    const meanMonthly = (path: string) => {
      const lines = readFileSync(path, "utf8").trim().split("\n").slice(1);
      return lines.reduce((s, l) => s + Number(l.split(",")[1]), 0) / lines.length;
    };
    expect(meanMonthly(files[2]!.path) - meanMonthly(files[1]!.path)).toBeGreaterThan(10);
  });

  it("runs as a command, taking the seed from --seed or the config", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "gen-cmd-"));
    await runCommand(generateDataCommand, { rawArgs: ["--rows", "50", "--out-dir", outDir, "--seed", "3"] });
    expect(readFileSync(join(outDir, "churn_train.csv"), "utf8")).toBe(toCsv(generateChurnRows({ rows: 50, seed: 3, messy: true })));
    const configPath = fileURLToPath(new URL("../../../config.yaml", import.meta.url));
    await runCommand(generateDataCommand, { rawArgs: ["--rows", "50", "--out-dir", outDir, "--config", configPath] });
    expect(readFileSync(join(outDir, "churn_train.csv"), "utf8")).toBe(toCsv(generateChurnRows({ rows: 50, seed: 42, messy: true })));
    await expect(runCommand(generateDataCommand, { rawArgs: ["--rows", "ten", "--out-dir", outDir] })).rejects.toThrow(
      '--rows must be a whole number >= 1, got "ten"',
    );
  });
});

describe("prepareData: a file written by R (NA for missing cells)", () => {
  it("never makes NA a category or a number", async () => {
    const rows = Array.from({ length: 60 }, (_, i) => {
      const plan = i % 7 === 0 ? "NA" : i % 2 ? "basic" : "pro";
      const income = i % 5 === 0 ? "NA" : String(1000 + i);
      return `${20 + i},${income},${plan},${i % 3 === 0 ? 1 : 0}`;
    });
    const csvText = ["age,income,plan,churned", ...rows].join("\n");
    const config = testConfig({ features: { columns: { plan: { missing: { constant: "unknown" } } } } });
    const { preprocessing, report } = await prepareData(config, { csvText });
    expect(preprocessing.categorical[0]!.categories).toEqual(["basic", "pro", "unknown"]);
    expect(report.columns.plan!.na_values.count).toBe(9);
    expect(report.columns.income!.na_values.count).toBe(12);
    expect(report.columns.income!.non_numeric!.count).toBe(0);
  });
});
