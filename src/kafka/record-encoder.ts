/**
 * One Kafka record (message format v2, the `Record` of a RecordBatch, as Kafka's protocol
 * guide defines it) encoded straight into one buffer:
 *
 *   length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
 *   key varint-length bytes | value varint-length bytes | header count varint |
 *   per header: key varint-length string, value varint-length bytes
 *
 * Varints are zig-zag LEB128; a null key, value or header value has length -1. kafkajs 2.2.4
 * builds the same bytes out of one growing buffer per record and per header, and a
 * throw-away buffer per varint; at full-market rates those allocations were the largest cost
 * of the gateway, in CPU and in memory. `kafkajs-fixes.ts` puts this encoder in its place, and
 * a unit test checks the two agree byte for byte.
 */

export type RecordBytes = Buffer | string | null | undefined;

export interface RecordInput {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: RecordBytes;
  value?: RecordBytes;
  headers?: Record<string, RecordBytes | RecordBytes[]>;
}

/** What kafkajs's record batch reads from an encoded record (the shape of its Encoder). */
export interface EncodedRecord {
  buf: Buffer;
  readonly buffer: Buffer;
}

function zigZag32(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

function sizeOfUVarInt(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value >>>= 7;
    size += 1;
  }
  return size;
}

function zigZag64(value: number): bigint {
  const v = BigInt.asIntN(64, BigInt(Math.trunc(value)));
  return BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
}

function sizeOfVarLong(value: number): number {
  if (value >= -0x40000000 && value < 0x40000000 && Number.isInteger(value)) return sizeOfUVarInt(zigZag32(value));
  let v = zigZag64(value);
  let size = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    size += 1;
  }
  return size;
}

function byteLengthOf(bytes: RecordBytes): number {
  if (bytes === null || bytes === undefined) return -1;
  if (Buffer.isBuffer(bytes)) return bytes.length;
  const text = String(bytes);
  return isShortAscii(text) ? text.length : Buffer.byteLength(text, 'utf8');
}

/**
 * Keys and most header values are a few ASCII characters. Writing those with a loop here is
 * several times cheaper than a call into Buffer's native write, which a record made 14 of.
 */
const SHORT_TEXT = 48;

function isShortAscii(text: string): boolean {
  if (text.length > SHORT_TEXT) return false;
  for (let i = 0; i < text.length; i += 1) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

class Writer {
  offset = 0;
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }

  uvarint(value: number): void {
    while (value >= 0x80) {
      this.buf[this.offset++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buf[this.offset++] = value;
  }

  varint(value: number): void {
    this.uvarint(zigZag32(value));
  }

  varlong(value: number): void {
    if (value >= -0x40000000 && value < 0x40000000 && Number.isInteger(value)) {
      this.uvarint(zigZag32(value));
      return;
    }
    let v = zigZag64(value);
    while (v >= 0x80n) {
      this.buf[this.offset++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.offset++] = Number(v);
  }

  /** Length-prefixed bytes; `length` is byteLengthOf(bytes), computed once by the caller. */
  bytes(bytes: RecordBytes, length: number): void {
    this.varint(length);
    if (length <= 0) return;
    if (Buffer.isBuffer(bytes)) {
      this.buf.set(bytes, this.offset);
      this.offset += length;
      return;
    }
    const text = String(bytes);
    if (text.length === length && length <= SHORT_TEXT) {
      // byteLengthOf found it ASCII: one byte per character.
      for (let i = 0; i < length; i += 1) this.buf[this.offset + i] = text.charCodeAt(i);
      this.offset += length;
    } else {
      this.offset += this.buf.write(text, this.offset, length, 'utf8');
    }
  }
}

/**
 * The header section (count, then each key and value) of a frozen headers object, encoded
 * once. The gateway hands the producer a few shared, frozen header objects per minute
 * (see price-record.ts), so most records copy their headers instead of encoding them. An
 * object that could change between records is encoded every time: one not frozen, or one
 * holding arrays or Buffers (freezing is shallow).
 */
const encodedHeaderSections = new WeakMap<object, Buffer>();

function headerSection(headers: NonNullable<RecordInput['headers']>): Buffer {
  const known = encodedHeaderSections.get(headers);
  if (known !== undefined) return known;
  const headerKeys: string[] = [];
  const headerValues: RecordBytes[] = [];
  for (const name of Object.keys(headers)) {
    const entry = headers[name];
    if (Array.isArray(entry)) {
      for (const one of entry) {
        headerKeys.push(name);
        headerValues.push(one);
      }
    } else {
      headerKeys.push(name);
      headerValues.push(entry);
    }
  }
  const kept = Object.isFrozen(headers) && Object.values(headers).every((v) => typeof v === 'string' || v === null || v === undefined);
  const keyLengths = headerKeys.map(byteLengthOf);
  const valueLengths = headerValues.map(byteLengthOf);
  let size = sizeOfUVarInt(zigZag32(headerKeys.length));
  for (let i = 0; i < headerKeys.length; i += 1) {
    size += sizeOfUVarInt(zigZag32(keyLengths[i]!)) + keyLengths[i]!;
    size += sizeOfUVarInt(zigZag32(valueLengths[i]!)) + Math.max(valueLengths[i]!, 0);
  }
  // A kept section gets a buffer of its own, so it does not pin a slab of Node's shared pool.
  const out = new Writer(kept ? Buffer.allocUnsafeSlow(size) : Buffer.allocUnsafe(size));
  out.varint(headerKeys.length);
  for (let i = 0; i < headerKeys.length; i += 1) {
    out.bytes(headerKeys[i], keyLengths[i]!);
    out.bytes(headerValues[i], valueLengths[i]!);
  }
  if (kept) encodedHeaderSections.set(headers, out.buf);
  return out.buf;
}

export function encodeRecord({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }: RecordInput): EncodedRecord {
  const keyLength = byteLengthOf(key);
  const valueLength = byteLengthOf(value);
  const section = headerSection(headers);

  let body = 1 + sizeOfVarLong(timestampDelta) + sizeOfUVarInt(zigZag32(offsetDelta));
  body += sizeOfUVarInt(zigZag32(keyLength)) + Math.max(keyLength, 0);
  body += sizeOfUVarInt(zigZag32(valueLength)) + Math.max(valueLength, 0);
  body += section.length;

  // allocUnsafe: small records come from Node's shared pool; every byte is written below.
  const buf = Buffer.allocUnsafe(sizeOfUVarInt(zigZag32(body)) + body);
  const out = new Writer(buf);
  out.varint(body);
  out.buf[out.offset++] = 0; // attributes: none are defined for records
  out.varlong(timestampDelta);
  out.varint(offsetDelta);
  out.bytes(key, keyLength);
  out.bytes(value, valueLength);
  buf.set(section, out.offset);
  out.offset += section.length;
  if (out.offset !== buf.length) throw new Error(`record encoding wrote ${out.offset} of ${buf.length} bytes`);
  return { buf, buffer: buf };
}
