/**
 * A reader of the parts of an ONNX model file (protobuf `ModelProto`) that the
 * tree compiler needs: the graph's nodes with their attributes, its inputs,
 * outputs and initializers. Fields it does not know are skipped; anything
 * malformed throws, and the caller falls back to onnxruntime.
 *
 * Field numbers from onnx/onnx.proto (proto2: repeated scalars may come
 * packed or not; both are read).
 */

export interface OnnxAttribute {
  readonly name: string;
  readonly f?: number;
  readonly i?: number;
  readonly s?: string;
  readonly floats: number[];
  readonly ints: number[];
  readonly strings: string[];
  /** A tensor, graph or sparse value: present, not decoded. */
  readonly nested: boolean;
}

export interface OnnxNode {
  readonly opType: string;
  readonly domain: string;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly attributes: Map<string, OnnxAttribute>;
}

export interface OnnxGraph {
  readonly nodes: OnnxNode[];
  readonly inputs: string[];
  readonly outputs: string[];
  readonly initializers: number;
}

type Field = { number: number; wire: number; value: number; bytes?: Uint8Array };

const text = new TextDecoder('utf-8', { fatal: true });

class Reader {
  private at = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  get done(): boolean {
    return this.at >= this.bytes.length;
  }

  /** The offset of the next byte to read. */
  get position(): number {
    return this.at;
  }

  /** A varint as a signed 64-bit integer, as a number (exact up to 2^53). */
  varint(): number {
    let low = 0;
    let shift = 0;
    let byte: number;
    // The first 4 bytes fit a 32-bit accumulator; longer varints go through BigInt.
    const start = this.at;
    do {
      byte = this.byte();
      if (shift < 28) low |= (byte & 0x7f) << shift;
      shift += 7;
      if (shift > 70) throw new Error('varint too long');
    } while (byte & 0x80);
    if (shift <= 28) return low >>> 0;
    let value = 0n;
    for (let i = this.at - 1; i >= start; i--) value = (value << 7n) | BigInt((this.bytes[i] ?? 0) & 0x7f);
    return Number(BigInt.asIntN(64, value));
  }

  field(): Field {
    const key = this.varint();
    const wire = key & 7;
    const number = Math.floor(key / 8);
    switch (wire) {
      case 0:
        return { number, wire, value: this.varint() };
      case 1:
        return { number, wire, value: this.fixed64() };
      case 2: {
        const length = this.varint();
        if (length < 0 || this.at + length > this.bytes.length) throw new Error('truncated field');
        const bytes = this.bytes.subarray(this.at, this.at + length);
        this.at += length;
        return { number, wire, value: length, bytes };
      }
      case 5:
        return { number, wire, value: this.float32() };
      default:
        throw new Error(`unsupported wire type ${wire}`);
    }
  }

  private byte(): number {
    const b = this.bytes[this.at++];
    if (b === undefined) throw new Error('truncated varint');
    return b;
  }

  private float32(): number {
    if (this.at + 4 > this.bytes.length) throw new Error('truncated fixed32');
    this.at += 4;
    return this.view.getFloat32(this.at - 4, true);
  }

  private fixed64(): number {
    if (this.at + 8 > this.bytes.length) throw new Error('truncated fixed64');
    this.at += 8;
    return this.view.getFloat64(this.at - 8, true);
  }
}

/** The fields of a message, in order (a plain loop: models have many thousands of them). */
function fields(bytes: Uint8Array): Field[] {
  const reader = new Reader(bytes);
  const out: Field[] = [];
  while (!reader.done) out.push(reader.field());
  return out;
}

/** A top-level field kept as bytes, for rewriting a message without decoding it. */
export interface RawField {
  readonly number: number;
  /** Key and value, as in the file. */
  readonly raw: Uint8Array;
  /** The value of a length-delimited field (empty for the other wire types). */
  readonly payload: Uint8Array;
}

/** The top-level fields of a protobuf message, each with its bytes as in the file. */
export function rawFields(bytes: Uint8Array): RawField[] {
  const reader = new Reader(bytes);
  const out: RawField[] = [];
  while (!reader.done) {
    const start = reader.position;
    const field = reader.field();
    out.push({
      number: field.number,
      raw: bytes.subarray(start, reader.position),
      payload: field.bytes ?? new Uint8Array(0),
    });
  }
  return out;
}

function embedded(field: Field): Uint8Array {
  if (!field.bytes) throw new Error(`field ${field.number} is not a message`);
  return field.bytes;
}

function string(field: Field): string {
  return text.decode(embedded(field));
}

/** Floats of a repeated float field, one (wire 5) or packed (wire 2). */
function pushFloats(field: Field, into: number[]): void {
  if (field.wire === 5) {
    into.push(field.value);
    return;
  }
  const bytes = embedded(field);
  if (bytes.length % 4 !== 0) throw new Error('packed floats of a length not a multiple of 4');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = 0; i < bytes.length; i += 4) into.push(view.getFloat32(i, true));
}

/** Integers of a repeated int64 field, one (wire 0) or packed (wire 2). */
function pushInts(field: Field, into: number[]): void {
  if (field.wire === 0) {
    into.push(field.value);
    return;
  }
  const reader = new Reader(embedded(field));
  while (!reader.done) into.push(reader.varint());
}

function attribute(bytes: Uint8Array): OnnxAttribute {
  let name = '';
  let f: number | undefined;
  let i: number | undefined;
  let s: string | undefined;
  let nested = false;
  const floats: number[] = [];
  const ints: number[] = [];
  const strings: string[] = [];
  for (const field of fields(bytes)) {
    switch (field.number) {
      case 1:
        name = string(field);
        break;
      case 2:
        f = field.value;
        break;
      case 3:
        i = field.value;
        break;
      case 4:
        s = string(field);
        break;
      case 7:
        pushFloats(field, floats);
        break;
      case 8:
        pushInts(field, ints);
        break;
      case 9:
        strings.push(string(field));
        break;
      case 5:
      case 6:
      case 10:
      case 11:
      case 14:
      case 15:
      case 22:
      case 23:
        nested = true;
        break;
    }
  }
  return { name, f, i, s, floats, ints, strings, nested };
}

function node(bytes: Uint8Array): OnnxNode {
  const inputs: string[] = [];
  const outputs: string[] = [];
  const attributes = new Map<string, OnnxAttribute>();
  let opType = '';
  let domain = '';
  for (const field of fields(bytes)) {
    if (field.number === 1) inputs.push(string(field));
    else if (field.number === 2) outputs.push(string(field));
    else if (field.number === 4) opType = string(field);
    else if (field.number === 7) domain = string(field);
    else if (field.number === 5) {
      const a = attribute(embedded(field));
      attributes.set(a.name, a);
    }
  }
  return { opType, domain, inputs, outputs, attributes };
}

/** The name of a ValueInfoProto. */
function valueName(bytes: Uint8Array): string {
  for (const field of fields(bytes)) if (field.number === 1) return string(field);
  return '';
}

/** The main graph of an ONNX model file. @throws Error when the bytes are not one. */
export function readOnnxGraph(bytes: Uint8Array): OnnxGraph {
  let graph: Uint8Array | undefined;
  for (const field of fields(bytes)) if (field.number === 7) graph = embedded(field);
  if (!graph) throw new Error('no graph in the model');
  const nodes: OnnxNode[] = [];
  const inputs: string[] = [];
  const outputs: string[] = [];
  let initializers = 0;
  for (const field of fields(graph)) {
    if (field.number === 1) nodes.push(node(embedded(field)));
    else if (field.number === 5 || field.number === 15) initializers++;
    else if (field.number === 11) inputs.push(valueName(embedded(field)));
    else if (field.number === 12) outputs.push(valueName(embedded(field)));
  }
  return { nodes, inputs, outputs, initializers };
}
