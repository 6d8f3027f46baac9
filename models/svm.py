"""Support vector machines and a single decision tree from scikit-learn, written as
ai.onnx.ml SVMClassifier / SVMRegressor / TreeEnsembleClassifier graphs with onnx.helper."""

import numpy as np
from common import IRIS_FEATURES, classifier_model, input_info, make_model, write, write_classifier
from onnx import TensorProto, helper
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR
from sklearn.tree import DecisionTreeClassifier


def svm_attributes(est):
    """Kernel and support vectors as both SVM operators take them (libsvm's layout)."""
    return {
        "kernel_type": est.kernel.upper(),
        "kernel_params": [float(est._gamma), float(est.coef0), float(est.degree)],
        "support_vectors": [float(v) for v in np.ravel(est.support_vectors_)],
        "coefficients": [float(v) for v in np.ravel(est.dual_coef_)],
        "rho": [float(v) for v in np.ravel(est.intercept_)],
    }


def svm_classifier(name, est, n_features, source):
    return classifier_model(
        name,
        "SVMClassifier",
        len(est.classes_),
        n_features,
        source,
        classlabels_ints=[int(c) for c in est.classes_],
        vectors_per_class=[int(n) for n in est.n_support_],
        prob_a=[float(v) for v in est.probA_],
        prob_b=[float(v) for v in est.probB_],
        post_transform="NONE",
        **svm_attributes(est),
    )


def svm_regressor(name, est, n_features, scale, source):
    """SVR on standardised features: a Scaler node in front, as a pipeline would export."""
    scaler = helper.make_node(
        "Scaler",
        ["input"],
        ["scaled"],
        domain="ai.onnx.ml",
        offset=[float(v) for v in scale.mean_],
        scale=[float(1 / v) for v in scale.scale_],
    )
    node = helper.make_node(
        "SVMRegressor",
        ["scaled"],
        ["prediction"],
        domain="ai.onnx.ml",
        n_supports=len(est.support_),
        post_transform="NONE",
        **svm_attributes(est),
    )
    out = helper.make_tensor_value_info("prediction", TensorProto.FLOAT, ["N", 1])
    return make_model(name, [scaler, node], [input_info(n_features)], [out], source)


def write_iris_split(name, est, graph, description, source):
    """Fits `est` on 70% of iris and writes it with its accuracy on the other 30%; `graph(est)` is its ONNX model."""
    data = load_iris()
    x = data.data.astype(np.float32)
    labels = [str(n) for n in data.target_names]
    x_train, x_test, y_train, y_test = train_test_split(x, data.target, test_size=0.3, random_state=0)
    est.fit(x_train, y_train)
    metrics = {"test_accuracy": round(float(est.score(x_test, y_test)), 4)}
    write_classifier(name, graph(est), est, x, labels, description, IRIS_FEATURES, metrics, source)


def build_iris_svm(source):
    write_iris_split(
        "iris-svm",
        SVC(kernel="rbf", probability=True, random_state=0),
        lambda est: svm_classifier("iris-svm", est, 4, source),
        "SVC (RBF kernel, probability=True) on the iris data set",
        source,
    )


def build_diabetes_svr(source):
    data = load_diabetes()
    x = data.data.astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, data.target, test_size=0.3, random_state=0)
    scale = StandardScaler().fit(x_train)
    est = SVR(kernel="rbf", C=100.0, epsilon=5.0).fit(scale.transform(x_train), y_train)
    probe = x[:100]
    write(
        "diabetes-svr",
        svm_regressor("diabetes-svr", est, 10, scale, source),
        {
            "description": "SVR (RBF kernel, C=100) on standardised features of the diabetes data set",
            "features": [str(f) for f in data.feature_names],
            "metrics": {"test_r2": round(float(est.score(scale.transform(x_test), y_test)), 4)},
            "source": source,
        },
        probe,
        {"predictions": [float(v) for v in est.predict(scale.transform(probe))]},
    )


def build_iris_tree(source, forest_classifier):
    write_iris_split(
        "iris-tree",
        DecisionTreeClassifier(max_depth=4, random_state=0),
        lambda est: forest_classifier("iris-tree", est, 4, trees=[est]),
        "One DecisionTreeClassifier (depth 4) on the iris data set",
        source,
    )


def map_sequence(key_type):
    """seq(map(key_type, float)), ZipMap's output type (built by hand: onnx 1.12's helper has no map maker)."""
    from onnx import TypeProto

    seq = TypeProto()
    seq.sequence_type.elem_type.map_type.key_type = key_type
    seq.sequence_type.elem_type.map_type.value_type.tensor_type.elem_type = TensorProto.FLOAT
    return seq


def zipmap_classifier(est, labels, n_features):
    """LogisticRegression laid out as skl2onnx writes it by default: LinearClassifier,
    Normalizer, Cast/Identity to `output_label`, and a ZipMap to `output_probability`."""
    strings = isinstance(labels[0], str)
    key = "classlabels_strings" if strings else "classlabels_ints"
    nodes = [
        helper.make_node(
            "LinearClassifier", ["input"], ["label", "probability_tensor"], domain="ai.onnx.ml",
            coefficients=[float(c) for c in np.ravel(est.coef_)],
            intercepts=[float(c) for c in np.ravel(est.intercept_)],
            post_transform="SOFTMAX", **{key: labels},
        ),
        helper.make_node("Normalizer", ["probability_tensor"], ["probabilities"], domain="ai.onnx.ml", norm="L1"),
        helper.make_node("Identity", ["label"], ["output_label"]) if strings
        else helper.make_node("Cast", ["label"], ["output_label"], to=TensorProto.INT64),
        helper.make_node(
            "ZipMap", ["probabilities"], ["output_probability"], domain="ai.onnx.ml",
            **{"classlabels_strings" if strings else "classlabels_int64s": labels},
        ),
    ]
    key_type = TensorProto.STRING if strings else TensorProto.INT64
    outputs = [
        helper.make_tensor_value_info("output_label", key_type, ["N"]),
        helper.make_value_info("output_probability", map_sequence(key_type)),
    ]
    return make_model("zipmap", nodes, [input_info(n_features)], outputs, "skl2onnx's default classifier layout")


def build_zipmap(root):
    """Test models: iris classifiers with ZipMap outputs, int and string class labels,
    and scikit-learn's answers for a few rows (test/fixtures/models/)."""
    import json
    import os

    import onnx

    data = load_iris()
    x = data.data.astype(np.float32)
    names = [str(n) for n in data.target_names]
    est = LogisticRegression(max_iter=1000).fit(x, data.target)
    probe = x[::10]
    folder = os.path.join(root, "test", "fixtures", "models")
    expected = {"instances": probe.tolist(), "classes": [int(c) for c in est.predict(probe)],
                "probabilities": est.predict_proba(probe).tolist(), "names": names}
    for kind, labels in (("ints", [0, 1, 2]), ("strings", names)):
        path = os.path.join(folder, f"zipmap-{kind}.onnx")
        onnx.save(zipmap_classifier(est, labels, 4), path)
        print(f"zipmap-{kind} (test fixture): {os.path.getsize(path)} bytes")
    with open(os.path.join(folder, "zipmap.json"), "w") as f:
        json.dump(expected, f)
        f.write("\n")
