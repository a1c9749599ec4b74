"""Trains an XGBoost booster on the generated churn data the way a notebook would (pandas
get_dummies for the categorical columns, numbers as they are, blanks missing) and saves it in the
JSON format `npm run import:xgboost` reads. For the bench and for trying the importer:

    npm run data
    /usr/bin/python3 scripts/reference/xgboost_train.py data/churn_train.csv /tmp/xgb/model.json --trees 300 --depth 6
    npm run import:xgboost -- /tmp/xgb/model.json --config config.yaml
"""
import argparse

import numpy as np
import pandas as pd
import xgboost as xgb

from xgboost_predict import encode_frame

NUMERIC = ["tenure", "monthly_charges", "total_charges", "num_products"]
CATEGORICAL = ["contract_type", "payment_method", "internet_service"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("out")
    parser.add_argument("--target", default="churned")
    parser.add_argument("--trees", type=int, default=300)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--eta", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    frame = pd.read_csv(args.data, dtype=str, keep_default_na=False).replace(r"^\s*$", np.nan, regex=True)
    x = encode_frame(frame[NUMERIC + CATEGORICAL], CATEGORICAL)
    y = frame[args.target].astype(int)
    params = {"objective": "binary:logistic", "max_depth": args.depth, "eta": args.eta, "seed": args.seed, "nthread": 1}
    booster = xgb.train(params, xgb.DMatrix(x, label=y, missing=np.nan), args.trees)
    booster.save_model(args.out)
    print(f"{args.out}: {args.trees} trees of depth <= {args.depth} on {len(x)} rows, {x.shape[1]} booster features")


if __name__ == "__main__":
    main()
