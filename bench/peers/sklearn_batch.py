"""Peer for `npm run bench` (batch): pandas reads the file, scikit-learn predicts.

The same GradientBoostingRegressor as the `diabetes` sample model, fitted as
models/build.py fits it, scoring a JSONL or CSV file of 10-feature rows.

    /usr/bin/python3 bench/peers/sklearn_batch.py FILE

Prints {"rows", "seconds", "readSeconds", "predictSeconds", "peakRssMb"} as JSON.
"""

import json
import resource
import sys
import time

import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.ensemble import GradientBoostingRegressor

data = load_diabetes()
x = data.data.astype(np.float32)
model = GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=0).fit(x, data.target)
path = sys.argv[1]

started = time.perf_counter()
if path.endswith(".csv"):
    frame = pd.read_csv(path)
else:
    frame = pd.read_json(path, lines=True)
rows = frame.to_numpy(dtype=np.float32)
read = time.perf_counter()
predictions = model.predict(rows)
done = time.perf_counter()
with open(path + ".sklearn.out", "w") as f:
    f.write("\n".join(map(str, predictions)))
finished = time.perf_counter()
print(
    json.dumps(
        {
            "rows": len(predictions),
            "seconds": finished - started,
            "readSeconds": read - started,
            "predictSeconds": done - read,
            "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )
)
