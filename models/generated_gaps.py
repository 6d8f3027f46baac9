"""Graphs at opsets 8, 12, 15 and 16, which the other graphs of the set skip: each uses operator versions
introduced at its opset, written with onnx.helper and checked by onnx 1.12's checker (it knows opsets up
to 17), with inputs and numpy's outputs. They draw from their own generator, so the other graphs' data
stays as it was."""

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from generated import case, info


def minimal_ir(opset):
    """The IR version onnx pairs with `opset` (the oldest that knows it)."""
    return helper.find_min_ir_version_for([helper.make_opsetid("", opset)])


def celu(x, alpha):
    return np.maximum(0, x) + np.minimum(0, alpha * (np.exp(x / alpha) - 1))


def grid_sample(img, grid):
    """GridSample with bilinear interpolation, align_corners=1 and zero padding, NCHW."""
    n, c, h, w = img.shape
    out = np.zeros((n, c, grid.shape[1], grid.shape[2]), np.float64)
    for b in range(n):
        for i in range(grid.shape[1]):
            for j in range(grid.shape[2]):
                x = (grid[b, i, j, 0] + 1) / 2 * (w - 1)
                y = (grid[b, i, j, 1] + 1) / 2 * (h - 1)
                x0, y0 = int(np.floor(x)), int(np.floor(y))
                for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
                    for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
                        if 0 <= yy < h and 0 <= xx < w:
                            out[b, :, i, j] += wy * wx * img[b, :, yy, xx]
    return out.astype(np.float32)


def build_gap_cases():
    rng = np.random.RandomState(8)
    cases = []

    # 8: Expand is new; Max and Mean take inputs of any broadcastable shapes (multidirectional broadcasting).
    # IR 4, not the 3 onnx pairs with opset 8: IR 3 wants every initializer listed as a graph input too.
    x = rng.rand(2, 3).astype(np.float32)
    c = rng.rand(2, 1).astype(np.float32)
    row = np.array([0.25, 0.5, 0.75], np.float32)
    cases.append(case("opset8-expand-max-mean", 8,
                      [helper.make_node("Expand", ["c", "shape"], ["expanded"]),
                       helper.make_node("Max", ["x", "row"], ["peak"]),
                       helper.make_node("Mean", ["x", "c", "row"], ["mean"])],
                      [info("x", np.float32, ["N", 3]), info("c", np.float32, ["N", 1])],
                      [info("expanded", np.float32, ["N", 3]), info("peak", np.float32, ["N", 3]),
                       info("mean", np.float32, ["N", 3])],
                      {"x": x, "c": c},
                      {"expanded": np.broadcast_to(c, (2, 3)).copy(), "peak": np.maximum(x, row),
                       "mean": ((x + c + row) / 3).astype(np.float32)},
                      [numpy_helper.from_array(np.array([1, 3], np.int64), "shape"),
                       numpy_helper.from_array(row, "row")], ir_version=4))

    # 12: Celu, Einsum and GreaterOrEqual are new; ArgMax takes select_last_index.
    a = ((rng.rand(2, 3) - 0.5) * 4).astype(np.float32)
    b = ((rng.rand(2, 3) - 0.5) * 4).astype(np.float32)
    b[0, 1] = a[0, 1]
    ties = rng.randint(0, 3, (2, 5)).astype(np.float32)
    cases.append(case("opset12-celu-einsum-argmax", 12,
                      [helper.make_node("Celu", ["a"], ["celu"], alpha=0.5),
                       helper.make_node("Einsum", ["a", "b"], ["dot"], equation="bi,bi->b"),
                       helper.make_node("GreaterOrEqual", ["a", "b"], ["at_least"]),
                       helper.make_node("ArgMax", ["ties"], ["last"], axis=1, keepdims=0, select_last_index=1)],
                      [info("a", np.float32, ["N", 3]), info("b", np.float32, ["N", 3]), info("ties", np.float32, ["N", 5])],
                      [info("celu", np.float32, ["N", 3]), info("dot", np.float32, ["N"]),
                       info("at_least", np.bool_, ["N", 3]), info("last", np.int64, ["N"])],
                      {"a": a, "b": b, "ties": ties},
                      {"celu": celu(a.astype(np.float64), 0.5).astype(np.float32),
                       "dot": (a.astype(np.float64) * b).sum(axis=1).astype(np.float32), "at_least": a >= b,
                       "last": (ties.shape[1] - 1 - ties[:, ::-1].argmax(axis=1)).astype(np.int64)},
                      ir_version=minimal_ir(12)))

    # 15: CastLike is new; Shape takes start and end; BatchNormalization at its 15 version.
    img = rng.rand(2, 2, 3).astype(np.float32)
    counts = rng.randint(-5, 5, (2, 2, 3)).astype(np.int32)
    scale = np.array([1.5, 0.5], np.float32)
    bias = np.array([0.1, -0.2], np.float32)
    mean = np.array([0.4, 0.6], np.float32)
    var = np.array([0.09, 0.25], np.float32)
    normed = (img - mean.reshape(1, 2, 1)) / np.sqrt(var.reshape(1, 2, 1) + 1e-5) * scale.reshape(1, 2, 1) + \
        bias.reshape(1, 2, 1)
    cases.append(case("opset15-shape-castlike-batchnorm", 15,
                      [helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["normed"],
                                        epsilon=1e-5),
                       helper.make_node("CastLike", ["counts", "x"], ["floats"]),
                       helper.make_node("Add", ["normed", "floats"], ["y"]),
                       helper.make_node("Shape", ["x"], ["tail"], start=1),
                       helper.make_node("Shape", ["x"], ["head"], end=-2)],
                      [info("x", np.float32, ["N", 2, 3]), info("counts", np.int32, ["N", 2, 3])],
                      [info("y", np.float32, ["N", 2, 3]), info("tail", np.int64, [2]), info("head", np.int64, [1])],
                      {"x": img, "counts": counts},
                      {"y": (normed + counts).astype(np.float32), "tail": np.array([2, 3], np.int64),
                       "head": np.array([2], np.int64)},
                      [numpy_helper.from_array(scale, "scale"), numpy_helper.from_array(bias, "bias"),
                       numpy_helper.from_array(mean, "mean"), numpy_helper.from_array(var, "var")],
                      ir_version=minimal_ir(15)))

    # 16: ScatterND takes a reduction, GridSample is new, LessOrEqual and Where at their 16 versions.
    data = rng.rand(2, 4).astype(np.float32)
    where = np.array([[0, 1], [1, 3], [0, 1]], np.int64)
    updates = rng.rand(3).astype(np.float32)
    scattered = data.copy()
    np.add.at(scattered, (where[:, 0], where[:, 1]), updates)
    image = rng.rand(2, 1, 3, 3).astype(np.float32)
    grid = (rng.rand(2, 2, 2, 2) * 2 - 1).astype(np.float32)
    grid[0, 0, 0] = [1.0, 1.0]
    limit = np.array(0.9, np.float32)
    cases.append(case("opset16-scatter-gridsample-where", 16,
                      [helper.make_node("ScatterND", ["data", "indices", "updates"], ["scattered"], reduction="add"),
                       helper.make_node("LessOrEqual", ["scattered", "limit"], ["within"]),
                       helper.make_node("Where", ["within", "scattered", "limit"], ["capped"]),
                       helper.make_node("GridSample", ["image", "grid"], ["sampled"], mode="bilinear",
                                        padding_mode="zeros", align_corners=1)],
                      [info("data", np.float32, ["N", 4]), info("indices", np.int64, ["M", 2]),
                       info("updates", np.float32, ["M"]), info("image", np.float32, ["N", 1, 3, 3]),
                       info("grid", np.float32, ["N", 2, 2, 2])],
                      [info("scattered", np.float32, ["N", 4]), info("capped", np.float32, ["N", 4]),
                       info("sampled", np.float32, ["N", 1, 2, 2])],
                      {"data": data, "indices": where, "updates": updates, "image": image, "grid": grid},
                      {"scattered": scattered, "capped": np.where(scattered <= limit, scattered, limit),
                       "sampled": grid_sample(image.astype(np.float64), grid.astype(np.float64))},
                      [numpy_helper.from_array(limit, "limit")], ir_version=minimal_ir(16)))
    return cases
