"""Graphs at opsets above the 17 that Debian's onnx 1.12 knows, written with onnx.helper by setting
opset_import (onnx 1.12's checker does not know these operator versions, so it is not run): each
uses an operator version introduced at its opset, with inputs and numpy's outputs. One graph stamped
opset 99, which onnxruntime refuses to load, is included."""

import math

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from generated import case, info

# The IR version onnx pairs with each opset (onnx/helper.py VERSION_TABLE of later releases): IR 12 came
# with float8e8m0 at opset 24, IR 13 with the 2-bit integers at opset 25.
IR = {18: 8, 19: 9, 20: 9, 21: 10, 22: 10, 23: 11, 24: 12, 25: 13, 26: 13}


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

    # 22: Conv, MaxPool, AveragePool, HardSwish and Mish at their 22 versions (the ones that added bfloat16).
    # The graphs at 22, 25 and 26 draw from their own generator, so the others' data stays as it was.
    later = np.random.RandomState(22)
    img = (later.rand(2, 1, 4, 4).astype(np.float32) - 0.5) * 4
    kernel = later.rand(2, 1, 2, 2).astype(np.float32) - 0.5
    conv_bias = np.array([0.25, -0.5], np.float32)
    conv = np.einsum("nhwij,kij->nkhw", np.lib.stride_tricks.sliding_window_view(img[:, 0], (2, 2), axis=(1, 2)),
                     kernel[:, 0]) + conv_bias.reshape(1, 2, 1, 1)
    peak = np.lib.stride_tricks.sliding_window_view(conv, (2, 2), axis=(2, 3)).max(axis=(4, 5))
    mean = img.reshape(2, 1, 2, 2, 2, 2).mean(axis=(3, 5)).astype(np.float64)
    cases.append(newer("opset22-conv-pool-activations", 22,
                       [helper.make_node("Conv", ["x", "k", "kb"], ["c"]),
                        helper.make_node("MaxPool", ["c"], ["m"], kernel_shape=[2, 2]),
                        helper.make_node("HardSwish", ["m"], ["pooled"]),
                        helper.make_node("AveragePool", ["x"], ["a"], kernel_shape=[2, 2], strides=[2, 2]),
                        helper.make_node("Mish", ["a"], ["smooth"])],
                       [info("x", np.float32, ["N", 1, 4, 4])],
                       [info("pooled", np.float32, ["N", 2, 2, 2]), info("smooth", np.float32, ["N", 1, 2, 2])],
                       {"x": img},
                       {"pooled": (peak * np.clip(peak / 6 + 0.5, 0, 1)).astype(np.float32),
                        "smooth": (mean * np.tanh(np.log1p(np.exp(mean)))).astype(np.float32)},
                       [numpy_helper.from_array(kernel, "k"), numpy_helper.from_array(conv_bias, "kb")]))

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

    # 24: Swish is new.
    s = (rng.rand(2, 5).astype(np.float32) - 0.5) * 6
    cases.append(newer("opset24-swish", 24, [helper.make_node("Swish", ["x"], ["y"], alpha=1.0)],
                       [info("x", np.float32, ["N", 5])], [info("y", np.float32, ["N", 5])],
                       {"x": s}, {"y": (s / (1 + np.exp(-s))).astype(np.float32)}))

    # 25: Pad, Transpose, Unsqueeze, Shape, Size and Cast at their 25 versions (the ones that added int2/uint2).
    p = later.rand(2, 3).astype(np.float32)
    padded = np.pad(p, ((0, 0), (1, 1)), constant_values=0.5)
    cases.append(newer("opset25-pad-transpose-shape", 25,
                       [helper.make_node("Pad", ["x", "pads", "fill"], ["padded"]),
                        helper.make_node("Transpose", ["padded"], ["t"], perm=[1, 0]),
                        helper.make_node("Unsqueeze", ["t", "axes"], ["columns"]),
                        helper.make_node("Shape", ["x"], ["shape"]),
                        helper.make_node("Size", ["x"], ["size"]),
                        helper.make_node("Cast", ["x"], ["wide"], to=TensorProto.DOUBLE)],
                       [info("x", np.float32, ["N", 3])],
                       [info("columns", np.float32, [1, 5, "N"]), info("shape", np.int64, [2]),
                        info("size", np.int64, []), info("wide", np.float64, ["N", 3])],
                       {"x": p},
                       {"columns": padded.T[np.newaxis], "shape": np.array(p.shape, np.int64),
                        "size": np.array(p.size, np.int64), "wide": p.astype(np.float64)},
                       [numpy_helper.from_array(np.array([0, 1, 0, 1], np.int64), "pads"),
                        numpy_helper.from_array(np.array(0.5, np.float32), "fill"),
                        numpy_helper.from_array(np.array([0], np.int64), "axes")]))

    # 26: CumProd and BitCast are new.
    f = later.rand(2, 4).astype(np.float32) + 0.5
    cases.append(newer("opset26-cumprod-bitcast", 26,
                       [helper.make_node("CumProd", ["x", "axis"], ["products"], reverse=1),
                        helper.make_node("BitCast", ["x"], ["bits"], to=TensorProto.INT32)],
                       [info("x", np.float32, ["N", 4])],
                       [info("products", np.float32, ["N", 4]), info("bits", np.int32, ["N", 4])],
                       {"x": f},
                       {"products": np.cumprod(f[:, ::-1], axis=1)[:, ::-1].astype(np.float32),
                        "bits": f.view(np.int32)},
                       [numpy_helper.from_array(np.array(1, np.int64), "axis")]))

    # Not loadable: stamped with an opset no onnx release defines.
    case("opset99", 99, [helper.make_node("Identity", ["x"], ["y"])], [info("x", np.float32, ["N"])],
         [info("y", np.float32, ["N"])], {"x": s[0]}, {"y": s[0]}, check=False, ir_version=10)
    return cases
