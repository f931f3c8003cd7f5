#!/usr/bin/python3
"""Half of bench/xgboost-import.mjs: trains an XGBoost model on the given CSV (label first, no
header), saves it as UBJSON, and times XGBoost's own predict on the scoring rows (float64, raw).
Prints one JSON line. Debian's python3-xgboost: /usr/bin/python3."""
import json
import os
import sys
import time

import numpy as np
import xgboost as xgb

train_csv, rows_bin, n_features, model_out, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
data = np.loadtxt(train_csv, delimiter=",")
params = {"objective": "binary:logistic", "tree_method": "hist", "grow_policy": "lossguide", "max_leaves": 31, "max_depth": 0, "eta": 0.1, "nthread": 1}
booster = xgb.train(params, xgb.DMatrix(data[:, 1:], label=data[:, 0]), num_boost_round=100)
# As SageMaker's 3.0-5 container writes it: UBJSON (1.7 needs the .ubj name to choose it).
booster.save_model(model_out + ".ubj")
os.replace(model_out + ".ubj", model_out)
x = np.fromfile(rows_bin, dtype=np.float64).reshape(-1, n_features)
times = []
for _ in range(repeat):
    t = time.perf_counter()
    booster.inplace_predict(x)
    times.append(time.perf_counter() - t)
leaves = sum(t.count("leaf=") for t in booster.get_dump())
print(json.dumps({"seconds": sorted(times)[len(times) // 2], "trees": len(booster.get_dump()), "leaves": leaves, "version": xgb.__version__}))
