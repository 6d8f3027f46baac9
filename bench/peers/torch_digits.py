"""Peer for `npm run bench` (cnn, cnn-batch): the digits-cnn network served by PyTorch.

The network of models/digits_cnn.py (DigitsCnn, which models/nets.py trains) rebuilt with the weights of models/digits-cnn/model.onnx
(its initializers are the exported state dict), so both sides run the same network.

    /usr/bin/python3 bench/peers/torch_digits.py serve PORT [WORKERS]   # FastAPI + uvicorn
    /usr/bin/python3 bench/peers/torch_digits.py batch FILE             # pandas reads JSONL, PyTorch scores

`serve` answers `POST /v1/models/digits-cnn/predict` ({"instances": [[[[...8]]]]} in, labels and
probabilities out); `batch` prints {"rows", "seconds", "readSeconds", "predictSeconds", "peakRssMb"}.
"""

import json
import os
import resource
import sys
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
LABELS = [str(d) for d in range(10)]
torch.set_num_threads(1)
sys.path.insert(0, os.path.join(ROOT, "models"))
from digits_cnn import DigitsCnn  # noqa: E402  (models/ is not a package)


def load_net():
    graph = onnx.load(os.path.join(ROOT, "models", "digits-cnn", "model.onnx")).graph
    state = {
        i.name.removeprefix("net."): torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer
    }
    net = DigitsCnn()
    net.load_state_dict(state)
    return net.eval()


def predict(net, images):
    with torch.no_grad():
        probabilities = torch.softmax(net(torch.from_numpy(images)), dim=1)
    return probabilities.argmax(dim=1).numpy(), probabilities.numpy()


def batch(path):
    import pandas as pd

    net = load_net()
    started = time.perf_counter()
    frame = pd.read_json(path, lines=True, typ="series")
    images = np.asarray(frame.tolist(), dtype=np.float32).reshape((-1, 1, 8, 8))
    read = time.perf_counter()
    labels, probabilities = predict(net, images)
    done = time.perf_counter()
    with open(path + ".torch.out", "w") as f:
        for label, p in zip(labels, probabilities):
            f.write(json.dumps({"prediction": LABELS[label], "probabilities": p.tolist()}) + "\n")
    finished = time.perf_counter()
    print(json.dumps({
        "rows": len(labels),
        "seconds": finished - started,
        "readSeconds": read - started,
        "predictSeconds": done - read,
        "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def app():
    from fastapi import FastAPI, HTTPException
    from pydantic import BaseModel

    net = load_net()
    server = FastAPI()

    class PredictRequest(BaseModel):
        instances: list[list[list[list[float]]]]

    @server.post("/v1/models/{name}/predict")
    def serve_predict(name: str, request: PredictRequest):
        if name != "digits-cnn":
            raise HTTPException(status_code=404, detail=f"model '{name}' not found")
        labels, probabilities = predict(net, np.asarray(request.instances, dtype=np.float32))
        return {
            "predictions": [LABELS[i] for i in labels],
            "probabilities": [dict(zip(LABELS, map(float, p))) for p in probabilities],
            "model_name": name,
            "model_version": "1",
        }

    return server


if __name__ == "__main__":
    if sys.argv[1] == "batch":
        batch(sys.argv[2])
    else:
        import uvicorn

        uvicorn.run("torch_digits:app", factory=True, app_dir=os.path.dirname(os.path.abspath(__file__)),
                    host="127.0.0.1", port=int(sys.argv[2]), workers=int(sys.argv[3]) if len(sys.argv) > 3 else 2,
                    log_level="warning", access_log=False)
