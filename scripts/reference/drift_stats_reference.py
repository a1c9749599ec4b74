"""Reference values for worker/monitoring/drift-stats.ts from scipy and numpy.

Writes test/node/monitoring/fixtures/drift-stats-reference.ts. CI has no scipy, so the numbers are
committed; rerun after changing the cases below:

    apt-get install -y python3-scipy
    /usr/bin/python3 scripts/reference/drift_stats_reference.py

Small samples are stored as they are. Large ones (thousands of values) are described by parameters
of a Park-Miller LCG (multiplier 48271, modulus 2^31 - 1) that test/node/monitoring/fixtures/lcg-samples.ts
repeats: every step is integer arithmetic below 2^53 or a correctly rounded float operation, so
both languages build identical arrays, and the fixture records each array's sum to prove it.

scipy 1.10 has no false_discovery_control (added in 1.11), so Benjamini-Hochberg values are
computed here from the definition, min over j >= i of m p_(j) / j, by brute force.
"""

import json
import math
import pathlib
import re

import numpy as np
import scipy
from scipy import special, stats

MODULUS = 2147483647
OUT = pathlib.Path(__file__).resolve().parents[2] / "test/node/monitoring/fixtures/drift-stats-reference.ts"


def lcg_sample(seed, n, shift=0.0, scale=1.0, levels=0):
    """Irwin-Hall(4) values (sum of four uniforms, centred) or, with levels, integers 0..levels-1."""
    state = seed
    out = []
    for _ in range(n):
        if levels:
            state = (state * 48271) % MODULUS
            out.append(float(math.floor(state / MODULUS * levels)) + shift)
            continue
        total = 0.0
        for _ in range(4):
            state = (state * 48271) % MODULUS
            total += state / MODULUS
        out.append((total - 2.0) * scale + shift)
    return out


def ks_case(name, ref, cur, generated=None):
    result = stats.ks_2samp(ref, cur, alternative="two-sided", method="auto")
    case = {"name": name, "statistic": float(result.statistic), "pValue": float(result.pvalue)}
    if generated is None:
        case.update(reference=[float(v) for v in ref], current=[float(v) for v in cur])
    else:
        case.update(generated=generated, referenceSum=math.fsum(ref), currentSum=math.fsum(cur))
    return case


def generated_ks_case(name, ref_params, cur_params):
    return ks_case(name, lcg_sample(**ref_params), lcg_sample(**cur_params), {"reference": ref_params, "current": cur_params})


def ks_cases():
    rng = np.random.default_rng(20261130)
    cases = [
        ks_case("hand: disjoint samples", [1, 2, 3], [4, 5, 6]),
        ks_case("5 vs 7, one-decimal normals (ties)", np.round(rng.normal(0, 1, 5), 1), np.round(rng.normal(0.5, 1, 7), 1)),
        ks_case("20 vs 30, integers 0..5 (heavy ties), shifted", rng.integers(0, 6, 20), rng.integers(1, 7, 30)),
        ks_case("20 vs 30, same distribution", rng.normal(0, 1, 20), rng.normal(0, 1, 30)),
        ks_case("50 vs 50, equal sizes", rng.normal(0, 1, 50), rng.normal(0.3, 1, 50)),
        ks_case("100 vs 80, shifted", rng.normal(0, 1, 100), rng.normal(0.6, 1, 80)),
        ks_case("identical samples", [0.5, 1.5, 1.5, 2.0, 3.25], [0.5, 1.5, 1.5, 2.0, 3.25]),
        ks_case("1 vs 1", [1.0], [2.0]),
        ks_case("200 vs 3, far apart", rng.normal(0, 1, 200), [5.0, 6.0, 7.0]),
    ]
    generated = [
        ("3000 vs 4000, shifted by 0.05 (exact)", dict(seed=11, n=3000), dict(seed=12, n=4000, shift=0.05)),
        ("3000 vs 4000, integers 0..9 (ties, exact)", dict(seed=13, n=3000, levels=10), dict(seed=14, n=4000, levels=10)),
        ("10000 vs 9000, same distribution (exact at the cut-off)", dict(seed=15, n=10000), dict(seed=16, n=9000)),
        ("20000 vs 15000, same distribution (asymptotic)", dict(seed=21, n=20000), dict(seed=22, n=15000)),
        ("20000 vs 15000, shifted by 0.02 (asymptotic, Pelz-Good)", dict(seed=23, n=20000), dict(seed=24, n=15000, shift=0.02)),
        ("20000 vs 15000, shifted by 0.1 (asymptotic, Smirnov tail)", dict(seed=25, n=20000), dict(seed=26, n=15000, shift=0.1)),
        ("15000 vs 15000, integers 0..19 shifted by 1 level", dict(seed=27, n=15000, levels=20), dict(seed=28, n=15000, levels=20, shift=1.0)),
        ("12000 vs 40, small effective n (asymptotic)", dict(seed=29, n=12000), dict(seed=30, n=40, shift=0.2)),
        ("12000 vs 40, same distribution (asymptotic)", dict(seed=31, n=12000), dict(seed=32, n=40)),
    ]
    cases += [generated_ks_case(*g) for g in generated]
    return cases


def kolmogorov_grid():
    """kstwo.sf on (n, x) points reaching every branch of the computation."""
    points = []
    for n in [1, 2, 5, 10, 40, 100, 140, 141, 500, 5000, 8571, 100000, 100001, 250000]:
        for z in [0.3, 0.45, 0.6, 0.8, 0.9, 1.0, 1.2, 1.5, 2.0, 2.5, 3.5, 6.0, 20.0]:
            x = z / math.sqrt(n)
            if 0 < x < 1:
                points.append((n, x))
        for x in [0.55 / n, 0.9 / n, 0.5, 0.75, 1 - 1.5 / n if n > 2 else 0.9]:
            if 0 < x < 1:
                points.append((n, x))
    return [{"n": n, "x": x, "sf": float(stats.kstwo.sf(x, n))} for n, x in points]


def chi_square_case(name, reference, current):
    keys = list(dict.fromkeys([*reference, *current]))
    table = np.array([[reference.get(k, 0) for k in keys], [current.get(k, 0) for k in keys]], dtype=float)
    kept = table[:, table.sum(axis=0) > 0]
    if kept.shape[1] < 2:
        statistic, p, dof = 0.0, 1.0, 0
    else:
        statistic, p, dof, _ = stats.chi2_contingency(kept, correction=False)
    return {"name": name, "reference": reference, "current": current, "statistic": float(statistic), "pValue": float(p), "dof": int(dof)}


def chi_square_cases():
    rng = np.random.default_rng(7)
    many_ref = {f"c{i}": int(v) for i, v in enumerate(rng.integers(50, 500, 12))}
    many_cur = {f"c{i}": int(v) for i, v in enumerate(rng.integers(50, 500, 12))}
    return [
        chi_square_case("hand: 2x2", {"a": 10, "b": 20}, {"a": 20, "b": 10}),
        chi_square_case("category absent from the reference (count 0)", {"a": 50, "b": 30, "c": 0}, {"a": 40, "b": 35, "c": 12}),
        chi_square_case("category absent from the reference (no key)", {"a": 50, "b": 30}, {"a": 40, "b": 35, "c": 12}),
        chi_square_case("category absent from current", {"yes": 120, "no": 80, "maybe": 15}, {"yes": 60, "no": 45}),
        chi_square_case("all-zero category dropped", {"a": 30, "b": 12, "z": 0}, {"a": 25, "b": 20, "z": 0}),
        chi_square_case("same proportions", {"a": 100, "b": 200, "c": 300}, {"a": 10, "b": 20, "c": 30}),
        chi_square_case("12 categories", many_ref, many_cur),
        chi_square_case("strong drift, tiny p", {"m2m": 5000, "one_year": 3000, "two_year": 2000}, {"m2m": 9000, "one_year": 600, "two_year": 400}),
        chi_square_case("one category left", {"a": 10, "b": 0}, {"a": 7}),
    ]


def gamma_grid():
    out = []
    for a in [0.5, 1.0, 1.5, 2.5, 5.0, 10.0, 50.0, 500.0]:
        for x in [1e-3, 0.1, 0.5, 1.0, a - 0.5, a + 1.0, 2 * a, a + 10 * math.sqrt(a), 5 * a + 30]:
            if x > 0:
                out.append({"a": a, "x": x, "q": float(special.gammaincc(a, x)), "p": float(special.gammainc(a, x))})
    return out


def psi_by_definition(edges, ref_counts, current, epsilon=1e-4):
    ref = np.asarray(ref_counts, dtype=float) / np.sum(ref_counts)
    cur_values = np.asarray([v for v in current if not math.isnan(v)])
    bins = np.searchsorted(np.asarray(edges, dtype=float), cur_values, side="left")
    cur = np.bincount(bins, minlength=len(ref_counts)) / len(cur_values)
    ref = np.where(ref == 0, epsilon, ref)
    cur = np.where(cur == 0, epsilon, cur)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def psi_cases():
    ref_values = np.asarray(lcg_sample(seed=41, n=2000))
    edges = sorted(set(np.quantile(ref_values, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]).tolist()))
    counts = np.bincount(np.searchsorted(edges, ref_values, side="left"), minlength=len(edges) + 1).tolist()
    cases = []
    for name, params in [
        ("same distribution", dict(seed=42, n=1500)),
        ("shifted by 0.3", dict(seed=43, n=1500, shift=0.3)),
        ("shifted by 3 (empty bins)", dict(seed=44, n=500, shift=3.0)),
    ]:
        cur = lcg_sample(**params)
        cases.append({"name": name, "histogram": "deciles", "generated": params, "currentSum": math.fsum(cur), "psi": psi_by_definition(edges, counts, cur)})
    small_edges, small_counts = [1.0, 2.0, 3.0], [10, 0, 25, 15]
    small_current = [0.5, 1.0, 1.0, 2.0, 2.5, 3.0, 3.0, 3.5, 9.0, float("nan")]
    cases.append({"name": "values on the edges, an empty reference bin, a NaN", "histogram": "small", "current": small_current,
                  "psi": psi_by_definition(small_edges, small_counts, small_current)})
    histograms = {"deciles": {"edges": edges, "counts": counts}, "small": {"edges": small_edges, "counts": small_counts}}
    return {"histograms": histograms, "cases": cases}


def psi_categorical_cases():
    def case(name, ref, cur, epsilon=1e-4):
        keys = list(dict.fromkeys([*ref, *cur]))
        r = np.array([ref.get(k, 0) for k in keys], dtype=float)
        c = np.array([cur.get(k, 0) for k in keys], dtype=float)
        r, c = r / r.sum(), c / c.sum()
        r, c = np.where(r == 0, epsilon, r), np.where(c == 0, epsilon, c)
        return {"name": name, "reference": ref, "current": cur, "psi": float(np.sum((c - r) * np.log(c / r)))}

    return [
        case("frequencies against counts", {"m2m": 0.55, "one_year": 0.25, "two_year": 0.2}, {"m2m": 300, "one_year": 120, "two_year": 80}),
        case("new category in current", {"a": 0.7, "b": 0.3}, {"a": 50, "b": 30, "c": 20}),
        case("category gone from current", {"a": 60, "b": 30, "c": 10}, {"a": 70, "b": 30}),
    ]


def bh_by_definition(p):
    p = np.asarray(p, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    adjusted_sorted = [min(1.0, min(ranked[j] * m / (j + 1) for j in range(i, m))) for i in range(m)]
    out = np.empty(m)
    out[order] = adjusted_sorted
    return out.tolist()


def bh_cases():
    rng = np.random.default_rng(3)
    draws = [float(v) for v in np.concatenate([rng.uniform(0, 1, 12), rng.uniform(0, 0.01, 5)])]
    inputs = [
        [0.01, 0.04, 0.03, 0.2, 0.5],
        [0.02, 0.02, 0.02, 0.9],
        [1.0],
        [],
        draws,
    ]
    return [{"pValues": p, "adjusted": bh_by_definition(p)} for p in inputs]


def main():
    data = {
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "ks": ks_cases(),
        "kolmogorov": kolmogorov_grid(),
        "gamma": gamma_grid(),
        "chiSquare": chi_square_cases(),
        "psi": psi_cases(),
        "psiCategorical": psi_categorical_cases(),
        "benjaminiHochberg": bh_cases(),
    }
    # JSON has no NaN; the one NaN input (a missing value PSI must drop) becomes Number.NaN.
    body = re.sub(r"^(\s*)NaN(,?)$", r"\1Number.NaN\2", json.dumps(data, indent=1), flags=re.M)
    text = (
        "// Generated by scripts/reference/drift_stats_reference.py; do not edit.\n"
        f"// scipy {scipy.__version__}, numpy {np.__version__} (Debian python3-scipy).\n"
        'import type { DriftStatsReference } from "./drift-stats-reference-types";\n\n'
        f"export const driftStatsReference: DriftStatsReference = {body};\n"
    )
    OUT.write_text(text)
    print(f"wrote {OUT} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
