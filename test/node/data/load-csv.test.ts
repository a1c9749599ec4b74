import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../trainer/config";
import { DataError } from "../../../trainer/data/data-error";
import { sha256Text } from "../../../trainer/data/fingerprint";
import { loadCsv, type LoadProgress } from "../../../trainer/data/load-csv";
import { testConfig, type ConfigPatch } from "./test-config";

const load = (text: string, patch?: ConfigPatch) => loadCsv({ text }, testConfig(patch));

/** The DataError a load throws (fails the test if it resolves or throws something else). */
async function dataError(text: string, patch?: ConfigPatch): Promise<DataError> {
  const err = await load(text, patch).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DataError);
  return err as DataError;
}

describe("loadCsv: clean data", () => {
  const text = "id,age,income,plan,churned\n1,30,1000.5,basic,0\n2,45,2000,pro,1\n3,-2.5e1,3e3,basic,0\n";

  it("coerces columns by the config schema and numbers rows from the header", async () => {
    const d = await load(text);
    expect(Array.from(d.numeric.age!)).toEqual([30, 45, -25]);
    expect(Array.from(d.numeric.income!)).toEqual([1000.5, 2000, 3000]);
    expect(d.categorical.plan).toEqual(["basic", "pro", "basic"]);
    expect(Array.from(d.y)).toEqual([0, 1, 0]);
    expect(Array.from(d.rowNumbers)).toEqual([2, 3, 4]);
    expect(d.classes).toEqual(["0", "1"]);
    expect(d.report.ignored_columns).toEqual(["id"]);
    expect(d.report.target.counts).toEqual({ "0": 2, "1": 1 });
    expect(d.report.rows_read).toBe(3);
    expect(d.report.warnings).toEqual([]);
  });

  it("hashes exactly the bytes it parsed", async () => {
    expect((await load(text)).sha256).toBe(sha256Text(text));
  });

  it("reports file lines as row numbers across blank lines, CRLF and quoted line breaks", async () => {
    const messy = 'age,income,plan,churned\r\n1,2,a,0\r\n\r\n3,4,"multi\nline",1\r\n5,,b,0';
    const d = await load(messy);
    expect(Array.from(d.rowNumbers)).toEqual([2, 4, 6]);
    expect(d.categorical.plan).toEqual(["a", "multi\nline", "b"]);
    expect(d.report.columns.income!.blank).toEqual({ count: 1, rows: [6] });
  });

  it("turns a malformed record into a DataError naming the line", async () => {
    const err = await dataError("age,income,plan,churned\n1,2,a,0\n1,2,a,0,extra\n");
    expect(err.message).toMatch(/line 3/);
  });

  it("rejects an empty file and a header without rows", async () => {
    expect((await dataError("")).message).toMatch(/empty/);
    expect((await dataError("age,income,plan,churned\n")).message).toMatch(/no data rows/);
  });
});

describe("loadCsv: numeric cells", () => {
  const csv = [
    "age,income,plan,churned",
    "30, ,basic,0", // whitespace-only
    "40,,pro,1", // empty
    "50,abc,basic,0",
    "60,0x1F,pro,1", // Number() would accept these three
    "70,Infinity,basic,0",
    "80,1e3,basic,1",
  ].join("\n");

  it("keeps blank and non-numeric cells as NaN under the median policy, reported separately", async () => {
    const d = await load(csv);
    const income = Array.from(d.numeric.income!);
    expect(income.slice(0, 5).every(Number.isNaN)).toBe(true);
    expect(income[5]).toBe(1000);
    const report = d.report.columns.income!;
    expect(report.missing_policy).toBe("median");
    expect(report.blank).toEqual({ count: 2, rows: [2, 3] });
    expect(report.non_numeric).toEqual({ count: 3, rows: [4, 5, 6], values: ["abc", "0x1F", "Infinity"] });
    expect(d.report.warnings).toEqual([
      "income: blank in 2 rows (rows 2, 3); imputed with the training median",
      'income: not a number in 3 rows (rows 4, 5, 6), values "abc", "0x1F", "Infinity"; imputed with the training median',
    ]);
    expect(d.imputeConstants).toEqual({});
  });

  it("drops the rows under the drop policy", async () => {
    const d = await load(csv, { features: { columns: { income: { missing: "drop" } } } });
    expect(Array.from(d.rowNumbers)).toEqual([7]);
    expect(d.report.dropped).toEqual({ duplicates: 0, missing: 5 });
    expect(d.report.rows_kept).toBe(1);
  });

  it("fills a constant at load time and records it for serving", async () => {
    const d = await load(csv, { features: { columns: { income: { missing: { constant: -1 } } } } });
    expect(Array.from(d.numeric.income!)).toEqual([-1, -1, -1, -1, -1, 1000]);
    expect(d.imputeConstants).toEqual({ income: -1 });
    expect(d.report.warnings[0]).toBe("income: blank in 2 rows (rows 2, 3); filled with -1");
  });

  it("throws under the error policy, naming every failing column with counts and rows", async () => {
    const text = "age,income,plan,churned\n,1,a,0\n2,x,a,1\n3,,a,0\n";
    const err = await dataError(text, {
      features: { columns: { age: { missing: "error" }, income: { missing: "error" } } },
    });
    expect(err.issues).toEqual([
      "age (with missing: error): blank in 1 row (row 2)",
      'income (with missing: error): blank in 1 row (row 4); not a number in 1 row (row 3), values "x"',
    ]);
  });

  it("counts every problem but keeps only the first five example rows", async () => {
    const rows = Array.from({ length: 8 }, (_, i) => `${i},,a,${i % 2}`);
    const d = await load(["age,income,plan,churned", ...rows].join("\n"));
    expect(d.report.columns.income!.blank).toEqual({ count: 8, rows: [2, 3, 4, 5, 6] });
    expect(d.report.warnings[0]).toBe("income: blank in 8 rows (e.g. rows 2, 3, 4, 5, 6); imputed with the training median");
  });

  it("reports values outside the serving constraints without changing them", async () => {
    const text = "age,income,plan,churned\n-1,5,a,0\n2.5,5,a,1\n200,5,a,0\n50,5,a,1\n";
    const d = await load(text, { features: { columns: { age: { min: 0, max: 120, integer: true } } } });
    expect(Array.from(d.numeric.age!)).toEqual([-1, 2.5, 200, 50]);
    expect(d.report.columns.age!.out_of_range).toEqual({ count: 3, rows: [2, 3, 4], values: ["-1", "2.5", "200"] });
    expect(d.report.warnings[0]).toMatch(/^age: outside the serving constraints \(min 0, max 120, integer\) in 3 rows/);
  });
});

describe("loadCsv: categorical cells", () => {
  const csv = "age,income,plan,churned\n1,1, basic ,0\n2,2,,1\n3,3,  ,0\n4,4,gold,1\n";

  it("trims values and drops blank cells by default", async () => {
    const d = await load(csv);
    expect(d.categorical.plan).toEqual(["basic", "gold"]);
    expect(Array.from(d.rowNumbers)).toEqual([2, 5]);
    expect(d.report.columns.plan!.blank).toEqual({ count: 2, rows: [3, 4] });
    expect(d.report.dropped.missing).toBe(2);
  });

  it("fills a categorical constant", async () => {
    const d = await load(csv, { features: { columns: { plan: { missing: { constant: "unknown" } } } } });
    expect(d.categorical.plan).toEqual(["basic", "unknown", "unknown", "gold"]);
    expect(d.imputeConstants).toEqual({});
    expect(d.imputeCategories).toEqual({ plan: "unknown" });
  });

  it("reports values outside the declared list", async () => {
    const d = await load(csv, { features: { columns: { plan: { values: ["basic", "pro"], closed: true } } } });
    expect(d.report.columns.plan!.undeclared).toEqual({ count: 1, rows: [5], values: ["gold"] });
  });

  it("refuses policies that cannot apply to the column as config errors", async () => {
    await expect(load(csv, { features: { columns: { plan: { missing: "median" } } } })).rejects.toThrow(ConfigError);
    await expect(load(csv, { features: { columns: { plan: { missing: "median" } } } })).rejects.toThrow(
      /features\.columns\.plan\.missing: categorical column plan cannot be imputed with a median/,
    );
    await expect(load(csv, { features: { columns: { age: { missing: { constant: "zero" } } } } })).rejects.toThrow(
      /age needs a numeric constant, got "zero"/,
    );
  });
});

describe("loadCsv: missing-value markers (data.na_values)", () => {
  // As R's write.csv and pandas' to_csv write gaps: NA, N/A (padded here), nan, null.
  const csv = [
    "age,income,plan,churned",
    "30,NA,basic,0",
    "NA,2000,NA,1",
    "40, N/A ,pro,0",
    "50,1000,null,1",
    "60,nan,gold,0",
  ].join("\n");
  const keepPlan = { features: { columns: { plan: { missing: { constant: "unknown" } } } } };

  it("treats pandas' default markers as missing in numeric and categorical columns and counts them", async () => {
    const d = await load(csv, keepPlan);
    expect(Array.from(d.numeric.age!).map((v) => (Number.isNaN(v) ? null : v))).toEqual([30, null, 40, 50, 60]);
    expect(Array.from(d.numeric.income!).map((v) => (Number.isNaN(v) ? null : v))).toEqual([null, 2000, null, 1000, null]);
    expect(d.categorical.plan).toEqual(["basic", "unknown", "pro", "unknown", "gold"]);
    const { income, plan, age } = d.report.columns;
    expect(income!.na_values).toEqual({ count: 3, rows: [2, 4, 6], values: ["NA", "N/A", "nan"] });
    expect(income!.blank.count).toBe(0);
    expect(income!.non_numeric!.count).toBe(0);
    expect(plan!.na_values).toEqual({ count: 2, rows: [3, 5], values: ["NA", "null"] });
    expect(age!.na_values).toEqual({ count: 1, rows: [3], values: ["NA"] });
    expect(d.report.warnings).toContain(
      'income: marked missing (data.na_values) in 3 rows (rows 2, 4, 6), values "NA", "N/A", "nan"; imputed with the training median',
    );
    expect(d.report.warnings).toContain('plan: marked missing (data.na_values) in 2 rows (rows 3, 5), values "NA", "null"; filled with "unknown"');
  });

  it("drops rows with a marker under the categorical default (drop), as it drops blanks", async () => {
    const d = await load(csv);
    expect(d.categorical.plan).toEqual(["basic", "pro", "gold"]);
    expect(d.report.dropped.missing).toBe(2);
  });

  it("fails under missing: error, naming the marker cells", async () => {
    const err = await dataError(csv, { features: { columns: { plan: { missing: "error" } } } });
    expect(err.issues).toEqual(['plan (with missing: error): marked missing in 2 rows (rows 3, 5), values "NA", "null"']);
  });

  it("uses only the configured markers when data.na_values is given", async () => {
    const d = await load("age,income,plan,churned\n1,?,NA,0\n2,NA,?,1\n", { data: { na_values: ["?"] }, ...keepPlan });
    expect(d.categorical.plan).toEqual(["NA", "unknown"]);
    expect(d.report.columns.income!.na_values).toEqual({ count: 1, rows: [2], values: ["?"] });
    expect(d.report.columns.income!.non_numeric).toEqual({ count: 1, rows: [3], values: ["NA"] });
  });
});

describe("loadCsv: columns", () => {
  it("names every missing column, with a hint when only the case differs", async () => {
    const err = await dataError("Age,plan,target\n1,a,0\n");
    expect(err.issues).toEqual(['missing columns: age (the file has "Age"), income, churned']);
  });

  it("rejects a required column that appears twice", async () => {
    const err = await dataError("age,income,plan,churned,age\n1,2,a,0,3\n");
    expect(err.issues).toEqual(["column age appears more than once in the header"]);
  });
});

describe("loadCsv: target", () => {
  const rows = (targets: string[]) => ["age,income,plan,churned", ...targets.map((t, i) => `${i},1,a,${t}`)].join("\n");

  it("lists values that are neither class with their rows", async () => {
    const err = await dataError(rows(["0", "1", "2", " 1 ", "", "0", "yes", "2"]));
    expect(err.issues).toEqual([
      'target churned: value "2" is neither class (positive "1", negative "0") in 2 rows (rows 4, 9)',
      'target churned: value (blank) is neither class (positive "1", negative "0") in 1 row (row 6)',
      'target churned: value "yes" is neither class (positive "1", negative "0") in 1 row (row 8)',
    ]);
    expect(err.message).toMatch(/data\.csv|csv text/);
  });

  it("prefers the declared class's partner over a more frequent stray value", async () => {
    const err = await dataError(rows(["No", "Maybe", "Maybe", "Maybe", "Yes"]), { data: { positive_class: "Yes" } });
    expect(err.issues).toEqual([
      'target churned: value "Maybe" is neither class (positive "Yes", negative "No") in 3 rows (rows 3, 4, 5)',
    ]);
  });

  it("says when the positive class never appears or only one class does", async () => {
    expect((await dataError(rows(["Yes", "No"]))).issues).toEqual([
      'target churned: the positive class "1" never appears; values found: "Yes" (1), "No" (1)',
    ]);
    expect((await dataError(rows(["1", "1", ""]))).issues).toEqual([
      'target churned: only one class found; values found: "1" (2), "" (1)',
    ]);
  });

  it("accepts any two-valued target whose positive class is declared, numbers compared as strings", async () => {
    const yesNo = await load(rows(["No", "Yes", "No"]), { data: { positive_class: "Yes" } });
    expect(yesNo.classes).toEqual(["No", "Yes"]);
    expect(Array.from(yesNo.y)).toEqual([0, 1, 0]);
    const bools = await load(rows(["true", "false"]), { data: { positive_class: "false" } });
    expect(Array.from(bools.y)).toEqual([0, 1]);
    expect(bools.classes).toEqual(["true", "false"]);
    const numeric = await load(rows(["0", "1"]), { data: { positive_class: 1 } });
    expect(Array.from(numeric.y)).toEqual([0, 1]);
    const decimals = await dataError(rows(["0.0", "1.0"]), { data: { positive_class: 1 } });
    expect(decimals.issues[0]).toMatch(/positive class "1" never appears/);
  });
});

describe("loadCsv: duplicates", () => {
  const csv = "age,income,plan,churned\n1,2,a,0\n3,4,b,1\n1,2,a,0\n1,2,a,0\n1, 2,a,0\n";

  it("counts exact duplicate rows and keeps them by default", async () => {
    const d = await load(csv);
    expect(d.report.duplicates).toEqual({ count: 2, rows: [4, 5], action: "keep" });
    expect(d.report.rows_kept).toBe(5);
    expect(d.report.warnings).toContain("duplicate rows: 2 rows (rows 4, 5); kept");
  });

  it("counts a quoted spelling of the same cells as a duplicate, and a different split as not", async () => {
    const d = await load('age,income,plan,churned\n1,2,a,0\n"1","2","a","0"\n1,2,"a,0",0\n5,6,b,1\n');
    expect(d.report.duplicates).toEqual({ count: 1, rows: [3], action: "keep" });
  });

  it("drops them under data.duplicates: drop", async () => {
    const d = await load(csv, { data: { duplicates: "drop" } });
    expect(Array.from(d.rowNumbers)).toEqual([2, 3, 6]);
    expect(d.report.dropped).toEqual({ duplicates: 2, missing: 0 });
  });
});

describe("loadCsv: files", () => {
  it("streams a file, reporting progress, and hashes the file bytes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "load-csv-"));
    const path = join(dir, "data.csv");
    const lines = Array.from({ length: 25 }, (_, i) => `${i},${i * 2},a,${i % 2}`);
    const text = `\uFEFFage,income,plan,churned\n${lines.join("\n")}\n`;
    writeFileSync(path, text);
    const progress: LoadProgress[] = [];
    const d = await loadCsv({ path }, testConfig(), { onProgress: (p) => progress.push(p), progressEvery: 10 });
    expect(d.y.length).toBe(25);
    expect(progress.map((p) => p.rows)).toEqual([10, 20, 25]);
    expect(progress.at(-1)!.totalBytes).toBe(Buffer.byteLength(text));
    expect(d.sha256).toBe(sha256Text(text));
    expect(d.report.source).toBe(path);
  });

  it("turns a missing file into a DataError naming it", async () => {
    await expect(loadCsv({ path: "/nonexistent/train.csv" }, testConfig())).rejects.toThrow(
      new DataError("training data not found: /nonexistent/train.csv"),
    );
  });
});
