"""Graphs at opsets above the 17 that Debian's onnx 1.12 knows, written with onnx.helper by setting
opset_import (onnx 1.12's checker does not know these operator versions, so it is not run): each
uses an operator version introduced at its opset, with inputs and numpy's outputs. One graph stamped
opset 99, which onnxruntime refuses to load, is included."""

import math

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from generated import case, info

# The IR version onnx pairs with each opset (onnx/helper.py VERSION_TABLE of later releases).
IR = {18: 8, 19: 9, 20: 9, 21: 10, 22: 10, 23: 11, 24: 11, 25: 12, 26: 13}


def newer(name, opset, nodes, inputs, outputs, feeds, results, initializers=()):
    return case(name, opset, nodes, inputs, outputs, feeds, results, initializers, check=False, ir_version=IR[opset])


def build_opset_cases():
    rng = np.random.RandomState(2)
    cases = []

    # 18: ReduceMean takes its axes as an input; Split takes num_outputs; BitwiseAnd is new.
    x = rng.rand(2, 6).astype(np.float32)
    a = rng.randint(0, 64, (2, 6)).astype(np.int32)
    b = rng.randint(0, 64, (2, 6)).astype(np.int32)
    cases.append(newer("opset18-reduce-split-bitwise", 18,
                       [helper.make_node("ReduceMean", ["x", "axes"], ["mean"], keepdims=1),
                        helper.make_node("Split", ["x"], ["left", "right"], axis=1, num_outputs=2),
                        helper.make_node("BitwiseAnd", ["a", "b"], ["both"])],
                       [info("x", np.float32, ["N", 6]), info("a", np.int32, ["N", 6]), info("b", np.int32, ["N", 6])],
                       [info("mean", np.float32, ["N", 1]), info("left", np.float32, ["N", 3]),
                        info("right", np.float32, ["N", 3]), info("both", np.int32, ["N", 6])],
                       {"x": x, "a": a, "b": b},
                       {"mean": x.mean(axis=1, keepdims=True), "left": x[:, :3], "right": x[:, 3:], "both": a & b},
                       [numpy_helper.from_array(np.array([1], np.int64), "axes")]))

    # 19: Equal compares strings; Cast (with its saturate attribute) and Reshape at their 19 versions.
    words = np.array([["cat", "dog"], ["owl", "cat"]], dtype=object)
    other = np.array([["cat", "cow"], ["owl", "bee"]], dtype=object)
    v = (rng.rand(2, 4) * 100).astype(np.float32)
    cases.append(newer("opset19-strings-cast-reshape", 19,
                       [helper.make_node("Equal", ["s", "t"], ["same"]),
                        helper.make_node("Cast", ["v"], ["half"], to=TensorProto.FLOAT16, saturate=1),
                        helper.make_node("Reshape", ["half", "shape"], ["y"])],
                       [info("s", np.object_, ["N", 2]), info("t", np.object_, ["N", 2]), info("v", np.float32, ["N", 4])],
                       [info("same", np.bool_, ["N", 2]), info("y", np.float16, ["N", 2, 2])],
                       {"s": words, "t": other, "v": v},
                       {"same": words == other, "y": v.astype(np.float16).reshape(2, 2, 2)},
                       [numpy_helper.from_array(np.array([-1, 2, 2], np.int64), "shape")]))

    # 20: Gelu, StringConcat and RegexFullMatch are new.
    g = (rng.rand(2, 5).astype(np.float32) - 0.5) * 4
    gelu = np.vectorize(lambda t: 0.5 * t * (1 + math.erf(t / math.sqrt(2))))(g.astype(np.float64)).astype(np.float32)
    first = np.array(["model", "gate"], dtype=object)
    second = np.array(["-1", "way"], dtype=object)
    joined = np.array([f + s for f, s in zip(first, second)], dtype=object)
    cases.append(newer("opset20-gelu-strings", 20,
                       [helper.make_node("Gelu", ["g"], ["gelu"]),
                        helper.make_node("StringConcat", ["first", "second"], ["joined"]),
                        helper.make_node("RegexFullMatch", ["joined"], ["numbered"], pattern="[a-z]+-[0-9]+")],
                       [info("g", np.float32, ["N", 5]), info("first", np.object_, ["N"]), info("second", np.object_, ["N"])],
                       [info("gelu", np.float32, ["N", 5]), info("joined", np.object_, ["N"]), info("numbered", np.bool_, ["N"])],
                       {"g": g, "first": first, "second": second},
                       {"gelu": gelu, "joined": joined, "numbered": np.array([True, False])}))

    # 21: GroupNormalization with per-channel scale and bias (and stash_type), Flatten at 21.
    img = rng.rand(2, 4, 2, 2).astype(np.float32)
    scale = np.array([1.0, 0.5, 2.0, 1.5], np.float32)
    bias = np.array([0.0, 0.1, -0.1, 0.2], np.float32)
    grouped = img.reshape(2, 2, -1)
    normed = ((grouped - grouped.mean(axis=2, keepdims=True)) / np.sqrt(grouped.var(axis=2, keepdims=True) + 1e-5))
    normed = normed.reshape(img.shape) * scale.reshape(1, 4, 1, 1) + bias.reshape(1, 4, 1, 1)
    cases.append(newer("opset21-groupnorm-flatten", 21,
                       [helper.make_node("GroupNormalization", ["x", "scale", "bias"], ["n"], num_groups=2, epsilon=1e-5,
                                         stash_type=1),
                        helper.make_node("Flatten", ["n"], ["y"], axis=1)],
                       [info("x", np.float32, ["N", 4, 2, 2])], [info("y", np.float32, ["N", 16])],
                       {"x": img}, {"y": normed.reshape(2, 16).astype(np.float32)},
                       [numpy_helper.from_array(scale, "scale"), numpy_helper.from_array(bias, "bias")]))

    # 23: RMSNormalization and Attention are new.
    r = rng.rand(2, 3, 4).astype(np.float32)
    gamma = np.array([1.0, 2.0, 0.5, 1.0], np.float32)
    rms = r / np.sqrt((r * r).mean(axis=-1, keepdims=True) + 1e-5) * gamma
    q = rng.rand(2, 2, 3, 4).astype(np.float32)
    k = rng.rand(2, 2, 5, 4).astype(np.float32)
    val = rng.rand(2, 2, 5, 4).astype(np.float32)
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(4)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    cases.append(newer("opset23-rmsnorm-attention", 23,
                       [helper.make_node("RMSNormalization", ["r", "gamma"], ["rms"], epsilon=1e-5),
                        helper.make_node("Attention", ["q", "k", "v"], ["attended"])],
                       [info("r", np.float32, ["N", 3, 4]), info("q", np.float32, ["N", 2, 3, 4]),
                        info("k", np.float32, ["N", 2, 5, 4]), info("v", np.float32, ["N", 2, 5, 4])],
                       [info("rms", np.float32, ["N", 3, 4]), info("attended", np.float32, ["N", 2, 3, 4])],
                       {"r": r, "q": q, "k": k, "v": val},
                       {"rms": rms.astype(np.float32), "attended": (weights @ val).astype(np.float32)},
                       [numpy_helper.from_array(gamma, "gamma")]))

    # 24: Swish is new. 26: the newest opset onnxruntime 1.30 runs; Mul resolves to its latest version.
    s = (rng.rand(2, 5).astype(np.float32) - 0.5) * 6
    cases.append(newer("opset24-swish", 24, [helper.make_node("Swish", ["x"], ["y"], alpha=1.0)],
                       [info("x", np.float32, ["N", 5])], [info("y", np.float32, ["N", 5])],
                       {"x": s}, {"y": (s / (1 + np.exp(-s))).astype(np.float32)}))
    cases.append(newer("opset26-mul", 26, [helper.make_node("Mul", ["x", "x"], ["y"])],
                       [info("x", np.float32, ["N", 5])], [info("y", np.float32, ["N", 5])],
                       {"x": s}, {"y": s * s}))

    # Not loadable: stamped with an opset no onnx release defines.
    case("opset99", 99, [helper.make_node("Identity", ["x"], ["y"])], [info("x", np.float32, ["N"])],
         [info("y", np.float32, ["N"])], {"x": s[0]}, {"y": s[0]}, check=False, ir_version=10)
    return cases
