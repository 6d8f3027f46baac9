/** API Gateway REST API integration limits: one home for the stack, the config schema and the local gateway. */
export const API_GATEWAY_LIMITS = {
  /** Integration timeout of a buffered integration: the default, and the most without a quota increase. */
  bufferedTimeoutMs: 29_000,
  /** Largest integration timeout of a streamed integration (response transfer mode STREAM). */
  streamedTimeoutMaxMs: 900_000,
  /** Longest a stream may go without a byte on a Regional or private endpoint (edge-optimized: 30 s). */
  streamIdleTimeoutMs: 300_000,
} as const;
