"""scikit-learn side of scripts/bench-train.ts: times single-threaded fits on the design matrices that
script wrote and prints one JSON line (per-run wall and CPU seconds, validation ROC AUC).

    /usr/bin/python3 scripts/bench_train.py <dir> <runs>
"""
import os

# Single-threaded, like our trainer: HistGradientBoosting would otherwise use every core via OpenMP.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402


def load(directory, meta, name):
    shape = meta["splits"][name]
    X = np.fromfile(directory / f"{name}_X.f32", dtype="<f4").reshape(shape["rows"], shape["cols"])
    y = np.fromfile(directory / f"{name}_y.u8", dtype=np.uint8).astype(int)
    return X, y


directory = Path(sys.argv[1])
runs = int(sys.argv[2])
meta = json.loads((directory / "meta.json").read_text())
X, y = load(directory, meta, "train")
Xv, yv = load(directory, meta, "validation")
m = meta["model"]
seed = int(meta["seed"])


def make():
    if m["type"] == "random_forest":
        return RandomForestClassifier(
            n_estimators=m["n_estimators"], max_depth=m["max_depth"], max_features=m["max_features"],
            min_samples_leaf=m["min_samples_leaf"], min_samples_split=m["min_samples_split"],
            bootstrap=m["bootstrap"], random_state=seed, n_jobs=1,
        )
    if m["type"] == "gradient_boosting":
        return HistGradientBoostingClassifier(
            max_iter=m["max_iter"], learning_rate=m["learning_rate"], max_depth=m["max_depth"],
            min_samples_leaf=m["min_samples_leaf"], l2_regularization=m["l2_regularization"],
            max_bins=min(m["max_bins"], 255), max_leaf_nodes=None, early_stopping=False, random_state=seed,
        )
    return LogisticRegression(C=m["C"], max_iter=10000)


wall, cpu = [], []
for _ in range(runs):
    model = make()
    w0, c0 = time.perf_counter(), time.process_time()
    model.fit(X, y)
    wall.append(time.perf_counter() - w0)
    cpu.append(time.process_time() - c0)
auc = roc_auc_score(yv, model.predict_proba(Xv)[:, 1])
print(json.dumps({"sklearn_version": __import__("sklearn").__version__, "wall": wall, "cpu": cpu, "auc": auc}))
