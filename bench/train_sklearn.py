"""One timed training run of scikit-learn's HistGradientBoosting for bench/train.mjs; prints one JSON line.

Categorical columns get the same treatment as in ml-core: the max_bins most frequent categories
become codes, the rest (and unseen holdout values) are missing.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import log_loss, mean_absolute_error, mean_squared_error, r2_score, roc_auc_score

from peak_rss import peak_rss_bytes

train_file, holdout_file, task, label, ignore, categorical, params_json = sys.argv[1:8]
params = json.loads(params_json)
ignore = [c for c in ignore.split(",") if c]
categorical = [c for c in categorical.split(",") if c]

t0 = time.perf_counter()
train = pd.read_csv(train_file, keep_default_na=True)
t1 = time.perf_counter()
features = [c for c in train.columns if c != label and c not in ignore]
dtypes = {}
for c in categorical:
    top = train[c].value_counts(sort=True).index[: params["max_bins"]]
    dtypes[c] = pd.CategoricalDtype(sorted(top))
    train[c] = train[c].astype(dtypes[c]).cat.codes.replace(-1, np.nan)
X, y = train[features].to_numpy(dtype=np.float64), train[label].to_numpy()
del train
mask = np.array([c in categorical for c in features])
common = dict(
    max_iter=params["num_round"], learning_rate=params["learning_rate"], max_leaf_nodes=params["max_leaf_nodes"],
    min_samples_leaf=params["min_samples_leaf"], l2_regularization=params["l2_regularization"],
    max_bins=params["max_bins"], early_stopping=False, random_state=0,
    categorical_features=mask if mask.any() else None,
)
model = HistGradientBoostingClassifier(**common) if task == "binary" else HistGradientBoostingRegressor(**common)
t2 = time.perf_counter()
c2 = time.process_time()
model.fit(X, y)
t3 = time.perf_counter()
c3 = time.process_time()
# High-water mark of reading and training only (before the holdout is read and scored).
train_max_rss = peak_rss_bytes()
holdout = pd.read_csv(holdout_file)
for c in categorical:
    holdout[c] = holdout[c].astype(dtypes[c]).cat.codes.replace(-1, np.nan)
Xh, yh = holdout[features].to_numpy(dtype=np.float64), holdout[label].to_numpy()
if task == "binary":
    p = model.predict_proba(Xh)[:, 1]
    metrics = {"auc": roc_auc_score(yh, p), "logloss": log_loss(yh, p), "accuracy": float(((p > 0.5) == yh).mean())}
else:
    p = model.predict(Xh)
    metrics = {"rmse": mean_squared_error(yh, p) ** 0.5, "mae": mean_absolute_error(yh, p), "r2": r2_score(yh, p)}
print(json.dumps({
    "readSeconds": t1 - t0,
    "fitSeconds": t3 - t2,
    "fitCpuSeconds": c3 - c2,
    "maxRssBytes": train_max_rss,
    "trainRows": len(y),
    "metrics": metrics,
}))
