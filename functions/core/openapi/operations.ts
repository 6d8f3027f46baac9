/**
 * What the OpenAPI document says of each route: summary, tag, request and
 * answer schemas, examples. Keyed by the route tables' keys, so a route
 * added there without an entry here fails the type check.
 */
import type { RouteKey } from '../../api/routes.ts';
import type { ChatRouteKey } from '../../chat/routes.ts';
import { JOB_OPERATIONS } from './operations-jobs.ts';
import { MODEL_OPERATIONS } from './operations-models.ts';

export interface Operation {
  readonly summary: string;
  readonly tag: 'Health' | 'Models' | 'Inference' | 'Batches' | 'Chat' | 'Reference';
  /** Component schema of the request body, and an example. */
  readonly request?: { readonly schema: string; readonly example: unknown };
  /** The success answer: status, media type, component schema (absent for pages), example. */
  readonly answer: {
    readonly status: 200 | 202;
    readonly type: 'application/json' | 'text/html' | 'application/octet-stream';
    readonly schema?: string;
    readonly example?: unknown;
    /** Chat routes also stream server-sent events. */
    readonly stream?: boolean;
  };
  /** Route-specific error statuses beyond those every route may answer. */
  readonly errors?: readonly number[];
}

/** Every route's entry: a route missing from both groups fails the type check here. */
export const OPERATIONS: Record<RouteKey | ChatRouteKey, Operation> = {
  ...MODEL_OPERATIONS,
  ...JOB_OPERATIONS,
};
