/**
 * Publish-time rewrite of classifiers exported with a ZipMap output (skl2onnx's default):
 * the ZipMap becomes an Identity, so probabilities come out as an [N, C] float tensor, and
 * the class labels are read from the ZipMap's attributes.
 */
import {
  rawFields as fields,
  type OnnxNode,
  type RawField,
  readOnnxGraph,
} from '../../functions/core/runners/trees/onnx-graph.ts';

export interface ZipMapRewrite {
  /** The model with each ZipMap replaced. */
  readonly bytes: Uint8Array;
  /** The output that now holds the [N, C] probabilities (same name as before). */
  readonly probabilities: string;
  /** Class labels in column order, as strings. */
  readonly labels: string[];
  /** Whether the classifier's labels are integers (`classlabels_int64s`) or strings. */
  readonly labelKind: 'int' | 'string';
}

const ML = 'ai.onnx.ml';
/** onnx TensorProto.DataType FLOAT. */
const FLOAT = 1;

/** The rewrite of a model with one ZipMap graph output, or undefined when it has none. @throws Error for a layout it cannot rewrite. */
export function rewriteZipMap(bytes: Uint8Array): ZipMapRewrite | undefined {
  let graph: ReturnType<typeof readOnnxGraph>;
  try {
    graph = readOnnxGraph(bytes);
  } catch {
    return undefined; // not for us to judge: onnxruntime's load says what is wrong
  }
  const zipmaps = graph.nodes.filter((n) => n.opType === 'ZipMap' && n.domain === ML);
  if (zipmaps.length === 0) return undefined;
  if (zipmaps.length > 1)
    throw new Error(`the model has ${zipmaps.length} ZipMap nodes; only one can be rewritten`);
  const zipmap = zipmaps[0] as OnnxNode;
  const [input] = zipmap.inputs;
  const [output] = zipmap.outputs;
  if (!input || !output || !graph.outputs.includes(output)) {
    throw new Error('the ZipMap node does not feed a graph output; export the model without ZipMap');
  }
  const ints = zipmap.attributes.get('classlabels_int64s')?.ints ?? [];
  const strings = zipmap.attributes.get('classlabels_strings')?.strings ?? [];
  if (ints.length === 0 && strings.length === 0) throw new Error('the ZipMap node has no class labels');
  const labels = strings.length > 0 ? strings : ints.map(String);

  const model = fields(bytes);
  const graphField = model.find((f) => f.number === 7) as RawField;
  let nodeIndex = -1;
  const kept: Uint8Array[] = [];
  for (const field of fields(graphField.payload)) {
    if (field.number === 1) {
      nodeIndex++;
      if (graph.nodes[nodeIndex] === zipmap) {
        kept.push(message(1, identityNode(input, output)));
        continue;
      }
    }
    if (field.number === 12 && outputName(field.payload) === output) {
      kept.push(message(12, tensorValueInfo(output, labels.length)));
      continue;
    }
    kept.push(field.raw);
  }
  const rewritten = model.map((f) => (f === graphField ? message(7, concat(kept)) : f.raw));
  return {
    bytes: concat(rewritten),
    probabilities: output,
    labels,
    labelKind: strings.length > 0 ? 'string' : 'int',
  };
}

function outputName(valueInfo: Uint8Array): string {
  const name = fields(valueInfo).find((f) => f.number === 1);
  return name ? new TextDecoder().decode(name.payload) : '';
}

function varintBytes(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A length-delimited field: a string or an embedded message. */
function message(number: number, payload: Uint8Array | string): Uint8Array {
  const body = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return concat([Uint8Array.from([...varintBytes(number * 8 + 2), ...varintBytes(body.length)]), body]);
}

function varintField(number: number, value: number): Uint8Array {
  return Uint8Array.from([...varintBytes(number * 8), ...varintBytes(value)]);
}

/** NodeProto Identity(input) -> output. */
function identityNode(input: string, output: string): Uint8Array {
  return concat([
    message(1, input),
    message(2, output),
    message(3, `${output}_from_zipmap`),
    message(4, 'Identity'),
  ]);
}

/** ValueInfoProto of a float tensor [N, classes]. */
function tensorValueInfo(name: string, classes: number): Uint8Array {
  const shape = concat([message(1, message(2, 'N')), message(1, varintField(1, classes))]);
  const tensor = concat([varintField(1, FLOAT), message(2, shape)]);
  return concat([message(1, name), message(2, message(1, tensor))]);
}
