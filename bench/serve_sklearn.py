"""The scikit-learn side of the serving benchmark (bench/serve.mjs, bench/predict.mjs).

    python3 bench/serve_sklearn.py train DATA.csv OUT_DIR [TREES]
        Trains HistGradientBoostingClassifier on DATA.csv (header, label last), pickles it to
        OUT_DIR/sklearn-model.joblib, and writes the same trees as an ml-core model directory
        (OUT_DIR/model/model.json), so both servers score with an identical model.

    gunicorn --chdir bench serve_sklearn:app
        A Flask app answering /ping and /invocations the way SageMaker's scikit-learn container
        does (sagemaker-scikit-learn-container: Flask under gunicorn; CSV decoded with NumPy,
        predict_proba, CSV encoded back). MODEL_PATH names the pickle.
"""
import io
import json
import os
import sys

import joblib
import numpy as np


def train(data_csv, out_dir, trees=100):
    from sklearn.ensemble import HistGradientBoostingClassifier

    with open(data_csv) as f:
        header = f.readline().strip().split(",")
    data = np.genfromtxt(data_csv, delimiter=",", skip_header=1)  # empty fields → NaN (missing)
    X, y = data[:, :-1], data[:, -1].astype(int)
    model = HistGradientBoostingClassifier(max_iter=trees, early_stopping=False, random_state=0)
    model.fit(X, y)
    os.makedirs(os.path.join(out_dir, "model"), exist_ok=True)
    joblib.dump(model, os.path.join(out_dir, "sklearn-model.joblib"))
    with open(os.path.join(out_dir, "model", "model.json"), "w") as f:
        json.dump(to_ml_core(model, header[:-1], header[-1]), f)


def to_ml_core(model, feature_names, label):
    """The fitted trees in ml-core's model.json (format version 1). Both implementations send a row
    left when x <= threshold, and a missing value the way missing_go_to_left says."""
    assert model.n_trees_per_iteration_ == 1, "binary classification only"
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        trees.append({
            "output": 0,
            "feature": [-1 if leaf[i] else int(n["feature_idx"]) for i, n in enumerate(nodes)],
            "threshold": [None if leaf[i] else float(n["num_threshold"]) for i, n in enumerate(nodes)],
            "categoriesLeft": [None] * len(nodes),
            "missingLeft": [int(n["missing_go_to_left"]) for n in nodes],
            "left": [int(n["left"]) for n in nodes],
            "right": [int(n["right"]) for n in nodes],
            "value": [float(n["value"]) if leaf[i] else 0.0 for i, n in enumerate(nodes)],
            "count": [int(n["count"]) for n in nodes],
            "gain": [float(n["gain"]) for n in nodes],
        })
    return {
        "format": "ml-core-gbdt",
        "formatVersion": 1,
        "objective": "binary",
        "label": label,
        "classes": [str(c) for c in model.classes_],
        "features": [{"name": n, "kind": "numeric"} for n in feature_names],
        "baseline": [float(np.ravel(model._baseline_prediction)[0])],
        "trees": trees,
        "hyperparameters": {"max_iter": str(len(trees)), "source": "scikit-learn"},
        "training": {"dataHash": "sha256:bench", "trainRows": 0, "validationRows": 0, "rounds": len(trees),
                     "roundsRun": len(trees), "stoppedEarly": False, "mlCoreVersion": "bench"},
        "metrics": {},
    }


def create_app():
    import flask

    model = joblib.load(os.environ["MODEL_PATH"])
    app = flask.Flask(__name__)

    @app.route("/ping", methods=["GET"])
    def ping():
        return flask.Response(status=200)

    @app.route("/invocations", methods=["POST"])
    def invocations():
        if flask.request.content_type != "text/csv":
            return flask.Response("unsupported content type", status=415)
        X = np.genfromtxt(io.StringIO(flask.request.get_data(as_text=True)), delimiter=",", ndmin=2)
        proba = model.predict_proba(X)
        labels = model.classes_[np.argmax(proba, axis=1)]
        out = io.StringIO()
        for label, row in zip(labels, proba):
            out.write(f"{label},{','.join(repr(float(p)) for p in row)}\n")
        return flask.Response(out.getvalue(), status=200, mimetype="text/csv")

    return app


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "train":
        train(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 100)
    else:
        sys.exit(__doc__)
elif "MODEL_PATH" in os.environ:
    app = create_app()
