/**
 * Errors that know their HTTP status. Protocol layers turn them into
 * responses in exactly one place each; anything that is not a ModelGateError
 * is a server fault and becomes a 500 after being logged.
 */
export class ModelGateError extends Error {
  readonly statusCode: number;
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Readonly<Record<string, string>>;
  /** The request field at fault, for protocols that report it (OpenAI's `param`). */
  readonly param: string | undefined;
  /** A machine-readable code, for protocols that report it (OpenAI's `code`). */
  readonly code: string | undefined;
  /** The error's type where a protocol names it apart from the status (OpenAI's `type`). */
  readonly type: string | undefined;

  constructor(message: string, statusCode: number, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ModelGateError';
    this.statusCode = statusCode;
    this.headers = options.headers ?? {};
    this.param = options.param;
    this.code = options.code;
    this.type = options.type;
  }
}

export interface ErrorOptions {
  readonly cause?: unknown;
  readonly headers?: Record<string, string>;
  readonly param?: string;
  readonly code?: string;
  readonly type?: string;
}

/** The client sent something malformed; the message says what was expected. */
export class BadRequestError extends ModelGateError {
  constructor(message: string, options: Omit<ErrorOptions, 'headers'> = {}) {
    super(message, 400, options);
    this.name = 'BadRequestError';
  }
}

/** The model cannot score batch files (not one numeric `[-1, features]` input); the message says what it takes. */
export class UnbatchableModelError extends BadRequestError {
  constructor(message: string) {
    super(message);
    this.name = 'UnbatchableModelError';
  }
}

/** The cause of an error a client should retry, and after how many seconds (1 unless given). */
interface RetryLater {
  cause?: unknown;
  retryAfterSeconds?: number;
}
const retryLater = (options: RetryLater) => ({
  cause: options.cause,
  headers: { 'Retry-After': String(options.retryAfterSeconds ?? 1) },
});

/** A model server behind ModelGate failed or answered nonsense. */
export class UpstreamError extends ModelGateError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, 502, options);
    this.name = 'UpstreamError';
  }
}

/** Too many requests for a model right now; retry after the header's delay. */
export class TooManyRequestsError extends ModelGateError {
  constructor(message: string, options: RetryLater = {}) {
    super(message, 429, retryLater(options));
    this.name = 'TooManyRequestsError';
  }
}

/**
 * A key is over a monthly budget (tokens or requests): OpenAI's
 * `insufficient_quota`, which its clients do not retry.
 */
export class QuotaExceededError extends ModelGateError {
  constructor(message: string, headers: Record<string, string> = {}) {
    // A budget renews next month: OpenAI's clients honour x-should-retry and do not retry in vain.
    super(message, 429, {
      code: 'insufficient_quota',
      type: 'insufficient_quota',
      headers: { ...headers, 'x-should-retry': 'false' },
    });
    this.name = 'QuotaExceededError';
  }
}

/** A key is over a per-minute limit: OpenAI's `rate_limit_exceeded`, with the `x-ratelimit-*` headers. */
export class RateLimitError extends ModelGateError {
  constructor(message: string, kind: 'tokens' | 'requests', headers: Record<string, string>) {
    super(message, 429, { code: 'rate_limit_exceeded', type: kind, headers });
    this.name = 'RateLimitError';
  }
}

/** Unknown model, version or route. */
export class NotFoundError extends ModelGateError {
  constructor(message: string, options: Omit<ErrorOptions, 'headers'> = {}) {
    super(message, 404, options);
    this.name = 'NotFoundError';
  }
}

/** The request conflicts with the current state (e.g. deleting a version an alias routes to). */
export class ConflictError extends ModelGateError {
  constructor(message: string) {
    super(message, 409);
    this.name = 'ConflictError';
  }
}

/** The route exists but not for this method. */
export class MethodNotAllowedError extends ModelGateError {
  constructor(message: string, allow: string[]) {
    super(message, 405, { headers: { Allow: allow.join(', ') } });
    this.name = 'MethodNotAllowedError';
  }
}

/** The request is well formed but too large to serve. */
export class PayloadTooLargeError extends ModelGateError {
  constructor(message: string) {
    super(message, 413);
    this.name = 'PayloadTooLargeError';
  }
}

/** A dependency (S3, an endpoint) is unavailable for now; retry later. */
export class ServiceUnavailableError extends ModelGateError {
  constructor(message: string, options: RetryLater = {}) {
    super(message, 503, retryLater(options));
    this.name = 'ServiceUnavailableError';
  }
}

/** A stored model is broken (bad checksum, unloadable graph): the operator must act. */
export class ModelIntegrityError extends ModelGateError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, 500, options);
    this.name = 'ModelIntegrityError';
  }
}

/** Status, message and headers of any thrown value, hiding server internals. */
export function describeError(error: unknown): {
  statusCode: number;
  message: string;
  headers: Readonly<Record<string, string>>;
  clientError: boolean;
  param: string | undefined;
  code: string | undefined;
  type?: string | undefined;
} {
  if (error instanceof ModelGateError) {
    return {
      statusCode: error.statusCode,
      message: error.message,
      headers: error.headers,
      clientError: error.statusCode < 500,
      param: error.param,
      code: error.code,
      type: error.type,
    };
  }
  return {
    statusCode: 500,
    message: 'internal error',
    headers: {},
    clientError: false,
    param: undefined,
    code: undefined,
  };
}
