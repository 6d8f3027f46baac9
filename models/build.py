"""Build ModelGate's sample models as ONNX graphs, without skl2onnx.

Each estimator is fitted with scikit-learn, translated node by node into the
ai.onnx.ml operators (LinearRegressor, LinearClassifier, TreeEnsembleRegressor,
TreeEnsembleClassifier) and written to models/<name>/model.onnx together with
its source manifest. sklearn's own predictions on a fixed input set are written
to test/fixtures/parity/<name>.json; models/verify.ts then runs every graph in
onnxruntime-node and fails the build if any prediction disagrees.

Run with Debian's interpreter (python3-sklearn, python3-onnx):
    /usr/bin/python3 models/build.py
"""

import os
import sys

import numpy as np
import onnx
import sklearn
from common import (
    IRIS_FEATURES,
    ROOT,
    classifier_model,
    float32_at_most,
    input_info,
    make_model,
    write,
    write_classifier,
)
from onnx import TensorProto, helper
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

SOURCE = f"scikit-learn {sklearn.__version__}, built by models/build.py"


def linear_regressor(name, est, n_features):
    node = helper.make_node(
        "LinearRegressor",
        ["input"],
        ["prediction"],
        domain="ai.onnx.ml",
        coefficients=[float(c) for c in np.ravel(est.coef_)],
        intercepts=[float(np.ravel([est.intercept_])[0])],
        targets=1,
    )
    out = helper.make_tensor_value_info("prediction", TensorProto.FLOAT, ["N", 1])
    return make_model(name, [node], [input_info(n_features)], [out], SOURCE)


def linear_classifier(name, est, n_features):
    return classifier_model(
        name,
        "LinearClassifier",
        len(est.classes_),
        n_features,
        SOURCE,
        coefficients=[float(c) for c in np.ravel(est.coef_)],
        intercepts=[float(c) for c in np.ravel(est.intercept_)],
        classlabels_ints=[int(c) for c in est.classes_],
        post_transform="SOFTMAX",
    )


def tree_nodes(trees):
    """Common node attributes of a list of fitted sklearn trees, and their leaves."""
    attrs = {k: [] for k in ("treeids", "nodeids", "featureids", "values", "modes", "truenodeids", "falsenodeids")}
    leaves = []
    for tree_id, tree in enumerate(trees):
        t = tree.tree_
        for node_id in range(t.node_count):
            is_leaf = t.children_left[node_id] == -1
            attrs["treeids"].append(tree_id)
            attrs["nodeids"].append(node_id)
            attrs["featureids"].append(0 if is_leaf else int(t.feature[node_id]))
            attrs["values"].append(0.0 if is_leaf else float32_at_most(float(t.threshold[node_id])))
            attrs["modes"].append("LEAF" if is_leaf else "BRANCH_LEQ")
            attrs["truenodeids"].append(0 if is_leaf else int(t.children_left[node_id]))
            attrs["falsenodeids"].append(0 if is_leaf else int(t.children_right[node_id]))
            if is_leaf:
                leaves.append((tree_id, node_id, t.value[node_id]))
    return {f"nodes_{k}": v for k, v in attrs.items()}, leaves


def forest_classifier(name, est, n_features, trees=None):
    """A forest (or, given `trees=[tree]`, a single tree) as a TreeEnsembleClassifier."""
    trees = est.estimators_ if trees is None else trees
    n_trees = len(trees)
    nodes, leaves = tree_nodes(trees)
    class_tree, class_node, class_id, class_weight = [], [], [], []
    for tree_id, node_id, value in leaves:
        counts = np.asarray(value[0], dtype=np.float64)
        for c, p in enumerate(counts / counts.sum()):
            if p > 0:
                class_tree.append(tree_id)
                class_node.append(node_id)
                class_id.append(c)
                class_weight.append(float(p / n_trees))
    return classifier_model(
        name,
        "TreeEnsembleClassifier",
        len(est.classes_),
        n_features,
        SOURCE,
        classlabels_int64s=[int(c) for c in est.classes_],
        class_treeids=class_tree,
        class_nodeids=class_node,
        class_ids=class_id,
        class_weights=class_weight,
        post_transform="NONE",
        **nodes,
    )


def boosted_regressor(name, est, n_features):
    trees = [row[0] for row in est.estimators_]
    nodes, leaves = tree_nodes(trees)
    node = helper.make_node(
        "TreeEnsembleRegressor",
        ["input"],
        ["prediction"],
        domain="ai.onnx.ml",
        n_targets=1,
        aggregate_function="SUM",
        base_values=[float(np.ravel(est.init_.constant_)[0])],
        target_treeids=[t for t, _, _ in leaves],
        target_nodeids=[n for _, n, _ in leaves],
        target_ids=[0 for _ in leaves],
        target_weights=[float(est.learning_rate * v[0][0]) for _, _, v in leaves],
        post_transform="NONE",
        **nodes,
    )
    out = helper.make_tensor_value_info("prediction", TensorProto.FLOAT, ["N", 1])
    return make_model(name, [node], [input_info(n_features)], [out], SOURCE)


def build_linear():
    rng = np.random.RandomState(0)
    x = rng.rand(100, 1)
    y = 3 * x + rng.rand(100, 1)
    x32 = x.astype(np.float32)
    est = LinearRegression().fit(x32, y)
    probe = np.vstack([np.array([[0.0], [0.5], [1.0], [2.0], [-1.0]]), x32[:20]]).astype(np.float32)
    write(
        "linear",
        linear_regressor("linear", est, 1),
        {
            "description": "LinearRegression on y = 3x + U(0,1): predicts about 3x + 0.5",
            "features": ["x"],
            "metrics": {"r2": round(float(est.score(x32, y)), 4)},
            "source": SOURCE,
        },
        probe,
        {"predictions": [float(v) for v in np.ravel(est.predict(probe))]},
    )


def build_iris():
    data = load_iris()
    x = data.data.astype(np.float32)
    labels = [str(n) for n in data.target_names]
    forest = RandomForestClassifier(n_estimators=100, random_state=0).fit(x, data.target)
    logistic = LogisticRegression(max_iter=1000).fit(x, data.target)
    for name, est, graph, description in [
        ("iris", forest, forest_classifier, "RandomForestClassifier (100 trees) on the iris data set"),
        ("iris-logistic", logistic, linear_classifier, "LogisticRegression (multinomial) on the iris data set"),
    ]:
        metrics = {"train_accuracy": round(float(est.score(x, data.target)), 4)}
        write_classifier(name, graph(name, est, 4), est, x, labels, description, IRIS_FEATURES, metrics, SOURCE)


def build_diabetes():
    data = load_diabetes()
    x = data.data.astype(np.float32)
    est = GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=0).fit(x, data.target)
    write(
        "diabetes",
        boosted_regressor("diabetes", est, 10),
        {
            "description": "GradientBoostingRegressor (100 trees, depth 3) on the diabetes data set",
            "features": [str(f) for f in data.feature_names],
            "metrics": {"train_r2": round(float(est.score(x, data.target)), 4)},
            "source": SOURCE,
        },
        x,
        {"predictions": [float(v) for v in est.predict(x)]},
    )


ECHO_TYPES = {
    "BOOL": TensorProto.BOOL,
    "UINT8": TensorProto.UINT8,
    "UINT16": TensorProto.UINT16,
    "UINT32": TensorProto.UINT32,
    "UINT64": TensorProto.UINT64,
    "INT8": TensorProto.INT8,
    "INT16": TensorProto.INT16,
    "INT32": TensorProto.INT32,
    "INT64": TensorProto.INT64,
    "FP16": TensorProto.FLOAT16,
    "FP32": TensorProto.FLOAT,
    "FP64": TensorProto.DOUBLE,
    "BYTES": TensorProto.STRING,
}


def build_echo():
    """Test model: one Identity per V2 datatype (input x_<type> → output y_<type>, shape [-1]),
    so tests can round-trip every datatype through onnxruntime."""
    nodes, inputs, outputs = [], [], []
    for name, proto in ECHO_TYPES.items():
        lower = name.lower()
        nodes.append(helper.make_node("Identity", [f"x_{lower}"], [f"y_{lower}"]))
        inputs.append(helper.make_tensor_value_info(f"x_{lower}", proto, ["N"]))
        outputs.append(helper.make_tensor_value_info(f"y_{lower}", proto, ["N"]))
    graph = helper.make_graph(nodes, "echo", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="modelgate")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = os.path.join(ROOT, "test", "fixtures", "models", "echo.onnx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save(model, path)
    print(f"echo (test fixture): {os.path.getsize(path)} bytes")


def builders():
    """Every builder by the sample names it writes; the torch ones load torch only when run."""
    import generated
    import nets
    import svm

    return {
        "linear": build_linear,
        "iris": build_iris,
        "diabetes": build_diabetes,
        "echo": build_echo,
        "iris-svm": lambda: svm.build_iris_svm(SOURCE),
        "diabetes-svr": lambda: svm.build_diabetes_svr(SOURCE),
        "iris-tree": lambda: svm.build_iris_tree(SOURCE, forest_classifier),
        "zipmap": lambda: svm.build_zipmap(ROOT),
        "generated": generated.build_generated,
        "digits-cnn": nets.build_digits_cnn,
        "sequence-lstm": nets.build_sequence_lstm,
        "digits-transformer": nets.build_digits_transformer,
    }


if __name__ == "__main__":
    # Build every sample, or only those named: /usr/bin/python3 models/build.py iris-svm digits-cnn
    chosen = builders()
    for name in sys.argv[1:] or list(chosen):
        if name not in chosen:
            sys.exit(f"unknown sample {name!r}; expected one of {', '.join(chosen)}")
        chosen[name]()
