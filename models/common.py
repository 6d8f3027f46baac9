"""Helpers shared by the sample model builders: where files go, how a graph is
checked and how a model, its source manifest and its parity fixture are written."""

import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPSETS = [helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 3)]
IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def float32_at_most(threshold):
    """Largest float32 not above a float64 threshold.

    sklearn compares float32 features against float64 thresholds; ONNX stores
    float32 thresholds, so rounding up would flip rows that sit on a split."""
    t32 = np.float32(threshold)
    if float(t32) > threshold:
        t32 = np.nextafter(t32, np.float32(-np.inf))
    return float(t32)


def input_info(n_features):
    return helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", n_features])


def classifier_outputs(n_classes):
    """The `label` and `probabilities` outputs every sample classifier answers."""
    return [
        helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", n_classes]),
    ]


def make_model(name, nodes, inputs, outputs, doc):
    graph = helper.make_graph(nodes, name, inputs, outputs)
    model = helper.make_model(graph, opset_imports=OPSETS, producer_name="modelgate", doc_string=doc)
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def classifier_model(name, op, n_classes, n_features, source, **attributes):
    """One ai.onnx.ml classifier node from `input` to `label` and `probabilities`, as a checked model."""
    node = helper.make_node(op, ["input"], ["label", "probabilities"], domain="ai.onnx.ml", **attributes)
    return make_model(name, [node], [input_info(n_features)], classifier_outputs(n_classes), source)


def write(name, model, manifest, x, expected):
    folder = os.path.join(ROOT, "models", name)
    os.makedirs(folder, exist_ok=True)
    onnx.save(model, os.path.join(folder, "model.onnx"))
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump({"name": name, **manifest}, f, indent=2)
        f.write("\n")
    fixture = {"model": name, "instances": x.astype(np.float32).tolist(), **expected}
    with open(os.path.join(ROOT, "test", "fixtures", "parity", f"{name}.json"), "w") as f:
        json.dump(fixture, f)
        f.write("\n")
    print(f"{name}: {os.path.getsize(os.path.join(folder, 'model.onnx'))} bytes, {len(x)} parity rows")




def write_classifier(name, model, est, x, labels, description, features, metrics, source):
    """Writes a classifier sample whose parity fixture is the estimator's labels and probabilities on x."""
    write(
        name,
        model,
        {"description": description, "labels": labels, "features": features, "metrics": metrics, "source": source},
        x,
        {
            "predictions": [labels[int(c)] for c in est.predict(x)],
            "probabilities": est.predict_proba(x).tolist(),
        },
    )
