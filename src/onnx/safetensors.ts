/**
 * safetensors files: an 8-byte little-endian header length, a JSON header
 * ({name: {dtype, shape, data_offsets: [begin, end]}}), then the raw little-endian data.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { bfloat16ToFloat, halfToFloat } from './floats.js';

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

const DTYPES: Record<string, { bytes: number; read: (b: Buffer, o: number) => number }> = {
  F32: { bytes: 4, read: (b, o) => b.readFloatLE(o) },
  F16: { bytes: 2, read: (b, o) => halfToFloat(b.readUInt16LE(o)) },
  BF16: { bytes: 2, read: (b, o) => bfloat16ToFloat(b.readUInt16LE(o)) },
  F64: { bytes: 8, read: (b, o) => b.readDoubleLE(o) },
};


/** Every floating-point tensor of a safetensors file, as float32. */
export function readSafetensors(file: string): Map<string, NamedTensor> {
  const buf = readFileSync(file);
  if (buf.length < 8) throw new Error(`${file}: not a safetensors file (too short)`);
  const n = Number(buf.readBigUInt64LE(0));
  if (n <= 0 || 8 + n > buf.length) throw new Error(`${file}: not a safetensors file (header length ${n})`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  } catch (e) {
    throw new Error(`${file}: not a safetensors file (its header is not JSON: ${(e as Error).message})`);
  }
  const base = 8 + n;
  const dataBytes = buf.length - base;
  const out = new Map<string, NamedTensor>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    // An untrusted file: every tensor must lie inside the file and hold exactly shape × dtype bytes
    // (else a reader copies whatever memory follows the file into the weights).
    const bad = (why: string) => new Error(`${file}: tensor ${name}: ${why}; the file is damaged or not a safetensors file`);
    if (!t || typeof t !== 'object' || !Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad('no valid shape');
    const [begin, end] = Array.isArray(t.data_offsets) ? t.data_offsets : [NaN, NaN];
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin || end > dataBytes) throw bad(`data_offsets [${t.data_offsets}] are not inside the ${dataBytes} bytes of data`);
    const dt = DTYPES[t.dtype];
    if (!dt) continue; // integer buffers such as position_ids are not weights
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count * dt.bytes !== end - begin) throw bad(`shape [${t.shape}] × ${t.dtype} is ${count * dt.bytes} bytes, data_offsets give ${end - begin}`);
    const data = new Float32Array(count);
    const start = base + t.data_offsets[0];
    if (t.dtype === 'F32' && start % 4 === 0) data.set(new Float32Array(buf.buffer, buf.byteOffset + start, count));
    else for (let i = 0; i < count; i++) data[i] = dt.read(buf, start + i * dt.bytes);
    out.set(name, { shape: t.shape, data });
  }
  return out;
}

export function writeSafetensors(file: string, tensors: Map<string, NamedTensor>, metadata: Record<string, string> = { format: 'pt' }): void {
  writeFileSync(file, safetensorsBytes(tensors, metadata));
}

export function safetensorsBytes(tensors: Map<string, NamedTensor>, metadata: Record<string, string> = { format: 'pt' }): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = [...tensors.keys()].sort();
  for (const name of names) {
    const t = tensors.get(name)!;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // align the data to 8 bytes
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([head, Buffer.from(json), ...names.map((n) => Buffer.from(tensors.get(n)!.data.buffer, tensors.get(n)!.data.byteOffset, tensors.get(n)!.data.byteLength))]);
}
