/** The sample rows and request bodies the benchmarks send to ModelGate and its peers. */

export const IRIS_ROW = [[5.1, 3.5, 1.4, 0.2]];
export const LINEAR_ROW = [[2.0]];
/** One 8×8 digit (a zero, pixels in [0, 1]) as digits-cnn takes it: [1, 8, 8] per instance. */
export const DIGIT_IMAGE = [
  [
    [0, 0, 0.3125, 0.8125, 0.5625, 0.0625, 0, 0],
    [0, 0, 0.8125, 0.9375, 0.625, 0.9375, 0.3125, 0],
    [0, 0.1875, 0.9375, 0.125, 0, 0.6875, 0.5, 0],
    [0, 0.25, 0.75, 0, 0, 0.5, 0.5, 0],
    [0, 0.3125, 0.5, 0, 0, 0.5625, 0.5, 0],
    [0, 0.25, 0.6875, 0, 0.0625, 0.75, 0.4375, 0],
    [0, 0.125, 0.875, 0.3125, 0.625, 0.75, 0, 0],
    [0, 0, 0.375, 0.8125, 0.625, 0, 0, 0],
  ],
];

/** A `/v1/models/{name}/predict` body of these rows. */
export const predictBody = (instances: unknown) => JSON.stringify({ instances });
