"""Peer for `npm run bench`: a typical Python model server.

FastAPI + uvicorn serving scikit-learn's own RandomForestClassifier, fitted
exactly as models/build.py fits the `iris` sample model, behind the same
`POST /v1/models/iris/predict` contract ({"instances": [[...]]} in,
{"predictions": [...], "probabilities": [...]} out).

    /usr/bin/python3 bench/peers/sklearn_fastapi.py PORT
"""

import sys

import numpy as np
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

data = load_iris()
x = data.data.astype(np.float32)
model = RandomForestClassifier(n_estimators=100, random_state=0).fit(x, data.target)
labels = [str(n) for n in data.target_names]
app = FastAPI()


class PredictRequest(BaseModel):
    instances: list[list[float]]


@app.post("/v1/models/iris/predict")
def predict(request: PredictRequest):
    rows = np.asarray(request.instances, dtype=np.float32)
    probabilities = model.predict_proba(rows)
    return {
        "predictions": [labels[int(i)] for i in probabilities.argmax(axis=1)],
        "probabilities": [dict(zip(labels, map(float, p))) for p in probabilities],
        "model_name": "iris",
        "model_version": "1",
    }


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
