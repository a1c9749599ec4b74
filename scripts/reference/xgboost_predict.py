"""XGBoost's own probabilities for rows, the reference `npm run import:xgboost` checks its ONNX
graph against (trainer/xgboost/xgboost-reference.ts runs this file with /usr/bin/python3).

    /usr/bin/python3 scripts/reference/xgboost_predict.py model.json matrix.json out.json

matrix.json: {"feature_names": [...booster features...], "rows": [[number or null, ...], ...]},
the booster's input as the importer encoded it (null = missing, one-hot columns as 0/1).
out.json: {"xgboost_version": "1.7.4", "probabilities": [...]}, one per row, from
Booster.predict (all trees, output_margin off), as float64 of XGBoost's float32 results.

The same encoding a pandas pipeline uses (numbers as-is, get_dummies one-hot) is in
`encode_frame`, which xgboost_fixtures.py uses to write the committed test fixtures.
"""
import json
import sys

import numpy as np
import pandas as pd
import xgboost as xgb


def encode_frame(frame, categorical, feature_names=None):
    """Numbers as they are (a cell that does not parse is missing) and pandas get_dummies for the
    categorical columns (default `<feature>_<category>` names), as float32. With feature_names,
    reindexed to the booster's columns: an unseen or missing category gives all zeros."""
    numeric = [c for c in frame.columns if c not in categorical]
    numbers = frame[numeric].apply(pd.to_numeric, errors="coerce")
    dummies = pd.get_dummies(frame[categorical].apply(lambda s: s.str.strip()), dtype=np.float32) if categorical else None
    joined = numbers if dummies is None else pd.concat([numbers, dummies], axis=1)
    if feature_names is not None:
        joined = joined.reindex(columns=feature_names, fill_value=0)
    return joined.astype(np.float32)


def predict(booster, matrix):
    dm = xgb.DMatrix(matrix, missing=np.nan, feature_names=booster.feature_names)
    return booster.predict(dm).astype(np.float64)


def main(model_path, matrix_path, out_path):
    booster = xgb.Booster()
    booster.load_model(model_path)
    with open(matrix_path) as f:
        spec = json.load(f)
    if booster.feature_names is not None and spec["feature_names"] != booster.feature_names:
        raise SystemExit(f"matrix columns {spec['feature_names']} are not the booster's {booster.feature_names}")
    rows = np.array([[np.nan if v is None else v for v in row] for row in spec["rows"]], dtype=np.float32)
    rows = rows.reshape(len(spec["rows"]), len(spec["feature_names"]))
    p = predict(booster, rows) if len(rows) else np.zeros(0)
    with open(out_path, "w") as f:
        json.dump({"xgboost_version": xgb.__version__, "probabilities": p.tolist()}, f)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
