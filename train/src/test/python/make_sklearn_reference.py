"""Writes the scikit-learn reference values MetricsTest compares with.

Run once with Debian's python3-sklearn (1.2.1 made the stored file):
    /usr/bin/python3 train/src/test/python/make_sklearn_reference.py \
        > train/src/test/resources/io/jgrad/metrics/sklearn-reference.json
"""
import json
import numpy as np
import sklearn
from sklearn.metrics import (accuracy_score, confusion_matrix, precision_recall_fscore_support,
                             top_k_accuracy_score)


def case(name, k, scores, y):
    pred = scores.argmax(axis=1)
    labels = list(range(k))
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    out = {"name": name, "k": k, "scores": scores.tolist(), "targets": y.tolist(),
           "confusion": confusion_matrix(y, pred, labels=labels).tolist(),
           "accuracy": accuracy_score(y, pred),
           "precision": p.tolist(), "recall": r.tolist(), "f1": f.tolist(), "support": s.tolist()}
    for avg in ("macro", "weighted"):
        ap, ar, af, _ = precision_recall_fscore_support(y, pred, labels=labels, average=avg, zero_division=0)
        out[avg] = {"precision": ap, "recall": ar, "f1": af}
    out["top_k"] = {str(t): top_k_accuracy_score(y, scores, k=t, labels=labels) for t in range(2, k)}
    return out


rng = np.random.default_rng(20261202)
cases = []
# 10 classes, 500 examples, scores that favour the truth: a realistic classifier
y = rng.integers(0, 10, 500)
s = rng.normal(size=(500, 10))
s[np.arange(500), y] += 1.5
cases.append(case("ten-classes", 10, s, y))
# 5 classes: class 4 never predicted (precision 0/0), class 3 absent from the targets (recall 0/0)
y = rng.choice([0, 1, 2, 4], 120)
s = rng.normal(size=(120, 5))
s[:, 4] -= 10
s[np.arange(120), y] += 0.8 * (y != 4)
cases.append(case("zero-divisions", 5, s, y))
# 3 classes, a handful of examples
s = np.array([[2.0, 0.5, 0.1], [0.2, 1.9, 0.3], [1.0, 1.2, 0.8], [0.1, 0.2, 3.0], [0.9, 0.3, 0.2],
              [0.4, 0.35, 0.3]])
y = np.array([0, 1, 0, 2, 2, 1])
cases.append(case("small", 3, s, y))
print(json.dumps({"sklearn": sklearn.__version__, "cases": cases}))
