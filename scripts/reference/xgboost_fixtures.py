"""Writes test/fixtures/xgboost/<name>/: small XGBoost boosters trained on the default generated
churn data, the rows to import them with, and XGBoost's own probabilities for those rows. The node
tests import them without Python; rerun this to regenerate (deterministic for a given xgboost):

    npm run data -- --rows 6000 --seed 42 --out-dir /tmp/xgb-data
    /usr/bin/python3 scripts/reference/xgboost_fixtures.py /tmp/xgb-data/churn_train.csv test/fixtures/xgboost

Per fixture: model.json (Booster.save_model), data.csv (600 held-out customers, then probe rows:
each numeric split threshold exactly, every numeric feature missing, unseen and missing
categories), xgboost.json ({"xgboost_version", "probabilities"}: one per data.csv row, from the
pandas get_dummies encoding a notebook would use) and config.yaml for `npm run import:xgboost`.
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import xgboost as xgb

from xgboost_predict import encode_frame, predict

NUMERIC = ["tenure", "monthly_charges", "total_charges", "num_products"]
CATEGORICAL = ["contract_type", "payment_method", "internet_service"]
TARGET = "churned"
HELD_OUT = 600
UNSEEN = "Carrier pigeon"

FIXTURES = {
    # name: (categorical features, booster params, rounds, share of cells blanked)
    "numeric": ([], {"max_depth": 3, "eta": 0.3}, 40, 0.0),
    "onehot": (CATEGORICAL, {"max_depth": 3, "eta": 0.3}, 40, 0.0),
    "missing": (CATEGORICAL, {"max_depth": 4, "eta": 0.2, "base_score": 0.3}, 40, 0.15),
    "depth1": (CATEGORICAL, {"max_depth": 1, "eta": 0.1}, 300, 0.0),
}


def blank_cells(frame, columns, share, rng):
    frame = frame.copy()
    for column in columns:
        frame.loc[rng.random(len(frame)) < share, column] = ""
    return frame


def split_thresholds(model_json, feature_names, numeric):
    """(feature, threshold) for every split on a numeric feature, thresholds as float32."""
    found = set()
    for tree in model_json["learner"]["gradient_booster"]["model"]["trees"]:
        for i, left in enumerate(tree["left_children"]):
            name = feature_names[tree["split_indices"][i]]
            if left != -1 and name in numeric:
                found.add((name, float(np.float32(tree["split_conditions"][i]))))
    return sorted(found)


def probe_rows(base, model_json, feature_names, numeric, categorical):
    rows = []
    for i, (name, threshold) in enumerate(split_thresholds(model_json, feature_names, numeric)):
        row = base.iloc[i % len(base)].copy()
        # The exact float32 value as a decimal that reads back to it: x == threshold goes right.
        row[name] = np.format_float_positional(threshold, unique=True, trim="-")
        rows.append(row)
    for i, name in enumerate(numeric + categorical):
        row = base.iloc[i].copy()
        row[name] = ""
        rows.append(row)
    for i, name in enumerate(categorical):
        row = base.iloc[i].copy()
        row[name] = UNSEEN
        rows.append(row)
    all_missing = base.iloc[0].copy()
    for name in numeric + categorical:
        all_missing[name] = ""
    rows.append(all_missing)
    return pd.DataFrame(rows)


def config_yaml(name, categorical):
    columns = "\n".join(
        [f"    {n}: {{ nullable: true }}" for n in NUMERIC]
        + [f'    {c}: {{ nullable: true, missing: {{ constant: "" }} }}' for c in categorical]
    )
    return f"""# Import config for the {name} XGBoost fixture (scripts/reference/xgboost_fixtures.py).
mlflow:
  model_name: xgb-{name}
data:
  train_path: data.csv
  target_column: {TARGET}
features:
  numeric: [{", ".join(NUMERIC)}]
  categorical: [{", ".join(categorical)}]
  columns:
{columns}
training:
  val_size: 0.25
  random_state: 7
  golden_rows: 20
  reference_sample_size: 200
model:
  type: gradient_boosting
output:
  label: churn
explain:
  background_rows: 50
"""


def main(data_path, out_dir):
    raw = pd.read_csv(data_path, dtype=str, keep_default_na=False)
    train_raw, held_raw = raw.iloc[:-HELD_OUT], raw.iloc[-HELD_OUT:]
    for name, (categorical, params, rounds, share) in FIXTURES.items():
        rng = np.random.default_rng(sum(map(ord, name)))
        columns = NUMERIC + categorical
        train = blank_cells(train_raw[columns + [TARGET]], columns, share, rng)
        held = blank_cells(held_raw[columns + [TARGET]], columns, share, rng)
        x = encode_frame(train[columns].replace("", np.nan), categorical)
        feature_names = list(x.columns)
        dtrain = xgb.DMatrix(x, label=train[TARGET].astype(int), missing=np.nan)
        booster = xgb.train({"objective": "binary:logistic", "seed": 7, "nthread": 1, **params}, dtrain, rounds)
        target = os.path.join(out_dir, name)
        os.makedirs(target, exist_ok=True)
        model_path = os.path.join(target, "model.json")
        booster.save_model(model_path)
        with open(model_path) as f:
            model_json = json.load(f)
        rows = pd.concat([held, probe_rows(held, model_json, feature_names, NUMERIC, categorical)], ignore_index=True)
        rows.to_csv(os.path.join(target, "data.csv"), index=False)
        frame = rows[columns].replace("", np.nan)
        p = predict(booster, encode_frame(frame, categorical, feature_names))
        with open(os.path.join(target, "xgboost.json"), "w") as f:
            json.dump({"xgboost_version": xgb.__version__, "probabilities": p.tolist()}, f)
            f.write("\n")
        with open(os.path.join(target, "config.yaml"), "w") as f:
            f.write(config_yaml(name, categorical))
        print(f"{name}: {len(feature_names)} booster features, {rounds} trees, {len(rows)} rows ({len(rows) - HELD_OUT} probes)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
