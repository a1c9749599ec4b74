"""Reference values for worker/contract/classification-metrics.ts and worker/feedback/expected-metrics.ts from scikit-learn and numpy.

Writes test/node/feedback-fixtures/realized-reference.json. CI has no scikit-learn, so the numbers
are committed; rerun after changing the cases below:

    apt-get install -y python3-sklearn
    /usr/bin/python3 scripts/reference/realized-metrics-reference.py

Scores are float32, as the ONNX graph gives them, written in the shortest form that round-trips
through float32 (numpy's repr); the test reads each with Math.fround to get the exact float32 back.
Decisions follow worker/contract/decision.ts: float32(p) >= float32(threshold).

- roc_auc: sklearn.metrics.roc_auc_score (trapezoids, ties count one half);
- precision, recall: sklearn.metrics.precision_score / recall_score on those decisions;
- expected_roc_auc: the label-free estimate, sum_{i!=j} p_i (1-p_j) K(p_i,p_j) / sum_{i!=j} p_i (1-p_j)
  with K = 1 above, 1/2 tied, computed by brute force over all pairs (numpy, O(n^2)), so the
  TypeScript's sorted O(n log n) form is checked against the definition.
"""

import json
import pathlib

import numpy as np
import sklearn
from sklearn.metrics import precision_score, recall_score, roc_auc_score

OUT = pathlib.Path(__file__).resolve().parents[2] / "test/node/feedback-fixtures/realized-reference.json"


def brute_force_expected_auc(p):
    p = p.astype(np.float64)
    q = 1.0 - p
    weight = np.outer(p, q)
    np.fill_diagonal(weight, 0.0)
    kernel = (p[:, None] > p[None, :]).astype(np.float64) + 0.5 * (p[:, None] == p[None, :])
    return float((weight * kernel).sum() / weight.sum())


def case(name, scores, labels, threshold, expected_pairs=True):
    scores = np.asarray(scores, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    decided = (scores >= np.float32(threshold)).astype(np.int64)
    out = {
        "name": name,
        "threshold": threshold,
        "scores": [json.loads(np.format_float_positional(s, unique=True, trim="0")) for s in scores],
        "labels": [int(v) for v in labels],
        "roc_auc": float(roc_auc_score(labels, scores.astype(np.float64))),
        "precision": float(precision_score(labels, decided, zero_division=0)) if decided.any() else None,
        "recall": float(recall_score(labels, decided)),
        "predicted_positive_rate": float(decided.mean()),
    }
    if expected_pairs:
        out["expected_roc_auc"] = brute_force_expected_auc(scores)
        out["expected_positive_rate"] = float(scores.astype(np.float64).mean())
    return out


def main():
    rng = np.random.default_rng(20261130)
    cases = []

    p = rng.beta(2.0, 5.0, size=2000).astype(np.float32)
    cases.append(case("calibrated beta(2,5), 2000 rows", p, rng.random(2000) < p, 0.5))

    p = np.round(rng.random(1000), 2).astype(np.float32)
    cases.append(case("scores rounded to 2 decimals (many ties), 1000 rows", p, rng.random(1000) < 0.4, 0.45))

    levels = np.sort(rng.random(40)).astype(np.float32)
    p = levels[rng.integers(0, 40, size=3000)]
    cases.append(case("40 distinct scores like a small tree ensemble, 3000 rows", p, rng.random(3000) < p, 0.3))

    p = rng.beta(1.0, 20.0, size=3000).astype(np.float32)
    cases.append(case("imbalanced, about 5% positive, 3000 rows", p, rng.random(3000) < p, 0.1))

    p = np.concatenate([np.full(50, 0.45, dtype=np.float32), rng.random(150).astype(np.float32)])
    cases.append(case("50 scores exactly at the threshold 0.45 (float32), 200 rows", p, rng.random(200) < 0.5, 0.45))

    p = rng.random(10000).astype(np.float32)
    cases.append(case("uniform scores, 10000 rows (no pairwise check)", p, rng.random(10000) < p, 0.5, expected_pairs=False))

    OUT.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "generated_by": "scripts/reference/realized-metrics-reference.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "cases": cases,
    }
    OUT.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({len(cases)} cases, scikit-learn {sklearn.__version__})")


if __name__ == "__main__":
    main()
