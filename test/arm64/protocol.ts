/** Lines between the test and a function harness (test/arm64/harness.ts): one JSON object each. */

/** An event for the handler, on the harness's stdin. */
export interface HarnessRequest {
  readonly id: string;
  readonly event: unknown;
}

/** The handler's answer (or what it threw), on the harness's fd 3; id `init` reports the import. */
export type HarnessAnswer =
  | { readonly id: string; readonly result: unknown; readonly error?: undefined }
  | { readonly id: string; readonly error: { readonly name: string; readonly message: string } };
