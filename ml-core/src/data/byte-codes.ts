/**
 * A memo from a field's raw bytes to what its text decoded to (a category's code, or NaN), so
 * that a categorical column's repeated values skip making a string for a Map lookup: decoding the
 * text (`Buffer.toString`) was a fifth of reading the flights CSV's 500,000 rows. Open addressing
 * over FNV-1a hashes of the bytes; keys are kept in one growing byte arena and compared byte by
 * byte, so a hash collision never mixes two values up.
 */

// Indexed reads carry `!` (noUncheckedIndexedAccess): slots and arena offsets are this class's own.

/** Fields longer than this are not memoised (the string path is as cheap for them). */
const MAX_KEY_BYTES = 64;

/**
 * FNV-1a, the hash of a key: `h = FNV_OFFSET`, then `h = Math.imul(h ^ byte, FNV_PRIME)` per
 * byte. A parser that scans a field anyway may hash it on the way and call `find`.
 */
export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

export class ByteCodes {
  private slots = new Int32Array(64).fill(-1);
  /** Per entry: key offset, key length, value index. */
  private offsets = new Int32Array(32);
  private lengths = new Int32Array(32);
  private values = new Float64Array(32);
  private arena = new Uint8Array(1024);
  private arenaUsed = 0;
  /** Entries memoised. */
  size = 0;

  /** The value memoised for `buf[start .. end)`, or undefined. */
  get(buf: Uint8Array, start: number, end: number): number | undefined {
    const e = this.find(buf, start, end, hashBytes(buf, start, end));
    return e < 0 ? undefined : this.values[e]!;
  }

  /**
   * The entry of `buf[start .. end)`, whose hash is `hash` (FNV-1a, the 32 bits as a signed or
   * unsigned integer), or -1: for `value`. An integer either way, so a caller's hot loop sees one type.
   */
  find(buf: Uint8Array, start: number, end: number, hash: number): number {
    const len = end - start;
    if (len > MAX_KEY_BYTES) return -1;
    const mask = this.slots.length - 1;
    for (let s = hash & mask; ; s = (s + 1) & mask) {
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
      this.values = grown(this.values, Float64Array);
    }
    while (this.arenaUsed + len > this.arena.length) this.arena = grown(this.arena, Uint8Array);
    const e = this.size++;
    this.arena.set(buf.subarray(start, end), this.arenaUsed);
    this.offsets[e] = this.arenaUsed;
    this.lengths[e] = len;
    this.values[e] = value;
    this.arenaUsed += len;
    this.insert(e);
  }

  private insert(e: number): void {
    const mask = this.slots.length - 1;
    const o = this.offsets[e]!;
    let s = hashBytes(this.arena, o, o + this.lengths[e]!) & mask;
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

function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, FNV_PRIME);
  return h >>> 0;
}

function equalBytes(a: Uint8Array, ao: number, b: Uint8Array, bo: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
