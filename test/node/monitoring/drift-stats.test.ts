/**
 * Drift statistics against scipy 1.10 (fixtures from scripts/reference/drift_stats_reference.py)
 * and against small cases worked by hand.
 *
 * Tolerance against scipy: 1e-6 absolute on every statistic and p-value, the accuracy the drift
 * report requires; the special functions are also held to 1e-12 relative where the values allow it.
 */
import { describe, expect, it } from "vitest";
import {
  benjaminiHochberg,
  chiSquareHomogeneity,
  ksTwoSample,
  psi,
  psiCategorical,
  PSI_EMPTY_BIN_EPSILON,
} from "../../../worker/monitoring/drift-stats";
import { durbinMatrixCdf, kolmogorovSurvival, pelzGoodCdf } from "../../../worker/monitoring/kolmogorov-distribution";
import { chiSquareSurvival, logGamma, regularizedGammaP, regularizedGammaQ } from "../../../worker/monitoring/special-functions";
import { driftStatsReference as reference } from "./fixtures/drift-stats-reference";
import { exactSum, lcgSample } from "./fixtures/lcg-samples";
import { expectClose } from "../../helpers/expect-close";

const SCIPY_TOLERANCE = 1e-6;

function expectRelative(actual: number, expected: number, relative: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(relative * Math.abs(expected));
}

describe("ksTwoSample against scipy.stats.ks_2samp (1e-6)", () => {
  for (const c of reference.ks) {
    it(c.name, () => {
      let ref: number[];
      let cur: number[];
      if (c.generated) {
        ref = lcgSample(c.generated.reference);
        cur = lcgSample(c.generated.current);
        expectRelative(exactSum(ref), c.referenceSum!, 1e-12);
        expectRelative(exactSum(cur), c.currentSum!, 1e-12);
      } else {
        ref = c.reference!;
        cur = c.current!;
      }
      const result = ksTwoSample(ref, cur);
      expectClose(result.statistic, c.statistic, SCIPY_TOLERANCE);
      expectClose(result.pValue, c.pValue, SCIPY_TOLERANCE);
      if (c.pValue > 1e-300) expectRelative(result.pValue, c.pValue, 1e-6);
      expect(result.method).toBe(Math.max(ref.length, cur.length) <= 10_000 ? "exact" : "asymptotic");
    });
  }
});

describe("Kolmogorov distribution against scipy.stats.kstwo.sf (1e-6)", () => {
  it("matches on a grid that reaches every branch", () => {
    for (const point of reference.kolmogorov) expectClose(kolmogorovSurvival(point.n, point.x), point.sf, SCIPY_TOLERANCE);
  });

  it("the exact Durbin matrix and the Pelz-Good expansion agree where both apply", () => {
    expectClose(durbinMatrixCdf(1000, 0.03), pelzGoodCdf(1000, 0.03), 1e-5);
  });
});

describe("ksTwoSample by hand", () => {
  it("disjoint samples have D = 1 and exact p = 2 / C(6, 3)", () => {
    const result = ksTwoSample([1, 2, 3], [4, 5, 6]);
    expect(result.statistic).toBe(1);
    expectClose(result.pValue, 2 / 20, 1e-15);
  });

  it("identical samples have D = 0 and p = 1", () => {
    expect(ksTwoSample([3, 1, 2, 2], [2, 1, 3, 2])).toMatchObject({ statistic: 0, pValue: 1 });
  });

  it("a tied value moves both ECDFs at once", () => {
    // ECDFs after 1: 1/2 vs 1/2; after 2: 1 vs 1/2, so D = 1/2.
    expect(ksTwoSample([1, 2], [1, 3]).statistic).toBe(0.5);
  });

  it("drops NaN and refuses an empty sample", () => {
    expect(ksTwoSample([1, Number.NaN, 2, 3], [4, 5, 6, Number.NaN])).toMatchObject(ksTwoSample([1, 2, 3], [4, 5, 6]));
    expect(() => ksTwoSample([], [1])).toThrow(/reference sample is empty/);
    expect(() => ksTwoSample([1], [Number.NaN])).toThrow(/current sample is empty/);
  });

  it("exact p-values equal the permutation distribution, enumerated over every split of 1..m+n", () => {
    for (const [m, n] of [[4, 6], [5, 5], [3, 8], [6, 9]] as const) {
      const pooled = Array.from({ length: m + n }, (_, i) => i + 1);
      const splits: { reference: number[]; current: number[]; statistic: number }[] = [];
      const choose = (start: number, picked: number[]): void => {
        if (picked.length === m) {
          const current = pooled.filter((v) => !picked.includes(v));
          splits.push({ reference: picked, current, statistic: ksTwoSample(picked, current).statistic });
          return;
        }
        for (let v = start; v <= m + n; v++) choose(v + 1, [...picked, v]);
      };
      choose(1, []);
      const checked = new Set<number>();
      for (const split of splits) {
        if (checked.has(split.statistic)) continue;
        checked.add(split.statistic);
        const share = splits.filter((s) => s.statistic >= split.statistic - 1e-12).length / splits.length;
        expectClose(ksTwoSample(split.reference, split.current).pValue, share, 1e-12);
      }
      expect(checked.size).toBeGreaterThan(3);
    }
  });

  it("does not depend on input order", () => {
    expect(ksTwoSample([5, 1, 4, 2], [3, 0, 6])).toEqual(ksTwoSample([1, 2, 4, 5], [6, 3, 0]));
  });
});

describe("special functions", () => {
  it("regularized incomplete gamma matches scipy.special.gammaincc / gammainc (1e-12 relative)", () => {
    for (const g of reference.gamma) {
      expectRelative(regularizedGammaQ(g.a, g.x), g.q, 1e-12);
      expectRelative(regularizedGammaP(g.a, g.x), g.p, 1e-12);
    }
  });

  it("log-gamma on integers and halves", () => {
    expectRelative(logGamma(10), Math.log(362880), 1e-14);
    expectRelative(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14);
    expectRelative(logGamma(100), 359.13420536957539878, 1e-15);
  });

  it("chi-squared survival in closed form: dof 2 is e^{-x/2}", () => {
    for (const x of [0.1, 1, 5, 40]) expectRelative(chiSquareSurvival(x, 2), Math.exp(-x / 2), 1e-13);
  });
});

describe("chiSquareHomogeneity against scipy.stats.chi2_contingency(correction=False) (1e-6)", () => {
  for (const c of reference.chiSquare) {
    it(c.name, () => {
      const result = chiSquareHomogeneity(c.reference, c.current);
      expect(result.dof).toBe(c.dof);
      expectClose(result.statistic, c.statistic, SCIPY_TOLERANCE);
      expectClose(result.pValue, c.pValue, SCIPY_TOLERANCE);
      if (c.pValue > 0) expectRelative(result.pValue, c.pValue, 1e-9);
    });
  }
});

describe("chiSquareHomogeneity by hand", () => {
  it("2x2 table [[10, 20], [20, 10]]: every expected count is 15, so chi2 = 4 * 25/15", () => {
    const result = chiSquareHomogeneity({ a: 10, b: 20 }, { a: 20, b: 10 });
    expectClose(result.statistic, 20 / 3, 1e-12);
    expect(result.dof).toBe(1);
    expectClose(result.pValue, chiSquareSurvival(20 / 3, 1), 1e-15);
  });

  it("rejects empty rows and negative counts", () => {
    expect(() => chiSquareHomogeneity({}, { a: 1 })).toThrow(/reference counts are all zero/);
    expect(() => chiSquareHomogeneity({ a: 1 }, { a: 0 })).toThrow(/current counts are all zero/);
    expect(() => chiSquareHomogeneity({ a: -1 }, { a: 1 })).toThrow(/reference count for "a"/);
  });
});

describe("psi against the definition computed in numpy (1e-6)", () => {
  for (const c of reference.psi.cases) {
    it(c.name, () => {
      const histogram = reference.psi.histograms[c.histogram]!;
      let current: number[];
      if (c.generated) {
        current = lcgSample(c.generated);
        expectRelative(exactSum(current), c.currentSum!, 1e-12);
      } else {
        current = c.current!;
      }
      expectClose(psi(histogram, current).statistic, c.psi, SCIPY_TOLERANCE);
    });
  }

  for (const c of reference.psiCategorical) {
    it(`categorical: ${c.name}`, () => {
      expectClose(psiCategorical(c.reference, c.current).statistic, c.psi, SCIPY_TOLERANCE);
    });
  }
});

describe("psi by hand", () => {
  it("is 0 when current matches the reference bins", () => {
    const result = psi({ edges: [0], counts: [5, 5] }, [-1, -2, 1, 2]);
    expect(result.statistic).toBe(0);
    expect(result.currentProportions).toEqual([0.5, 0.5]);
  });

  it("two bins 0.5/0.5 against 0.25/0.75: 0.5 ln 3", () => {
    // (0.25 - 0.5) ln(0.5) + (0.75 - 0.5) ln(1.5) = 0.25 ln 3
    expectClose(psi({ edges: [0], counts: [1, 1] }, [-1, 1, 2, 3]).statistic, 0.25 * Math.log(3), 1e-15);
  });

  it("an empty bin takes epsilon (1e-4 by default)", () => {
    expect(PSI_EMPTY_BIN_EPSILON).toBe(1e-4);
    const result = psi({ edges: [0], counts: [1, 1] }, [1, 2], { epsilon: 1e-3 });
    expect(result.currentProportions).toEqual([1e-3, 1]);
    expectClose(result.statistic, (1e-3 - 0.5) * Math.log(1e-3 / 0.5) + 0.5 * Math.log(2), 1e-15);
  });

  it("a value equal to an edge falls in the bin below it, as the trainer counted", () => {
    expect(psi({ edges: [0, 1], counts: [1, 1, 1] }, [0, 1, 2]).currentProportions).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it("refuses an empty current sample or reference histogram", () => {
    expect(() => psi({ edges: [0], counts: [1, 1] }, [Number.NaN])).toThrow(/current sample is empty/);
    expect(() => psi({ edges: [0], counts: [0, 0] }, [1])).toThrow(/reference histogram is empty/);
    expect(() => psi({ edges: [0], counts: [1] }, [1])).toThrow(/1 edges but 1 counts/);
  });
});

describe("benjaminiHochberg", () => {
  it("matches the definition (scipy 1.10 has no false_discovery_control; values from numpy, 1e-12)", () => {
    for (const c of reference.benjaminiHochberg) {
      const adjusted = benjaminiHochberg(c.pValues);
      expect(adjusted).toHaveLength(c.adjusted.length);
      adjusted.forEach((p, i) => expectClose(p, c.adjusted[i]!, 1e-12));
    }
  });

  it("by hand: [0.01, 0.04, 0.03] -> [0.03, 0.04, 0.04]", () => {
    const adjusted = benjaminiHochberg([0.01, 0.04, 0.03]);
    [0.03, 0.04, 0.04].forEach((p, i) => expectClose(adjusted[i]!, p, 1e-15));
  });

  it("rejects values outside [0, 1]", () => {
    expect(() => benjaminiHochberg([0.5, 1.2])).toThrow(/p-value 1/);
  });
});
