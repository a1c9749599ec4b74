import { describe, expect, it } from "vitest";
import {
  CHURN_COLUMNS,
  CONTRACT_TYPES,
  INTERNET_SERVICES,
  PAYMENT_METHODS,
  generateChurnRows,
  toCsv,
  type ChurnRow,
} from "../../../trainer/data/synthetic";

const rate = (rows: ChurnRow[]) => rows.reduce((n, r) => n + r.churned, 0) / rows.length;
const churnRateWhere = (rows: ChurnRow[], keep: (r: ChurnRow) => boolean) => rate(rows.filter(keep));

describe("generateChurnRows", () => {
  const rows = generateChurnRows({ rows: 20_000, seed: 42 });

  it("is byte-identical for a seed and differs for another", () => {
    const a = toCsv(generateChurnRows({ rows: 500, seed: 42, messy: true }));
    expect(toCsv(generateChurnRows({ rows: 500, seed: 42, messy: true }))).toBe(a);
    expect(toCsv(generateChurnRows({ rows: 500, seed: 43, messy: true }))).not.toBe(a);
    expect(a.split("\n")[0]).toBe(CHURN_COLUMNS.join(","));
  });

  it("churns near 25%", () => {
    expect(rate(rows)).toBeGreaterThan(0.2);
    expect(rate(rows)).toBeLessThan(0.3);
  });

  it("keeps every feature in its documented range and category set", () => {
    const outOfRange = rows.filter(
      (r) =>
        !(Number.isInteger(r.tenure) && r.tenure >= 0 && r.tenure <= 72) ||
        !((r.monthly_charges as number) >= 18 && (r.monthly_charges as number) <= 120) ||
        !(Number.isInteger(r.num_products) && r.num_products >= 1 && r.num_products <= 10) ||
        !(CONTRACT_TYPES as readonly string[]).includes(r.contract_type) ||
        !(PAYMENT_METHODS as readonly string[]).includes(r.payment_method) ||
        !(INTERNET_SERVICES as readonly string[]).includes(r.internet_service),
    );
    expect(outOfRange).toEqual([]);
    expect(rows.filter((r) => r.num_products <= 4).length / rows.length).toBeGreaterThan(0.85);
    expect(new Set(rows.map((r) => r.num_products)).size).toBe(10);
  });

  it("makes total charges about tenure times monthly charges", () => {
    for (const r of rows.slice(0, 2000)) {
      const expected = r.tenure * (r.monthly_charges as number);
      expect(Math.abs((r.total_charges as number) - expected)).toBeLessThanOrEqual(0.25 * expected + 0.01);
    }
  });

  it("raises churn for month-to-month, short tenure, fiber, electronic check and high charges", () => {
    const m2m = churnRateWhere(rows, (r) => r.contract_type === "Month-to-month");
    const twoYear = churnRateWhere(rows, (r) => r.contract_type === "Two year");
    expect(m2m).toBeGreaterThan(2 * twoYear);
    expect(churnRateWhere(rows, (r) => r.tenure <= 6)).toBeGreaterThan(churnRateWhere(rows, (r) => r.tenure >= 48) + 0.2);
    expect(churnRateWhere(rows, (r) => r.internet_service === "Fiber optic")).toBeGreaterThan(
      churnRateWhere(rows, (r) => r.internet_service === "DSL"),
    );
    expect(churnRateWhere(rows, (r) => r.payment_method === "Electronic check")).toBeGreaterThan(
      churnRateWhere(rows, (r) => r.payment_method !== "Electronic check"),
    );
    expect(churnRateWhere(rows, (r) => (r.monthly_charges as number) > 90)).toBeGreaterThan(
      churnRateWhere(rows, (r) => (r.monthly_charges as number) < 40),
    );
  });
});

describe("messy cells", () => {
  const clean = generateChurnRows({ rows: 5000, seed: 9 });
  const messy = generateChurnRows({ rows: 5000, seed: 9, messy: true });

  it("blanks total charges of every tenure-0 customer and garbles a few others, changing nothing else", () => {
    let garbled = 0;
    const otherwiseDifferent: number[] = [];
    for (let i = 0; i < clean.length; i++) {
      const c = clean[i]!;
      const m = messy[i]!;
      const expected = c.tenure === 0 ? " " : m.total_charges === "n/a" ? "n/a" : c.total_charges;
      if (m.total_charges === "n/a" && c.tenure !== 0) garbled++;
      if (JSON.stringify({ ...c, total_charges: expected }) !== JSON.stringify(m)) otherwiseDifferent.push(i);
    }
    expect(otherwiseDifferent).toEqual([]);
    expect(clean.filter((r) => r.tenure === 0).length).toBeGreaterThan(10);
    expect(garbled).toBeGreaterThan(0);
    expect(garbled).toBeLessThan(50);
  });
});

describe("drift", () => {
  it("shifts a numeric feature by exactly the given amount, row by row", () => {
    const base = generateChurnRows({ rows: 1000, seed: 5 });
    const shifted = generateChurnRows({ rows: 1000, seed: 5, drift: { monthly_charges: { shift: 15 } } });
    for (let i = 0; i < base.length; i++)
      expect((shifted[i]!.monthly_charges as number) - (base[i]!.monthly_charges as number)).toBeCloseTo(15, 6);
  });

  it("reweights categories: month-to-month x3 takes its share from 55% to about 79%", () => {
    const share = (rows: ChurnRow[]) => rows.filter((r) => r.contract_type === "Month-to-month").length / rows.length;
    const drifted = generateChurnRows({ rows: 10_000, seed: 5, drift: { contract_type: { reweight: { "Month-to-month": 3 } } } });
    expect(share(generateChurnRows({ rows: 10_000, seed: 5 }))).toBeCloseTo(0.55, 1);
    expect(share(drifted)).toBeCloseTo(0.786, 1);
  });

  it("names what is wrong with a drift spec", () => {
    expect(() => generateChurnRows({ rows: 1, seed: 1, drift: { contract_type: { reweight: { Weekly: 2 } } } })).toThrow(
      'drift: contract_type has no category "Weekly"',
    );
    expect(() => generateChurnRows({ rows: 1, seed: 1, drift: { tenure: { reweight: { a: 1 } } } })).toThrow(
      "drift: tenure is numeric; use shift or scale, not reweight",
    );
    expect(() => generateChurnRows({ rows: 1, seed: 1, drift: { age: { shift: 1 } } as never })).toThrow("drift: unknown feature age");
  });
});

describe("toCsv", () => {
  it("quotes only fields that need it", () => {
    const csv = toCsv([{ a: 'say "hi"', b: "x,y", c: " ", d: 1.5 }]);
    expect(csv).toBe('a,b,c,d\n"say ""hi""","x,y", ,1.5\n');
  });
});
