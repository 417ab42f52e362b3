/**
 * Agent checkpoints as files and as JSON messages, for states of any size.
 *
 * A checkpoint whose state holds only JSON values is written as JSON text (`<name>.json`, as always). A state
 * may also hold typed arrays (SlateQ's replay buffer: with the default 100,000 transitions of 20 candidate
 * rows, about 10^8 numbers). As JSON numbers they would take about 20 bytes each, past the longest string V8
 * can build (about 2^29 characters), and the process dies while writing. Such a checkpoint is written as a
 * binary container (`<name>.ckpt`), 4 bytes a float32:
 *
 *     "EGYMCKPT" | u32 format version (1) | u32 header bytes H | header: H bytes of UTF-8 JSON |
 *     zero padding to a multiple of 8 | data: the typed arrays' bytes, each at a multiple of 8
 *
 * (integers and array bytes little-endian). The header is {"dataBytes": D, "checkpoint": ...} with every typed
 * array of the checkpoint replaced by {"$typed": "<constructor name>", "offset": bytes into the data, "length":
 * elements}; the key "$typed" is reserved for that. Typed arrays keep every value, NaN included. A file of either form is read by
 * `readCheckpointFile`; a truncated, padded or foreign file is a BadCheckpoint error that names it.
 *
 * Through the queue (a JSON message in Redis) a checkpoint with typed arrays travels as {"$ckpt": base64 of
 * the container}, at most `MAX_MESSAGE_BYTES`; a larger one is refused with a typed error that names its size.
 */
import { existsSync, readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { type AgentCheckpoint, BadCheckpoint } from './api.js';

const MAGIC = 'EGYMCKPT';
const VERSION = 1;
const TYPED = { Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Uint8Array, Uint16Array, Uint32Array } as const;
type TypedName = keyof typeof TYPED;
type Typed = InstanceType<(typeof TYPED)[TypedName]>;
/** The largest container sent as a queue message (base64 of it: 4/3 as many characters; Redis holds 512 MB). */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

function typedName(v: unknown): TypedName | null {
  if (!ArrayBuffer.isView(v) || v instanceof DataView) return null;
  const n = (v as { constructor: { name: string } }).constructor.name;
  return n in TYPED ? (n as TypedName) : null;
}

/** Whether a value holds a typed array anywhere (the checkpoint then needs the binary container). */
export function holdsTypedArrays(v: unknown, depth = 0): boolean {
  if (v === null || typeof v !== 'object' || depth > 64) return false;
  if (ArrayBuffer.isView(v)) return true;
  for (const x of Array.isArray(v) ? v : Object.values(v)) if (holdsTypedArrays(x, depth + 1)) return true;
  return false;
}

const align8 = (n: number) => (n + 7) & ~7;

/** The checkpoint as file bytes: JSON text without typed arrays, else the binary container. */
export function encodeCheckpoint(c: AgentCheckpoint): Buffer {
  return encodeAs(c, holdsTypedArrays(c));
}

/** The checkpoint as file bytes, its typed arrays (`typed`) already looked for. */
function encodeAs(c: AgentCheckpoint, typed: boolean): Buffer {
  return typed ? encodeContainer(c) : Buffer.from(JSON.stringify(c), 'utf8');
}

/** The binary container of a checkpoint that holds typed arrays. */
function encodeContainer(c: AgentCheckpoint): Buffer {
  if (endianness() !== 'LE') throw new BadCheckpoint('checkpoint files store typed arrays little-endian; this machine is big-endian');
  const blobs: Typed[] = [];
  let offset = 0;
  const header = JSON.stringify(
    {
      dataBytes: 0,
      checkpoint: c,
    },
    (_k, x: unknown) => {
      const name = typedName(x);
      if (!name) {
        if (ArrayBuffer.isView(x)) throw new BadCheckpoint(`a checkpoint cannot hold a ${(x as object).constructor.name}`);
        if (x !== null && typeof x === 'object' && Object.hasOwn(x, '$typed')) throw new BadCheckpoint('a checkpoint state cannot use the key "$typed" (it marks the typed arrays of a .ckpt file)');
        return x;
      }
      const t = x as Typed;
      const ref = { $typed: name, offset, length: t.length };
      blobs.push(t);
      offset = align8(offset + t.byteLength);
      return ref;
    },
  ).replace('{"dataBytes":0,', `{"dataBytes":${offset},`);
  const head = Buffer.from(header, 'utf8');
  const start = align8(16 + head.length);
  const out = Buffer.alloc(start + offset);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(VERSION, 8);
  out.writeUInt32LE(head.length, 12);
  head.copy(out, 16);
  let at = start;
  for (const t of blobs) {
    out.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), at);
    at = align8(at + t.byteLength);
  }
  return out;
}

/** A checkpoint from file bytes of either form; `what` names the source in errors. */
export function decodeCheckpoint(buf: Buffer, what: string): AgentCheckpoint {
  if (buf.length >= 8 && buf.toString('latin1', 0, 8) === MAGIC) return decodeContainer(buf, what);
  let c: unknown;
  try {
    c = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new BadCheckpoint(`${what}: neither JSON nor an engagement-gym checkpoint container (${(e as Error).message})`);
  }
  return c as AgentCheckpoint;
}

function decodeContainer(buf: Buffer, what: string): AgentCheckpoint {
  if (buf.length < 16) throw new BadCheckpoint(`${what}: truncated checkpoint container (${buf.length} bytes)`);
  const version = buf.readUInt32LE(8);
  if (version !== VERSION) throw new BadCheckpoint(`${what}: checkpoint container version ${version}; this engagement-gym reads version ${VERSION}`);
  if (endianness() !== 'LE') throw new BadCheckpoint(`${what}: checkpoint files store typed arrays little-endian; this machine is big-endian`);
  const H = buf.readUInt32LE(12);
  if (16 + H > buf.length) throw new BadCheckpoint(`${what}: truncated checkpoint container (header of ${H} bytes, file of ${buf.length})`);
  const start = align8(16 + H);
  let header: { dataBytes?: unknown; checkpoint?: unknown };
  const data = () => buf.subarray(start);
  try {
    header = JSON.parse(buf.toString('utf8', 16, 16 + H), (_k, x: unknown) => {
      if (x === null || typeof x !== 'object' || !('$typed' in x)) return x;
      const r = x as { $typed: unknown; offset: unknown; length: unknown };
      const T = typeof r.$typed === 'string' && Object.hasOwn(TYPED, r.$typed) ? TYPED[r.$typed as TypedName] : null;
      if (!T || !Number.isSafeInteger(r.offset) || !Number.isSafeInteger(r.length) || (r.offset as number) < 0 || (r.length as number) < 0) {
        throw new BadCheckpoint(`${what}: malformed typed-array reference ${JSON.stringify(x)}`);
      }
      const bytes = (r.length as number) * T.BYTES_PER_ELEMENT;
      const d = data();
      if ((r.offset as number) + bytes > d.length) throw new BadCheckpoint(`${what}: truncated checkpoint container (an array ends past the data)`);
      const out = new T(r.length as number);
      new Uint8Array(out.buffer).set(d.subarray(r.offset as number, (r.offset as number) + bytes));
      return out;
    });
  } catch (e) {
    if (e instanceof BadCheckpoint) throw e;
    throw new BadCheckpoint(`${what}: the checkpoint container's header is not JSON (${(e as Error).message})`);
  }
  if (!Number.isSafeInteger(header.dataBytes) || start + (header.dataBytes as number) !== buf.length) {
    throw new BadCheckpoint(`${what}: truncated or padded checkpoint container (${buf.length} bytes, the header says ${start} + ${String(header.dataBytes)})`);
  }
  return header.checkpoint as AgentCheckpoint;
}

/** A checkpoint's file: `<base>.ckpt` and the container when it holds typed arrays, else `<base>.json` and JSON text. */
export function checkpointFile(base: string, c: AgentCheckpoint): { name: string; bytes: Buffer } {
  const typed = holdsTypedArrays(c);
  return { name: `${base}${typed ? '.ckpt' : '.json'}`, bytes: encodeAs(c, typed) };
}

/** The checkpoint file `<base>.ckpt` or `<base>.json` in dir, or null when neither exists. */
export function findCheckpointFile(dir: string, base: string): string | null {
  for (const ext of ['.ckpt', '.json']) if (existsSync(join(dir, base + ext))) return join(dir, base + ext);
  return null;
}

/** Read a checkpoint file of either form. */
export function readCheckpointFile(path: string): AgentCheckpoint {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new BadCheckpoint(`${path}: cannot read the checkpoint (${(e as Error).message})`);
  }
  return decodeCheckpoint(buf, path);
}

/** A checkpoint as a JSON-safe message (queue results): as is, or its container as base64. */
export function checkpointToMessage(c: AgentCheckpoint, maxBytes = MAX_MESSAGE_BYTES): AgentCheckpoint | { $ckpt: string } {
  if (!holdsTypedArrays(c)) return c;
  const buf = encodeContainer(c);
  if (buf.length > maxBytes) {
    throw new BadCheckpoint(`${c.agent}: a checkpoint of ${(buf.length / 2 ** 20).toFixed(0)} MB cannot travel through the queue (at most ${(maxBytes / 2 ** 20).toFixed(0)} MB); run without --queue, or lower the agent's replaySize`);
  }
  return { $ckpt: buf.toString('base64') };
}

/** The checkpoint of a queue message written by checkpointToMessage. */
export function checkpointFromMessage(m: unknown, what: string): AgentCheckpoint {
  if (m !== null && typeof m === 'object' && typeof (m as { $ckpt?: unknown }).$ckpt === 'string') return decodeCheckpoint(Buffer.from((m as { $ckpt: string }).$ckpt, 'base64'), what);
  return m as AgentCheckpoint;
}
