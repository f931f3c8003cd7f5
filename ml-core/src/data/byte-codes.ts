/**
 * A memo from a field's raw bytes to what its text decoded to (a category's code, or NaN), so
 * that a categorical column's repeated values skip making a string for a Map lookup: decoding the
 * text (`Buffer.toString`) was a fifth of reading the flights CSV's 500,000 rows. Open addressing;
 * keys are kept in one growing byte arena and compared byte by byte, so a hash collision never
 * mixes two values up.
 *
 * Keys of up to four bytes (codes of airports, states, countries, currencies) are also kept packed
 * in an integer, hashed and compared as one: a parser packs a field's bytes as it scans it and
 * calls `findPacked`. Hashed byte by byte (FNV-1a, a multiplication a byte) and compared in a
 * loop, parsing a 100-row request of the flights model (two airport columns) took 12.4 µs, 6.1
 * without the airports; packed, 9.9 µs.
 */

// Indexed reads carry `!` (noUncheckedIndexedAccess): slots and arena offsets are this class's own.

/** Fields longer than this are not memoised (the string path is as cheap for them). */
const MAX_KEY_BYTES = 64;

/** Keys of up to this many bytes are hashed and compared packed in an integer (`packBytes`). */
export const PACKED_KEY_BYTES = 4;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export class ByteCodes {
  private slots = new Int32Array(64).fill(-1);
  /** Per entry: key offset, key length, the key packed (up to PACKED_KEY_BYTES bytes), value. */
  private offsets = new Int32Array(32);
  private lengths = new Int32Array(32);
  private packed = new Int32Array(32);
  private values = new Float64Array(32);
  private arena = new Uint8Array(1024);
  private arenaUsed = 0;
  /** Entries memoised. */
  size = 0;

  /** The value memoised for `buf[start .. end)`, or undefined. */
  get(buf: Uint8Array, start: number, end: number): number | undefined {
    const e = this.findPacked(buf, start, end, packBytes(buf, start, end));
    return e < 0 ? undefined : this.values[e]!;
  }

  /**
   * The entry of `buf[start .. end)`, or -1: for `value`. `packed` is `packBytes` of the same
   * bytes (only its last PACKED_KEY_BYTES matter), which a parser gets as it scans the field. An
   * integer either way, so a caller's hot loop sees one type.
   */
  findPacked(buf: Uint8Array, start: number, end: number, packed: number): number {
    const len = end - start;
    if (len > MAX_KEY_BYTES) return -1;
    const mask = this.slots.length - 1;
    if (len <= PACKED_KEY_BYTES) {
      for (let s = packedHash(packed) & mask; ; s = (s + 1) & mask) {
        const e = this.slots[s]!;
        if (e < 0) return -1;
        if (this.packed[e] === packed && this.lengths[e] === len) return e;
      }
    }
    for (let s = fnvHash(buf, start, end) & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s]!;
      if (e < 0) return -1;
      if (this.lengths[e] === len && equalBytes(this.arena, this.offsets[e]!, buf, start, len)) return e;
    }
  }

  /** The value of entry `e` (from `find`). */
  value(e: number): number {
    return this.values[e]!;
  }

  /** Memoises `value` for `buf[start .. end)` (not already present). */
  set(buf: Uint8Array, start: number, end: number, value: number): void {
    const len = end - start;
    if (len > MAX_KEY_BYTES) return;
    if (2 * (this.size + 1) > this.slots.length) this.grow();
    if (this.size === this.offsets.length) {
      this.offsets = grown(this.offsets, Int32Array);
      this.lengths = grown(this.lengths, Int32Array);
      this.packed = grown(this.packed, Int32Array);
      this.values = grown(this.values, Float64Array);
    }
    while (this.arenaUsed + len > this.arena.length) this.arena = grown(this.arena, Uint8Array);
    const e = this.size++;
    this.arena.set(buf.subarray(start, end), this.arenaUsed);
    this.offsets[e] = this.arenaUsed;
    this.lengths[e] = len;
    this.packed[e] = len <= PACKED_KEY_BYTES ? packBytes(buf, start, end) : 0;
    this.values[e] = value;
    this.arenaUsed += len;
    this.insert(e);
  }

  private insert(e: number): void {
    const mask = this.slots.length - 1;
    const o = this.offsets[e]!;
    const len = this.lengths[e]!;
    let s = (len <= PACKED_KEY_BYTES ? packedHash(this.packed[e]!) : fnvHash(this.arena, o, o + len)) & mask;
    while (this.slots[s]! >= 0) s = (s + 1) & mask;
    this.slots[s] = e;
  }

  private grow(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    for (let e = 0; e < this.size; e++) this.insert(e);
  }
}

function grown<T extends Int32Array | Float64Array | Uint8Array>(a: T, Ctor: { new (n: number): T }): T {
  const b = new Ctor(a.length * 2);
  b.set(a);
  return b;
}

/**
 * The last PACKED_KEY_BYTES bytes of `buf[start .. end)` in one integer, the last byte lowest:
 * what `packed = (packed << 8) | byte` over the bytes gives. Keys of different lengths may pack
 * alike (a leading NUL byte); entries compare lengths too.
 */
export function packBytes(buf: Uint8Array, start: number, end: number): number {
  let packed = 0;
  for (let i = Math.max(start, end - PACKED_KEY_BYTES); i < end; i++) packed = (packed << 8) | buf[i]!;
  return packed;
}

/** A packed key's hash: a multiplication by the golden ratio, its high bits folded into the low (the slot). */
function packedHash(packed: number): number {
  const h = Math.imul(packed, 0x9e3779b1);
  return (h ^ (h >>> 16)) >>> 0;
}

/** FNV-1a of the bytes, for longer keys. */
function fnvHash(buf: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, FNV_PRIME);
  return h >>> 0;
}

function equalBytes(a: Uint8Array, ao: number, b: Uint8Array, bo: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
