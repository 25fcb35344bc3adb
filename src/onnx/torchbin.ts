/**
 * `pytorch_model.bin` (torch.save's zip format): a zip holding `<name>/data.pkl`, a pickle of the
 * state dict whose tensors point at storages stored as `<name>/data/<key>`. Just enough of zip and of
 * the pickle machine to read a BERT state dict: no code from the file is run.
 */
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { bfloat16ToFloat, halfToFloat } from './floats.js';
import type { NamedTensor } from './safetensors.js';

interface ZipEntry {
  name: string;
  offset: number; // of the local header
  method: number;
  compressed: number;
  uncompressed: number;
}

/** torch.save stores its entries; a deflated one (a hand-made file) is inflated up to this size at most. */
const MAX_INFLATED = 1 << 30;
/** a state dict's pickle is kilobytes (the tensors are entries of their own): more is no checkpoint */
const MAX_PICKLE = 64 << 20;

function zipEntries(buf: Buffer, file: string): Map<string, ZipEntry> {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file}: not a zip file (torch.save's legacy non-zip format is not read)`);
  let count = buf.readUInt16LE(eocd + 10);
  let cd = buf.readUInt32LE(eocd + 16);
  if (cd === 0xffffffff || count === 0xffff) {
    // zip64 end of central directory, through its locator just before the EOCD
    const loc = eocd - 20;
    if (buf.readUInt32LE(loc) !== 0x07064b50) throw new Error(`${file}: zip64 locator missing`);
    const z = Number(buf.readBigUInt64LE(loc + 8));
    count = Number(buf.readBigUInt64LE(z + 32));
    cd = Number(buf.readBigUInt64LE(z + 48));
  }
  const out = new Map<string, ZipEntry>();
  let p = cd;
  for (let k = 0; k < count; k++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: damaged zip central directory`);
    const method = buf.readUInt16LE(p + 10);
    let compressed = buf.readUInt32LE(p + 20);
    let uncompressed = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let offset = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    // zip64 extra field: the 64-bit values of whichever fields were saturated, in this order
    let e = p + 46 + nameLen;
    const end = e + extraLen;
    while (e + 4 <= end) {
      const id = buf.readUInt16LE(e);
      const size = buf.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (uncompressed === 0xffffffff) (uncompressed = Number(buf.readBigUInt64LE(q))), (q += 8);
        if (compressed === 0xffffffff) (compressed = Number(buf.readBigUInt64LE(q))), (q += 8);
        if (offset === 0xffffffff) offset = Number(buf.readBigUInt64LE(q));
      }
      e += 4 + size;
    }
    out.set(name, { name, offset, method, compressed, uncompressed });
    p = end + commentLen;
  }
  return out;
}

/** An entry's bytes; `cap`: the most it may hold (checked before anything is inflated). */
function entryData(buf: Buffer, e: ZipEntry, file: string, cap = MAX_INFLATED): Buffer {
  const h = e.offset;
  if (h + 30 > buf.length || buf.readUInt32LE(h) !== 0x04034b50) throw new Error(`${file}: zip entry ${e.name}: no local header at byte ${h}`);
  const start = h + 30 + buf.readUInt16LE(h + 26) + buf.readUInt16LE(h + 28);
  if (start + e.compressed > buf.length) throw new Error(`${file}: zip entry ${e.name}: ${e.compressed} bytes declared, the file ends before`);
  const raw = buf.subarray(start, start + e.compressed);
  const declared = e.method === 0 ? e.compressed : e.uncompressed;
  if (declared > cap) throw new Error(`${file}: zip entry ${e.name} declares ${declared} bytes, over the ${cap} its contents can need: refused`);
  if (e.method === 0) return raw;
  if (e.method !== 8) throw new Error(`${file}: zip entry ${e.name}: compression method ${e.method} is not supported`);
  // deflate: never more than the entry declares (nor than MAX_INFLATED), so a small file cannot inflate to gigabytes
  if (e.uncompressed > MAX_INFLATED) throw new Error(`${file}: zip entry ${e.name} declares ${e.uncompressed} bytes inflated, over the ${MAX_INFLATED}-byte limit`);
  try {
    const out = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.uncompressed) });
    if (out.length !== e.uncompressed) throw new Error(`inflates to ${out.length} bytes, not the ${e.uncompressed} declared`);
    return out;
  } catch (err) {
    const why = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? `inflates past the ${e.uncompressed} bytes it declares` : (err as Error).message;
    throw new Error(`${file}: zip entry ${e.name} ${why}: refused`);
  }
}

const STORAGE_TYPES: Record<string, { bytes: number; read: (b: Buffer, o: number) => number }> = {
  FloatStorage: { bytes: 4, read: (b, o) => b.readFloatLE(o) },
  DoubleStorage: { bytes: 8, read: (b, o) => b.readDoubleLE(o) },
  HalfStorage: { bytes: 2, read: (b, o) => halfToFloat(b.readUInt16LE(o)) },
  BFloat16Storage: { bytes: 2, read: (b, o) => bfloat16ToFloat(b.readUInt16LE(o)) },
  LongStorage: { bytes: 8, read: (b, o) => Number(b.readBigInt64LE(o)) },
};


class Global {
  constructor(readonly module: string, readonly name: string) {}
}
class Storage {
  constructor(readonly type: string, readonly key: string, readonly numel: number) {}
}
class TensorRef {
  constructor(readonly storage: Storage, readonly offset: number, readonly shape: number[], readonly stride: number[]) {}
}
const MARK = Symbol('mark');

/** Runs the pickle, building dicts, lists, tuples and tensor references; any other global is refused. */
function unpickle(data: Buffer, file: string): unknown {
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let p = 0;
  const popMark = (): unknown[] => {
    const k = stack.lastIndexOf(MARK);
    const items = stack.splice(k);
    items.shift();
    return items;
  };
  const call = (fn: unknown, args: unknown[]): unknown => {
    if (!(fn instanceof Global)) throw new Error(`${file}: pickle calls something that is not a known global`);
    const key = `${fn.module}.${fn.name}`;
    if (key === 'collections.OrderedDict') return new Map();
    if (key === 'torch._utils._rebuild_tensor_v2' || key === 'torch._utils._rebuild_tensor') {
      const [storage, offset, shape, stride] = args as [Storage, number, number[], number[]];
      return new TensorRef(storage, offset, shape, stride);
    }
    if (key === 'torch._utils._rebuild_parameter') return args[0];
    throw new Error(`${file}: the pickle uses ${key}, which a state dict of tensors does not need: not read`);
  };
  for (;;) {
    if (p >= data.length) throw new Error(`${file}: its pickle ends at byte ${p} without a STOP opcode: the file is cut short, or not a torch.save checkpoint`);
    const op = data[p++]!;
    switch (op) {
      case 0x80: p++; break; // PROTO
      case 0x95: p += 8; break; // FRAME
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x28: stack.push(MARK); break; // MARK
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4b: stack.push(data[p++]!); break; // BININT1
      case 0x4d: stack.push(data.readUInt16LE(p)); p += 2; break; // BININT2
      case 0x4a: stack.push(data.readInt32LE(p)); p += 4; break; // BININT
      case 0x8a: { // LONG1
        const n = data[p++]!;
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[p + i]!);
        if (n && data[p + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(Number(v));
        p += n;
        break;
      }
      case 0x47: stack.push(data.readDoubleBE(p)); p += 8; break; // BINFLOAT
      case 0x58: { const n = data.readUInt32LE(p); stack.push(data.subarray(p + 4, p + 4 + n).toString('utf8')); p += 4 + n; break; } // BINUNICODE
      case 0x8c: { const n = data[p]!; stack.push(data.subarray(p + 1, p + 1 + n).toString('utf8')); p += 1 + n; break; } // SHORT_BINUNICODE
      case 0x43: { const n = data[p]!; stack.push(data.subarray(p + 1, p + 1 + n)); p += 1 + n; break; } // SHORT_BINBYTES
      case 0x42: { const n = data.readUInt32LE(p); stack.push(data.subarray(p + 4, p + 4 + n)); p += 4 + n; break; } // BINBYTES
      case 0x63: { // GLOBAL "module\nname\n"
        const a = data.indexOf(0x0a, p);
        const b = data.indexOf(0x0a, a + 1);
        stack.push(new Global(data.subarray(p, a).toString(), data.subarray(a + 1, b).toString()));
        p = b + 1;
        break;
      }
      case 0x93: { const name = stack.pop() as string; const mod = stack.pop() as string; stack.push(new Global(mod, name)); break; } // STACK_GLOBAL
      case 0x71: memo.set(data[p++]!, stack[stack.length - 1]); break; // BINPUT
      case 0x72: memo.set(data.readUInt32LE(p), stack[stack.length - 1]); p += 4; break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, stack[stack.length - 1]); break; // MEMOIZE
      case 0x68: stack.push(memo.get(data[p++]!)); break; // BINGET
      case 0x6a: stack.push(memo.get(data.readUInt32LE(p))); p += 4; break; // LONG_BINGET
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([stack.pop()]); break; // TUPLE1
      case 0x86: { const b = stack.pop(); const a = stack.pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = stack.pop(); const b = stack.pop(); const a = stack.pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x61: { const v = stack.pop(); (stack[stack.length - 1] as unknown[]).push(v); break; } // APPEND
      case 0x65: { const items = popMark(); (stack[stack.length - 1] as unknown[]).push(...items); break; } // APPENDS
      case 0x73: { const v = stack.pop(); const k = stack.pop(); (stack[stack.length - 1] as Map<unknown, unknown>).set(k, v); break; } // SETITEM
      case 0x75: { // SETITEMS
        const items = popMark();
        const d = stack[stack.length - 1] as Map<unknown, unknown>;
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x52: { const args = stack.pop() as unknown[]; const fn = stack.pop(); stack.push(call(fn, args)); break; } // REDUCE
      case 0x62: stack.pop(); break; // BUILD (state of an OrderedDict: metadata, ignored)
      case 0x51: { // BINPERSID: ('storage', StorageType, key, location, numel)
        const [kind, type, key, , numel] = stack.pop() as [string, Global, string, string, number];
        if (kind !== 'storage') throw new Error(`${file}: unknown persistent id ${kind}`);
        stack.push(new Storage(type.name, String(key), numel));
        break;
      }
      case 0x2e: return stack.pop(); // STOP
      default:
        throw new Error(`${file}: pickle opcode 0x${op.toString(16)} at byte ${p - 1} is not supported`);
    }
  }
}

/** The floating-point tensors of a torch.save'd state dict, as float32. */
export function readTorchBin(file: string): Map<string, NamedTensor> {
  const buf = readFileSync(file);
  const entries = zipEntries(buf, file);
  const pkl = [...entries.keys()].find((n) => n.endsWith('/data.pkl') || n === 'data.pkl');
  if (!pkl) throw new Error(`${file}: no data.pkl inside: not a torch.save file`);
  const prefix = pkl.slice(0, -'data.pkl'.length);
  let root: unknown;
  try {
    root = unpickle(entryData(buf, entries.get(pkl)!, file, MAX_PICKLE), file);
  } catch (e) {
    // an opcode's operand past the end of the data
    if (e instanceof RangeError) throw new Error(`${file}: its pickle ends inside an opcode: the file is cut short, or not a torch.save checkpoint`);
    throw e;
  }
  if (!(root instanceof Map)) throw new Error(`${file}: the pickle is not a state dict`);
  const storages = new Map<string, Buffer>();
  const out = new Map<string, NamedTensor>();
  for (const [name, t] of root as Map<string, unknown>) {
    if (!(t instanceof TensorRef)) continue;
    const st = STORAGE_TYPES[t.storage.type];
    if (!st || t.storage.type === 'LongStorage') continue; // integer buffers (position_ids) are not weights
    let raw = storages.get(t.storage.key);
    if (!raw) {
      const e = entries.get(`${prefix}data/${t.storage.key}`);
      if (!e) throw new Error(`${file}: storage ${t.storage.key} of ${name} is missing`);
      // a storage holds numel elements: an entry declaring more is refused before it is inflated
      storages.set(t.storage.key, (raw = entryData(buf, e, file, Math.max(1, t.storage.numel) * st.bytes)));
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    const last = t.offset + t.shape.reduce((a, n, d) => a + Math.max(0, n - 1) * t.stride[d]!, 0);
    if (count > 0 && (t.offset < 0 || (last + 1) * st.bytes > raw.length)) throw new Error(`${file}: tensor ${name} reaches past its storage ${t.storage.key} (${raw.length} bytes)`);
    const data = new Float32Array(count);
    // element i of the row-major result sits at offset + Σ index_d × stride_d in the storage
    const idx = new Array<number>(t.shape.length).fill(0);
    for (let i = 0; i < count; i++) {
      let at = t.offset;
      for (let d = 0; d < idx.length; d++) at += idx[d]! * t.stride[d]!;
      data[i] = st.read(raw, at * st.bytes);
      for (let d = idx.length - 1; d >= 0; d--) {
        if (++idx[d]! < t.shape[d]!) break;
        idx[d] = 0;
      }
    }
    out.set(name, { shape: [...t.shape], data });
  }
  return out;
}
