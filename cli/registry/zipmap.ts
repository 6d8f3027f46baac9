/**
 * Publish-time rewrite of classifiers exported with a ZipMap output (skl2onnx's default):
 * the ZipMap becomes an Identity, so probabilities come out as an [N, C] float tensor, and
 * the class labels are read from the ZipMap's attributes.
 */
import { type OnnxNode, readOnnxGraph } from '../../functions/core/runners/trees/onnx-graph.ts';

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

interface RawField {
  readonly number: number;
  /** Key and value, as in the file. */
  readonly raw: Uint8Array;
  /** The value of a length-delimited field. */
  readonly payload: Uint8Array;
}

/** Top-level fields of a protobuf message, kept as bytes. */
function fields(bytes: Uint8Array): RawField[] {
  const out: RawField[] = [];
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[at++];
      if (b === undefined) throw new Error('truncated varint');
      value += (b & 0x7f) * scale;
      scale *= 128;
      if (!(b & 0x80)) return value;
    }
  };
  while (at < bytes.length) {
    const start = at;
    const key = varint();
    const wire = key % 8;
    let payload: Uint8Array = new Uint8Array(0);
    if (wire === 0) varint();
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const length = varint();
      payload = bytes.subarray(at, at + length);
      at += length;
    } else throw new Error(`unsupported wire type ${wire}`);
    if (at > bytes.length) throw new Error('truncated field');
    out.push({ number: Math.floor(key / 8), raw: bytes.subarray(start, at), payload });
  }
  return out;
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
