"""scikit-learn side of scripts/compare-sklearn.ts: fits the reference models on the design matrices
that script wrote (the trainer's own prepared train/validation split) and prints validation ROC AUCs
as one JSON line.

    /usr/bin/python3 scripts/compare_sklearn.py <dir>
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score


def load(directory, name):
    meta = json.loads((directory / "meta.json").read_text())
    shape = meta["splits"][name]
    X = np.fromfile(directory / f"{name}_X.f32", dtype="<f4").reshape(shape["rows"], shape["cols"])
    y = np.fromfile(directory / f"{name}_y.u8", dtype=np.uint8).astype(int)
    return X, y, meta


directory = Path(sys.argv[1])
X, y, meta = load(directory, "train")
Xv, yv, _ = load(directory, "validation")
seed = int(meta["seed"])
rf = meta["random_forest"]
gb = meta["gradient_boosting"]

models = {
    "random_forest": RandomForestClassifier(
        n_estimators=rf["n_estimators"], max_depth=rf["max_depth"], max_features=rf["max_features"],
        min_samples_leaf=rf["min_samples_leaf"], min_samples_split=rf["min_samples_split"],
        bootstrap=True, random_state=seed, n_jobs=1,
    ),
    "logistic_regression": LogisticRegression(C=meta["logistic_regression"]["C"], max_iter=10000),
    # Depth-limited like ours (sklearn's default max_leaf_nodes=31 is lifted), no early stopping.
    "gradient_boosting": HistGradientBoostingClassifier(
        max_iter=gb["max_iter"], learning_rate=gb["learning_rate"], max_depth=gb["max_depth"],
        min_samples_leaf=gb["min_samples_leaf"], l2_regularization=gb["l2_regularization"],
        max_leaf_nodes=None, early_stopping=False, random_state=seed,
    ),
}
result = {"sklearn_version": __import__("sklearn").__version__}
for name, model in models.items():
    started = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - started
    result[name] = {"auc": roc_auc_score(yv, model.predict_proba(Xv)[:, 1]), "fit_seconds": seconds}
print(json.dumps(result))
