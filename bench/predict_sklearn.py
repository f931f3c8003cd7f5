"""The scikit-learn side of bench/predict.mjs.

    python3 bench/predict_sklearn.py MODEL.joblib IN.csv OUT.csv RUNS [ML_CORE_OUT.csv]

Prints JSON: the best of RUNS for predict_proba alone (on the array already in memory) and for the
batch job end to end (read the CSV, predict_proba, write label and probabilities as CSV); and, given
ml-core's output for the same rows, the largest difference between the two models' probabilities.
"""
import json
import sys
import time

import joblib
import numpy as np


def main(model_path, input_csv, output_csv, runs, ml_core_out=None):
    model = joblib.load(model_path)
    best_predict = best_total = float("inf")
    proba = None
    for _ in range(runs):
        t0 = time.perf_counter()
        X = np.genfromtxt(input_csv, delimiter=",")  # empty fields are missing values (NaN)
        t1 = time.perf_counter()
        proba = model.predict_proba(X)
        t2 = time.perf_counter()
        labels = model.classes_[np.argmax(proba, axis=1)]
        np.savetxt(output_csv, np.column_stack([labels, proba]), delimiter=",", fmt=["%d", "%.17g", "%.17g"])
        t3 = time.perf_counter()
        best_predict = min(best_predict, t2 - t1)
        best_total = min(best_total, t3 - t0)
    result = {"predictSeconds": best_predict, "endToEndSeconds": best_total}
    if ml_core_out:
        ours = np.genfromtxt(ml_core_out, delimiter=",", usecols=(1, 2))
        result["maxAbsDiff"] = float(np.max(np.abs(ours - proba)))
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] if len(sys.argv) > 5 else None)
