/**
 * Just enough protobuf to write an ONNX model (onnx.proto: ModelProto, GraphProto, NodeProto,
 * TensorProto, ValueInfoProto, AttributeProto, with graph attributes for If). Field numbers are ONNX's; tensors go in raw_data.
 */

class Writer {
  private parts: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.size += b.length;
  }

  varint(v: number | bigint): void {
    // int64 semantics: negatives as 10-byte two's complement
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.push(Uint8Array.from(out));
  }

  key(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): void {
    this.key(field, 0);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
  }

  bytes(field: number, b: Uint8Array): void {
    this.key(field, 2);
    this.varint(b.length);
    this.push(b);
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, build: (w: Writer) => void): void {
    const w = new Writer();
    build(w);
    this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

export const DataType = { FLOAT: 1, INT64: 7 } as const;

export interface Tensor {
  name: string;
  dims: number[];
  type: (typeof DataType)[keyof typeof DataType];
  data: Float32Array | BigInt64Array;
}

export type Attribute = { name: string } & ({ i: number } | { f: number } | { ints: number[] } | { t: Tensor } | { g: Graph });

export interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes?: Attribute[];
}

export interface ValueInfo {
  name: string;
  type: (typeof DataType)[keyof typeof DataType];
  shape: (number | string)[];
}

export interface Graph {
  name: string;
  nodes: Node[];
  initializers: Tensor[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

function tensor(w: Writer, t: Tensor): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.type);
  w.string(8, t.name);
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function valueInfo(w: Writer, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tt) => {
      tt.int(1, v.type);
      tt.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

function attribute(w: Writer, a: Attribute): void {
  w.string(1, a.name);
  if ('i' in a) {
    w.int(3, a.i);
    w.int(20, 2);
  } else if ('f' in a) {
    w.float(2, a.f);
    w.int(20, 1);
  } else if ('ints' in a) {
    for (const i of a.ints) w.int(8, i);
    w.int(20, 7);
  } else if ('t' in a) {
    w.message(5, (t) => tensor(t, a.t));
    w.int(20, 4);
  } else {
    w.message(6, (g) => graphProto(g, a.g));
    w.int(20, 5);
  }
}

function graphProto(g: Writer, graph: Graph): void {
  for (const n of graph.nodes) {
    g.message(1, (nw) => {
      for (const i of n.inputs) nw.string(1, i);
      for (const o of n.outputs) nw.string(2, o);
      nw.string(3, n.name);
      nw.string(4, n.op);
      for (const a of n.attributes ?? []) nw.message(5, (aw) => attribute(aw, a));
    });
  }
  g.string(2, graph.name);
  for (const t of graph.initializers) g.message(5, (tw) => tensor(tw, t));
  for (const v of graph.inputs) g.message(11, (vw) => valueInfo(vw, v));
  for (const v of graph.outputs) g.message(12, (vw) => valueInfo(vw, v));
}

/** A serialized ONNX ModelProto. */
export function encodeModel(graph: Graph, opts: { opset: number; producer: string; metadata?: Record<string, string> }): Uint8Array {
  const w = new Writer();
  w.int(1, 8); // ir_version 8
  w.string(2, opts.producer);
  w.message(7, (g) => graphProto(g, graph));
  w.message(8, (o) => {
    o.string(1, '');
    o.int(2, opts.opset);
  });
  for (const [k, v] of Object.entries(opts.metadata ?? {})) {
    w.message(14, (m) => {
      m.string(1, k);
      m.string(2, v);
    });
  }
  return w.finish();
}
