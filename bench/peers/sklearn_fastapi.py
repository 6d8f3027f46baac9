"""Peer for `npm run bench`: a Python model server, in two styles.

FastAPI + uvicorn, two worker processes (one per core), serving scikit-learn's
own estimators for the four sample models, fitted exactly as models/build.py
fits them, behind the same `POST /v1/models/{model}/predict` contract
({"instances": [[...]]} in, {"predictions", "probabilities"?, "model_name",
"model_version"} out). Each model is fitted once per worker at import, the
request becomes one numpy array, and one predict call answers it.

- `async` (the default): as a careful team writes it for speed: an `async def`
  handler that parses the raw body once with `json.loads` and answers bytes of
  `json.dumps` (no pydantic, no jsonable_encoder), uvicorn on uvloop and
  httptools (Debian python3-uvloop, python3-httptools; asyncio and h11 without them).
- `def`: the tutorial style: a `def` handler (run in the thread pool) taking a
  pydantic model, FastAPI's own JSON encoding, on the same server.

    /usr/bin/python3 bench/peers/sklearn_fastapi.py PORT [WORKERS] [async|def]
"""

import importlib.util
import json
import os
import sys

import numpy as np
import uvicorn
from fastapi import FastAPI, HTTPException, Request, Response
from pydantic import BaseModel
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression


def fit_models():
    iris = load_iris()
    x = iris.data.astype(np.float32)
    labels = [str(n) for n in iris.target_names]
    rng = np.random.RandomState(0)
    lx = rng.rand(100, 1)
    ly = 3 * lx + rng.rand(100, 1)
    diabetes = load_diabetes()
    return {
        "iris": (RandomForestClassifier(n_estimators=100, random_state=0).fit(x, iris.target), labels),
        "iris-logistic": (LogisticRegression(max_iter=1000).fit(x, iris.target), labels),
        "linear": (LinearRegression().fit(lx.astype(np.float32), ly), None),
        "diabetes": (
            GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=0).fit(
                diabetes.data.astype(np.float32), diabetes.target
            ),
            None,
        ),
    }


models = fit_models()
app = FastAPI()


class PredictRequest(BaseModel):
    instances: list[list[float]]


def answer(name, instances):
    if name not in models:
        raise HTTPException(status_code=404, detail=f"model '{name}' not found")
    model, labels = models[name]
    rows = np.asarray(instances, dtype=np.float32)
    if labels is None:
        return {
            "predictions": [float(v) for v in np.ravel(model.predict(rows))],
            "model_name": name,
            "model_version": "1",
        }
    probabilities = model.predict_proba(rows)
    return {
        "predictions": [labels[int(i)] for i in probabilities.argmax(axis=1)],
        "probabilities": [dict(zip(labels, map(float, p))) for p in probabilities],
        "model_name": name,
        "model_version": "1",
    }


STYLE = os.environ.get("PEER_STYLE", "async")

if STYLE == "def":

    @app.post("/v1/models/{name}/predict")
    def predict(name: str, request: PredictRequest):
        return answer(name, request.instances)

else:

    @app.post("/v1/models/{name}/predict")
    async def predict(name: str, request: Request):
        body = json.loads(await request.body())
        return Response(json.dumps(answer(name, body["instances"])), media_type="application/json")


def has(module):
    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count() or 1
    # The workers import this module afresh: they learn the style from the environment.
    os.environ["PEER_STYLE"] = sys.argv[3] if len(sys.argv) > 3 else "async"
    uvicorn.run(
        "sklearn_fastapi:app",
        # Both styles take uvloop and httptools when installed, as uvicorn's "auto" does.
        loop="uvloop" if has("uvloop") else "asyncio",
        http="httptools" if has("httptools") else "h11",
        app_dir=os.path.dirname(os.path.abspath(__file__)),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        workers=workers,
        log_level="warning",
        access_log=False,
    )
