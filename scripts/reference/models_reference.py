"""Reference values embedded in test/node/models/*.test.ts (the tests never run Python).

Run with the system interpreter that has scikit-learn (Debian python3-sklearn, 1.2.x):
    /usr/bin/python3 scripts/reference/models_reference.py
and paste the printed JSON fields into the tests. Every dataset is written out literally here and
in the tests, so the two stay comparable by eye.
"""
import json

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

out = {}

# 1. Depth-1 stump, one feature, no bootstrap: sklearn's threshold and leaf class fractions.
stump_x = np.array([[0.1], [0.2], [0.3], [0.45], [0.7], [0.9]], dtype=np.float32)
stump_y = np.array([0, 0, 0, 1, 0, 1])
rf = RandomForestClassifier(n_estimators=1, max_depth=1, bootstrap=False, max_features=None, random_state=0)
rf.fit(stump_x, stump_y)
t = rf.estimators_[0].tree_
out["stump"] = {
    "threshold": float(t.threshold[0]),
    "left": float(t.value[1][0][1] / t.value[1][0].sum()),
    "right": float(t.value[2][0][1] / t.value[2][0].sum()),
}

# 2. A full depth-3 tree on 24 points and 3 features (all candidates, no bootstrap): with every
#    distinct value in its own bin the histogram search must reproduce sklearn's exact splitter.
rng = np.random.default_rng(7)
tree_x = np.round(rng.uniform(-2, 2, size=(24, 3)), 2).astype(np.float32)
tree_y = ((tree_x[:, 0] + 0.5 * tree_x[:, 1] ** 2 + rng.normal(0, 0.7, 24)) > 0.6).astype(int)
rf = RandomForestClassifier(n_estimators=1, max_depth=3, bootstrap=False, max_features=None, random_state=0)
rf.fit(tree_x, tree_y)
out["tree"] = {
    "X": tree_x.astype(float).tolist(),
    "y": tree_y.tolist(),
    "proba": rf.predict_proba(tree_x)[:, 1].tolist(),
    "n_nodes": int(rf.estimators_[0].tree_.node_count),
}

# 3. Two rounds of histogram boosting, stumps, lr 0.5, one feature: baseline, leaf values, proba.
gb_x = np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [6.0], [7.0], [8.0]], dtype=np.float32)
gb_y = np.array([0, 0, 1, 0, 1, 1, 1, 1])
for rounds in (1, 2):
    gb = HistGradientBoostingClassifier(
        max_iter=rounds, learning_rate=0.5, max_depth=1, min_samples_leaf=1, l2_regularization=0.0,
        early_stopping=False, max_leaf_nodes=None,
    )
    gb.fit(gb_x, gb_y)
    out[f"gb_{rounds}"] = {
        "baseline": float(gb._baseline_prediction.ravel()[0]),
        "raw": gb._raw_predict(gb_x).ravel().tolist(),
        "proba": gb.predict_proba(gb_x)[:, 1].tolist(),
    }

# 4. L2 logistic regression (C = 1 and C = 0.3) on 10 overlapping points and 2 features.
lr_x = np.array(
    [[0.5, 1.2], [1.5, -0.3], [-1.0, 0.8], [2.0, 1.0], [0.0, -1.5],
     [-0.7, -0.2], [1.1, 0.4], [-1.8, 1.9], [0.3, 0.3], [2.5, -1.0]],
    dtype=np.float32,  # the trainer's X is float32; fit sklearn on exactly those values
).astype(np.float64)
lr_y = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 1])
# Same objective as the default lbfgs, but newton-cholesky converges to rounding (gradient ~1e-14);
# lbfgs stops on its ftol first and is only ~1e-6 close, so it is printed for comparison only.
for C in (1.0, 0.3):
    lr = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(lr_x, lr_y)
    lbfgs = LogisticRegression(C=C, tol=1e-12, max_iter=100000).fit(lr_x, lr_y)
    out[f"lr_C{C}"] = {
        "coef": lr.coef_.ravel().tolist(),
        "intercept": float(lr.intercept_[0]),
        "lbfgs_coef": lbfgs.coef_.ravel().tolist(),
        "lbfgs_intercept": float(lbfgs.intercept_[0]),
    }

print(json.dumps(out, indent=1))
