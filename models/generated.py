"""A broad set of small test graphs written with onnx.helper (many operator families, every
V2 datatype, scalars, empty dimensions, several inputs and outputs, opsets 7 to 17, NCHW and
NHWC images, dynamic axes), each with inputs and the outputs numpy computes for them, in
test/fixtures/models/generated/ (cases.json), joined by the PyTorch exports of generated_torch.py,
the opset 18+ graphs of generated_opsets.py and the opset 8, 12, 15 and 16 graphs of
generated_gaps.py. Graphs onnxruntime cannot load are included."""

import json
import os

import numpy as np
import onnx
from common import ROOT
from onnx import TensorProto, helper, numpy_helper

FOLDER = os.path.join(ROOT, "test", "fixtures", "models", "generated")
V2 = {np.float16: "FP16", np.float32: "FP32", np.float64: "FP64", np.int8: "INT8", np.int16: "INT16",
      np.int32: "INT32", np.int64: "INT64", np.uint8: "UINT8", np.uint16: "UINT16", np.uint32: "UINT32",
      np.uint64: "UINT64", np.bool_: "BOOL", np.object_: "BYTES"}
PROTO = {np.float16: TensorProto.FLOAT16, np.float32: TensorProto.FLOAT, np.float64: TensorProto.DOUBLE,
         np.int8: TensorProto.INT8, np.int16: TensorProto.INT16, np.int32: TensorProto.INT32,
         np.int64: TensorProto.INT64, np.uint8: TensorProto.UINT8, np.uint16: TensorProto.UINT16,
         np.uint32: TensorProto.UINT32, np.uint64: TensorProto.UINT64, np.bool_: TensorProto.BOOL,
         np.object_: TensorProto.STRING}


def info(name, dtype, dims):
    return helper.make_tensor_value_info(name, PROTO[dtype], dims)


def tensor(name, array):
    if array.dtype == np.object_:
        data = [str(s) for s in array.ravel()]
    else:
        data = [v.item() if hasattr(v, "item") else v for v in array.ravel()]
    return {"name": name, "shape": list(array.shape), "datatype": V2[array.dtype.type], "data": data}


def case(name, opset, nodes, inputs, outputs, feeds, results, initializers=(), domain_opsets=(), check=True,
         ir_version=None):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    opsets = [helper.make_opsetid("", opset), *domain_opsets]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="modelgate")
    model.ir_version = ir_version or (7 if opset >= 13 else 4 if opset <= 9 else 6)
    if check:
        onnx.checker.check_model(model)
    onnx.save(model, os.path.join(FOLDER, f"{name}.onnx"))
    return {"name": name, "opset": opset,
            "inputs": [tensor(k, v) for k, v in feeds.items()],
            "outputs": [tensor(k, v) for k, v in results.items()]}


def build_generated():
    os.makedirs(FOLDER, exist_ok=True)
    rng = np.random.RandomState(0)
    cases = []
    w = rng.rand(3, 2)
    x = rng.rand(2, 3)
    cases.append(case("matmul-fp64", 13, [helper.make_node("MatMul", ["x", "w"], ["y"])],
                      [info("x", np.float64, ["N", 3])], [info("y", np.float64, ["N", 2])],
                      {"x": x}, {"y": x @ w}, [numpy_helper.from_array(w, "w")]))
    h = (rng.rand(3, 4) - 0.5).astype(np.float16)
    cases.append(case("relu-fp16", 14, [helper.make_node("Relu", ["x"], ["y"])],
                      [info("x", np.float16, ["N", 4])], [info("y", np.float16, ["N", 4])],
                      {"x": h}, {"y": np.maximum(h, 0)}))
    s = np.array(3.5, dtype=np.float32)
    cases.append(case("scalar", 13, [helper.make_node("Mul", ["x", "two"], ["y"])],
                      [info("x", np.float32, [])], [info("y", np.float32, [])],
                      {"x": s}, {"y": np.array(s * 2, dtype=np.float32)}, [numpy_helper.from_array(np.array(2, np.float32), "two")]))
    e = np.zeros((2, 0), dtype=np.float32)
    cases.append(case("empty-dim", 13, [helper.make_node("Identity", ["x"], ["y"])],
                      [info("x", np.float32, ["N", 0])], [info("y", np.float32, ["N", 0])],
                      {"x": e}, {"y": e}))
    a = rng.randint(-5, 5, (3, 2)).astype(np.int32)
    b = rng.randint(-5, 5, (3, 2)).astype(np.int32)
    cases.append(case("two-in-two-out", 11,
                      [helper.make_node("Add", ["a", "b"], ["sum"]), helper.make_node("Equal", ["a", "b"], ["same"])],
                      [info("a", np.int32, ["N", 2]), info("b", np.int32, ["N", 2])],
                      [info("sum", np.int32, ["N", 2]), info("same", np.bool_, ["N", 2])],
                      {"a": a, "b": b}, {"sum": a + b, "same": a == b}))
    u = rng.randint(0, 255, (2, 3)).astype(np.uint8)
    cases.append(case("cast-uint8", 9, [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT)],
                      [info("x", np.uint8, ["N", 3])], [info("y", np.float32, ["N", 3])],
                      {"x": u}, {"y": u.astype(np.float32)}))
    for dtype in (np.int8, np.int16, np.int64, np.uint16, np.uint32, np.uint64, np.bool_):
        v = rng.randint(0, 2 if dtype is np.bool_ else 100, (2, 2)).astype(dtype)
        cases.append(case(f"identity-{V2[dtype].lower()}", 13, [helper.make_node("Identity", ["x"], ["y"])],
                          [info("x", dtype, ["N", 2])], [info("y", dtype, ["N", 2])], {"x": v}, {"y": v}))
    words = np.array(["Hello", "WORLD"], dtype=object)
    cases.append(case("strings-lower", 10,
                      [helper.make_node("StringNormalizer", ["x"], ["y"], case_change_action="LOWER", locale="C")],
                      [info("x", np.object_, ["N"])], [info("y", np.object_, ["N"])],
                      {"x": words}, {"y": np.array([w.lower() for w in words], dtype=object)}))
    img = rng.rand(2, 1, 4, 4).astype(np.float32)
    ones = np.ones((1, 1, 3, 3), np.float32)
    conv = np.array([[[[img[n, 0, i:i + 3, j:j + 3].sum() for j in range(2)] for i in range(2)]] for n in range(2)],
                    dtype=np.float32)
    cases.append(case("conv-nchw", 7, [helper.make_node("Conv", ["x", "k"], ["y"])],
                      [info("x", np.float32, ["N", 1, 4, 4])], [info("y", np.float32, ["N", 1, 2, 2])],
                      {"x": img}, {"y": conv}, [numpy_helper.from_array(ones, "k")]))
    nhwc = img.transpose(0, 2, 3, 1)
    cases.append(case("conv-nhwc", 11,
                      [helper.make_node("Transpose", ["x"], ["nchw"], perm=[0, 3, 1, 2]),
                       helper.make_node("Conv", ["nchw", "k"], ["c"]),
                       helper.make_node("Transpose", ["c"], ["y"], perm=[0, 2, 3, 1])],
                      [info("x", np.float32, ["N", 4, 4, 1])], [info("y", np.float32, ["N", 2, 2, 1])],
                      {"x": nhwc}, {"y": conv.transpose(0, 2, 3, 1)}, [numpy_helper.from_array(ones, "k")]))
    z = rng.rand(2, 5).astype(np.float32)
    soft = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    cases.append(case("softmax-argmax", 17,
                      [helper.make_node("Softmax", ["x"], ["p"], axis=1),
                       helper.make_node("ArgMax", ["x"], ["k"], axis=1, keepdims=0)],
                      [info("x", np.float32, ["N", 5])], [info("p", np.float32, ["N", 5]), info("k", np.int64, ["N"])],
                      {"x": z}, {"p": soft, "k": z.argmax(axis=1)}))
    d = rng.rand(3, 7).astype(np.float32)
    cases.append(case("dynamic-axes", 13, [helper.make_node("ReduceMean", ["x"], ["y"], axes=[1], keepdims=0)],
                      [info("x", np.float32, ["batch", "time"])], [info("y", np.float32, ["batch"])],
                      {"x": d}, {"y": d.mean(axis=1)}))
    q = np.array([[-1.0, 0.0, 0.26, 1.0]], np.float32)
    cases.append(case("quantize-int8", 13,
                      [helper.make_node("QuantizeLinear", ["x", "scale", "zero"], ["y"])],
                      [info("x", np.float32, ["N", 4])], [info("y", np.int8, ["N", 4])],
                      {"x": q}, {"y": np.clip(np.rint(q / 0.01), -128, 127).astype(np.int8)},
                      [numpy_helper.from_array(np.array(0.01, np.float32), "scale"),
                       numpy_helper.from_array(np.array(0, np.int8), "zero")]))
    # Not loadable: an operator no opset defines.
    case("unloadable", 13, [helper.make_node("NoSuchOperator", ["x"], ["y"])],
         [info("x", np.float32, ["N"])], [info("y", np.float32, ["N"])], {"x": q}, {"y": q}, check=False)
    import generated_gaps
    import generated_opsets
    import generated_torch

    cases += generated_torch.build_torch_cases() + generated_opsets.build_opset_cases() + generated_gaps.build_gap_cases()
    with open(os.path.join(FOLDER, "cases.json"), "w") as f:
        json.dump(cases, f)
        f.write("\n")
    print(f"generated: {len(cases)} loadable graphs and two unloadable, in {FOLDER}")
