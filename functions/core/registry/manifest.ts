/**
 * The model registry's records: valid model names and versions, the schemas of a version's manifest and of
 * a model's aliases, and the S3 keys of the registry's layout.
 */
import * as z from 'zod/mini';
import { BadRequestError } from '../errors.ts';
import { V2_DATATYPES } from '../protocols/datatypes.ts';

/** Model names: lowercase, digits and `._-`, up to 63 characters. */
export const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** Versions: positive integers without leading zeros. */
export const MODEL_VERSION = /^[1-9][0-9]{0,8}$/;

export function checkModelName(name: string): string {
  if (!MODEL_NAME.test(name)) {
    throw new BadRequestError(
      `model name ${JSON.stringify(name)} is invalid: expected 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return name;
}

export function checkModelVersion(version: string): string {
  if (!MODEL_VERSION.test(version)) {
    throw new BadRequestError(
      `model version ${JSON.stringify(version)} is invalid: expected a positive integer`,
    );
  }
  return version;
}

export const TensorSpecSchema = z.object({
  name: z.string().check(z.minLength(1)),
  datatype: z.enum(V2_DATATYPES),
  /** -1 marks a variable dimension. */
  shape: z.array(z.int().check(z.gte(-1))),
});
export type TensorSpec = z.infer<typeof TensorSpecSchema>;

export const ManifestSchema = z.object({
  name: z.string().check(z.regex(MODEL_NAME)),
  version: z.string().check(z.regex(MODEL_VERSION)),
  format: z.literal('onnx'),
  inputs: z.array(TensorSpecSchema).check(z.minLength(1)),
  outputs: z.array(TensorSpecSchema).check(z.minLength(1)),
  /** Class names, indexed by the class ids a classifier's `label` output holds. */
  labels: z.optional(z.array(z.string())),
  /** Feature names of a single `[N, F]` input, in column order. */
  features: z.optional(z.array(z.string())),
  /**
   * The outputs of a classifier whose names are not `label` and `probabilities`:
   * set at publish when a ZipMap output was rewritten to an [N, C] tensor.
   * `labelKind` says whether the label output holds the class values themselves
   * (`int`: 0, 1, 2; `string`: BYTES) rather than ids into `labels`.
   */
  classifier: z.optional(
    z.object({
      label: z.string(),
      probabilities: z.string(),
      labelKind: z.enum(['int', 'string']),
      rewritten: z.optional(z.literal('ZipMap')),
    }),
  ),
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  sizeBytes: z.int().check(z.positive()),
  createdAt: z.string(),
  description: z.optional(z.string()),
  metrics: z.optional(z.record(z.string(), z.number())),
  source: z.optional(z.string()),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export const RouteSchema = z.object({
  version: z.string().check(z.regex(MODEL_VERSION)),
  weight: z.number().check(z.gte(0)),
});
export const AliasSchema = z.object({
  routes: z.array(RouteSchema).check(z.minLength(1)),
  shadow: z.optional(z.string().check(z.regex(MODEL_VERSION))),
});
/** Alias names: like model names. */
export const ALIAS_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** The alias a request without a version is routed by. */
export const PRODUCTION = 'production';

export const AliasesSchema = z.record(z.string().check(z.regex(ALIAS_NAME)), AliasSchema);
export type Alias = z.infer<typeof AliasSchema>;
export type Aliases = z.infer<typeof AliasesSchema>;

/** S3 keys of the registry layout. */
export const keys = {
  root: 'models/',
  model: (name: string) => `models/${name}/`,
  manifest: (name: string, version: string) => `models/${name}/${version}/manifest.json`,
  modelFile: (name: string, version: string) => `models/${name}/${version}/model.onnx`,
  aliases: (name: string) => `models/${name}/aliases.json`,
  /** The last states of `aliases.json`, newest last, for rollback. */
  aliasHistory: (name: string) => `models/${name}/aliases.history.json`,
};
