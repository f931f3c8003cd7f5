"""The scikit-learn side of bench/categorical.mjs: fits HistGradientBoostingClassifier on the flights
training rows (origin and destination categorical, as bench/train_sklearn.py) and times
predict_proba on the holdout features already in memory, best of RUNS.

    python3 bench/categorical_sklearn.py TRAIN.csv HOLDOUT.csv RUNS
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

train_file, holdout_file, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
categorical = ["origin", "destination"]
features = ["dep_time", "weekday", "yearday", "distance", "origin", "destination"]
train = pd.read_csv(train_file)
dtypes = {c: pd.CategoricalDtype(sorted(train[c].value_counts().index[:255])) for c in categorical}
for c in categorical:
    train[c] = train[c].astype(dtypes[c]).cat.codes.replace(-1, np.nan)
model = HistGradientBoostingClassifier(max_iter=100, max_leaf_nodes=31, early_stopping=False, random_state=0,
                                       categorical_features=[c in categorical for c in features])
model.fit(train[features].to_numpy(dtype=np.float64), train["delayed"].to_numpy())
holdout = pd.read_csv(holdout_file)
for c in categorical:
    holdout[c] = holdout[c].astype(dtypes[c]).cat.codes.replace(-1, np.nan)
X = holdout[features].to_numpy(dtype=np.float64)
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    model.predict_proba(X)
    times.append(time.perf_counter() - t0)
print(json.dumps({"rows": len(X), "predictSeconds": times}))
