/** The sample rows and request bodies the benchmarks send to ModelGate and its peers. */

export const IRIS_ROW = [[5.1, 3.5, 1.4, 0.2]];
export const LINEAR_ROW = [[2.0]];

/** A `/v1/models/{name}/predict` body of these rows. */
export const predictBody = (instances: unknown) => JSON.stringify({ instances });
