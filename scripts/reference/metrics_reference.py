"""Reference values for trainer/metrics from scikit-learn and numpy.

Writes test/node/metrics/fixtures/sklearn-reference.ts. CI has no scikit-learn, so the numbers are
committed; rerun after changing the data below:

    apt-get install -y python3-sklearn python3-scipy
    /usr/bin/python3 scripts/reference/metrics_reference.py

The inputs come from a Park-Miller LCG (multiplier 48271, modulus 2^31 - 1) that the test repeats in
TypeScript; every step is integer arithmetic below 2^53 or a correctly rounded float operation, so
both languages produce identical arrays. The fixture records checksums of the inputs to prove it.
"""

import json
import math
import pathlib

import numpy as np
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

MODULUS = 2147483647
OUT = pathlib.Path(__file__).resolve().parents[2] / "test/node/metrics/fixtures/sklearn-reference.ts"


class Lcg:
    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state * 48271) % MODULUS
        return self.state / MODULUS


def tied_dataset(n=600, seed=20240601):
    """Scores on a 0.01 grid (many ties), with a few exact 0 and 1 to exercise log-loss clipping."""
    rng = Lcg(seed)
    y, p = [], []
    for _ in range(n):
        label = 1 if rng.next() < 0.35 else 0
        k = math.floor(rng.next() * 60) + (30 if label else 8)
        u = rng.next()
        if u < 0.015:
            k = 100
        elif u < 0.03:
            k = 0
        y.append(label)
        p.append(k / 100)
    return np.array(y, dtype=np.int64), np.array(p, dtype=np.float64)


def continuous_dataset(n=1000, seed=7):
    rng = Lcg(seed)
    y, p = [], []
    for _ in range(n):
        label = 1 if rng.next() < 0.3 else 0
        u = rng.next()
        y.append(label)
        p.append(math.sqrt(u) if label else u * u)
    return np.array(y, dtype=np.int64), np.array(p, dtype=np.float64)


def log_loss_sklearn_15(y, p):
    """scikit-learn >= 1.5: clip the true-class probability, no renormalisation."""
    eps = np.finfo(np.float64).eps
    true_class = np.where(y == 1, p, 1 - p)
    return float(np.mean(-np.log(np.clip(true_class, eps, 1 - eps))))


def at_threshold(y, p, t):
    pred = (p >= t).astype(np.int64)
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    return {
        "threshold": t,
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "accuracy": float(accuracy_score(y, pred)),
        "confusion": {"tp": int(tp), "fp": int(fp), "tn": int(tn), "fn": int(fn)},
    }


def calibration(y, p, n_bins):
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins, strategy="uniform")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], p), minlength=n_bins)
    return {
        "n_bins": n_bins,
        "edges": edges.tolist(),
        "observed_rate": prob_true.tolist(),
        "mean_predicted": prob_pred.tolist(),
        "counts": [int(c) for c in counts if c != 0],
    }


def describe(y, p, full_curves):
    fpr, tpr, thr = roc_curve(y, p, drop_intermediate=True)
    fpr_all, tpr_all, thr_all = roc_curve(y, p, drop_intermediate=False)
    precision, recall, pr_thr = precision_recall_curve(y, p)
    ll = float(log_loss(y, p))
    ll15 = log_loss_sklearn_15(y, p)
    assert abs(ll - ll15) < 1e-13, (ll, ll15)
    out = {
        "checksum": {"n": int(len(y)), "positives": int(y.sum()), "sum_p": float(p.sum()), "first_p": p[:5].tolist()},
        "roc_auc": float(roc_auc_score(y, p)),
        "average_precision": float(average_precision_score(y, p)),
        "log_loss": ll15,
        "brier": float(brier_score_loss(y, p)),
        "at_threshold": [at_threshold(y, p, 0.5), at_threshold(y, p, 0.3)],
        "calibration": [calibration(y, p, 10), calibration(y, p, 7)],
        "quantiles": {
            "q": [0.01, 0.1, 0.25, 0.5, 0.9, 0.99],
            "values": np.quantile(p, [0.01, 0.1, 0.25, 0.5, 0.9, 0.99]).tolist(),
        },
        "roc_points": {"dropped": int(len(fpr)), "all": int(len(fpr_all))},
        "pr_points": int(len(precision)),
    }
    if full_curves:
        # thresholds[0] is max + 1 in scikit-learn < 1.3 and +inf after; the test checks it separately.
        out["roc"] = {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds_tail": thr[1:].tolist()}
        out["roc_all"] = {"fpr": fpr_all.tolist(), "tpr": tpr_all.tolist(), "thresholds_tail": thr_all[1:].tolist()}
        out["pr"] = {"precision": precision.tolist(), "recall": recall.tolist(), "thresholds": pr_thr.tolist()}
    else:
        out["roc_sums"] = {"fpr": float(fpr.sum()), "tpr": float(tpr.sum())}
    return out


def main():
    reference = {
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "tied": describe(*tied_dataset(), full_curves=True),
        "continuous": describe(*continuous_dataset(), full_curves=False),
    }
    body = json.dumps(reference, indent=1)
    OUT.write_text(
        "// Generated by scripts/reference/metrics_reference.py; do not edit by hand.\n"
        f"export const sklearnReference = {body} as const;\n"
    )
    print(f"wrote {OUT} ({len(body)} chars)")


if __name__ == "__main__":
    main()
