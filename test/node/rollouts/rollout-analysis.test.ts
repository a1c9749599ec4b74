/**
 * The rollout step's judgement on hand-computed windows: each check's figure and verdict, and how
 * they combine (a failure aborts, a waiting check holds, else pass).
 */
import { describe, expect, it } from "vitest";
import { LATENCY_BUCKETS } from "../../../worker/metrics/families";
import { type ArmWindow, DEFAULT_CHECKS, evaluateStep, histogramQuantile, scorePsi } from "../../../worker/rollouts/rollout-analysis";

/** Counts per latency bucket from {bucket index: count}. */
function buckets(at: Record<number, number>): number[] {
  return Array.from({ length: LATENCY_BUCKETS.length + 1 }, (_, i) => at[i] ?? 0);
}

const scores = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

function arm(overrides: Partial<ArmWindow> = {}): ArmWindow {
  return {
    version: 1,
    successes: 200,
    serverErrors: 0,
    // All 200 in (5 ms, 10 ms]: p95 = 0.005 + 0.005 × 190/200 = 0.00975.
    latencyBuckets: buckets({ 3: 200 }),
    scores: scores(100, (i) => i / 100),
    labels: { labels: [], scores: [] },
    ...overrides,
  };
}

const check = (e: ReturnType<typeof evaluateStep>, name: string) => e.checks.find((c) => c.name === name)!;

describe("histogramQuantile", () => {
  it("interpolates linearly inside the bucket the rank falls in", () => {
    // 10 in (2.5 ms, 5 ms], 10 in (5 ms, 10 ms]; rank 19 is the 9th of the second: 5 + 5 × 9/10 ms.
    expect(histogramQuantile(0.95, buckets({ 2: 10, 3: 10 }))).toBeCloseTo(0.0095, 12);
    // rank 10 of 20 ends the first bucket exactly: its upper bound.
    expect(histogramQuantile(0.5, buckets({ 2: 10, 3: 10 }))).toBeCloseTo(0.005, 12);
    // The first bucket starts at 0.
    expect(histogramQuantile(0.5, buckets({ 0: 4 }))).toBeCloseTo(0.0005, 12);
    // In +Inf: the largest finite bound.
    expect(histogramQuantile(0.99, buckets({ [LATENCY_BUCKETS.length]: 5 }))).toBe(10);
    expect(histogramQuantile(0.95, buckets({}))).toBeNull();
  });
});

describe("scorePsi", () => {
  const reference = scores(100, (i) => i / 100);

  it("is 0 for the same scores", () => {
    expect(scorePsi(reference, reference)).toBe(0);
  });

  it("matches Σ (c - r) ln(c / r) over the reference's deciles, computed by hand", () => {
    // Edges 0.10, 0.20, ..., 0.90 (values at ranks 10, 20, ..., 90); a value equal to an edge falls
    // in the bin below it: 11 reference values in the first bin (0.00-0.10), 10 in each middle one,
    // 9 in the last (0.91-0.99). Every current score is 0.95: all in the last bin; the empty bins
    // count as 1e-4 (the drift report's epsilon).
    const r = [0.11, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.09];
    const c = [1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 1];
    const expected = r.reduce((sum, ri, i) => sum + (c[i]! - ri) * Math.log(c[i]! / ri), 0);
    expect(scorePsi(reference, scores(50, () => 0.95))).toBeCloseTo(expected, 10);
    expect(expected).toBeGreaterThan(3);
  });
});

describe("evaluateStep", () => {
  it("passes two healthy arms: every check with both arms' numbers", () => {
    const e = evaluateStep(arm(), arm({ version: 2 }), DEFAULT_CHECKS, 100);
    expect(e.decision).toBe("pass");
    expect(check(e, "requests")).toMatchObject({ primary: 200, canary: 200, pass: true });
    expect(check(e, "error_rate")).toMatchObject({ primary: 0, canary: 0, limit: 0.005, pass: true });
    expect(check(e, "latency_p95").primary).toBeCloseTo(0.00975, 12);
    expect(check(e, "latency_p95").limit).toBeCloseTo(0.00975 * 1.5, 12);
    expect(check(e, "score_psi")).toMatchObject({ canary: 0, pass: true });
    // No labels: not judged, and not holding the step.
    expect(check(e, "realized_auc")).toMatchObject({ pass: null, blocking: false });
  });

  it("waits below min_requests on either arm, however the other checks look", () => {
    const e = evaluateStep(arm(), arm({ successes: 40, serverErrors: 40 }), DEFAULT_CHECKS, 100);
    expect(e.decision).toBe("wait");
    expect(check(e, "requests")).toMatchObject({ primary: 200, canary: 80, pass: null, blocking: true });
    expect(e.checks.some((c) => c.name === "error_rate")).toBe(false);
  });

  it("fails when the canary's error rate exceeds the primary's by more than the allowed points", () => {
    // Primary 5 of 1,000 (0.5%), limit 0.5% + 0.5 points = 1%. Canary 2 of 200 = 1%: passes; 3 of 200 = 1.5%: fails.
    const primary = arm({ successes: 995, serverErrors: 5 });
    expect(evaluateStep(primary, arm({ successes: 198, serverErrors: 2 }), DEFAULT_CHECKS, 100).decision).toBe("pass");
    const e = evaluateStep(primary, arm({ successes: 197, serverErrors: 3 }), DEFAULT_CHECKS, 100);
    expect(e.decision).toBe("fail");
    expect(check(e, "error_rate")).toMatchObject({ primary: 0.005, canary: 0.015, pass: false });
    expect(check(e, "error_rate").limit).toBeCloseTo(0.01, 12);
  });

  it("fails a canary whose p95 latency is over the ratio", () => {
    // Canary: all in (25 ms, 50 ms], p95 = 0.025 + 0.025 × 0.95 = 0.04875 > 1.5 × 0.00975.
    const e = evaluateStep(arm(), arm({ latencyBuckets: buckets({ 5: 200 }) }), DEFAULT_CHECKS, 100);
    expect(e.decision).toBe("fail");
    expect(check(e, "latency_p95").canary).toBeCloseTo(0.04875, 12);
    expect(check(e, "latency_p95").pass).toBe(false);
  });

  it("does not judge p95 latency below min_latency_requests on an arm: a new canary's session loads on its first requests", () => {
    const slowStart = arm({ successes: 30, latencyBuckets: buckets({ 3: 27, 7: 3 }) });
    const e = evaluateStep(arm(), slowStart, DEFAULT_CHECKS, 20);
    expect(check(e, "latency_p95")).toMatchObject({ pass: null, blocking: false });
    expect(check(e, "latency_p95").note).toMatch(/fewer than 100 successful requests/);
    expect(evaluateStep(arm(), slowStart, { ...DEFAULT_CHECKS, min_latency_requests: 20 }, 20).decision).toBe("fail");
  });

  it("fails a shifted score distribution, waits for enough sampled scores, and can be switched off", () => {
    const shifted = arm({ scores: scores(100, () => 0.95) });
    const e = evaluateStep(arm(), shifted, DEFAULT_CHECKS, 100);
    expect(e.decision).toBe("fail");
    expect(check(e, "score_psi").pass).toBe(false);
    expect(check(e, "score_psi").p_value!).toBeLessThan(1e-10);
    const few = evaluateStep(arm(), arm({ scores: scores(99, (i) => i / 100) }), DEFAULT_CHECKS, 100);
    expect(few.decision).toBe("wait");
    expect(check(few, "score_psi")).toMatchObject({ pass: null, blocking: true });
    expect(evaluateStep(arm(), shifted, { ...DEFAULT_CHECKS, max_score_psi: null }, 100).decision).toBe("pass");
  });

  it("before the step's minutes are up, a failing score check is pending, not an abort; error rate still aborts at once", () => {
    const shifted = arm({ scores: scores(100, () => 0.95) });
    const early = evaluateStep(arm(), shifted, DEFAULT_CHECKS, 100, false);
    expect(early.decision).toBe("wait");
    expect(check(early, "score_psi")).toMatchObject({ pass: null, blocking: true });
    expect(check(early, "score_psi").note).toMatch(/judged when the step's minutes are up/);
    expect(evaluateStep(arm(), shifted, DEFAULT_CHECKS, 100, true).decision).toBe("fail");
    expect(evaluateStep(arm(), arm({ successes: 150, serverErrors: 50 }), DEFAULT_CHECKS, 100, false).decision).toBe("fail");
  });

  it("a PSI over the limit that a KS test does not find significant passes, with both figures in the evidence", () => {
    // 15 scores, three in each even decile of the primary's (0.05, 0.25, ...): the odd deciles are
    // empty, so the PSI is large (over 3), but the empirical CDFs never differ by more than 0.1
    // (KS D = 0.1 on 100 vs 15 values), far from significant.
    const clustered = scores(15, (i) => [0.05, 0.25, 0.45, 0.65, 0.85][i % 5]!);
    const e = evaluateStep(arm(), arm({ scores: clustered }), { ...DEFAULT_CHECKS, min_scores: 10 }, 100);
    const psi = check(e, "score_psi");
    expect(psi.canary!).toBeGreaterThan(3);
    expect(psi.p_value!).toBeGreaterThan(0.5);
    expect(psi.pass).toBe(true);
    expect(e.decision).toBe("pass");
  });

  it("judges realized AUC only once both arms have enough labels: canary ≥ primary − margin", () => {
    // Primary: positives all outscore negatives (AUC 1). Canary: ranks reversed for a fifth of pairs.
    const n = 100;
    const labels = scores(n, (i) => (i < 50 ? 0 : 1));
    const perfect = { labels, scores: scores(n, (i) => i / n) };
    // Canary scores: negatives 0..49 → i/100; positives → (i - 40)/100, so positive 50..59 score 0.10..0.19,
    // below negatives 11..49 etc. Its AUC is computed by the Mann-Whitney count in the test below.
    const worse = { labels, scores: scores(n, (i) => (i < 50 ? i / n : (i - 40) / n)) };
    let wins = 0;
    for (let p = 50; p < n; p++) for (let q = 0; q < 50; q++) wins += worse.scores[p]! > worse.scores[q]! ? 1 : worse.scores[p] === worse.scores[q] ? 0.5 : 0;
    const canaryAuc = wins / (50 * 50);
    const e = evaluateStep(arm({ labels: perfect }), arm({ labels: worse }), DEFAULT_CHECKS, 100);
    expect(check(e, "realized_auc")).toMatchObject({ primary: 1, pass: canaryAuc >= 0.98 });
    expect(check(e, "realized_auc").canary).toBeCloseTo(canaryAuc, 12);
    expect(canaryAuc).toBeLessThan(0.98);
    expect(e.decision).toBe("fail");
    expect(evaluateStep(arm({ labels: perfect }), arm({ labels: perfect }), DEFAULT_CHECKS, 100).decision).toBe("pass");
  });
});
