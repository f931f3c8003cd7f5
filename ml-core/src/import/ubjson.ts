/**
 * A Universal Binary JSON (ubjson.org, draft 12) decoder for the documents XGBoost writes: its
 * `.ubj` model files and, from XGBoost 2.1 on, any model saved under a name without `.json`.
 * Hand-written: no npm package for UBJSON is kept up, and XGBoost's writer (src/common/json.cc)
 * uses a small subset: big-endian numbers, keys without the `S` marker, and strongly typed arrays
 * (`[$d#L<count>` then raw float32s) for every per-node array of a tree. Typed arrays decode to
 * plain number arrays, float32s exactly (every float32 is a float64).
 */

export class UbjsonError extends Error {
  override readonly name = "UbjsonError";
}

export type UbjsonValue = null | boolean | number | string | UbjsonValue[] | { [key: string]: UbjsonValue };

/** Decodes one UBJSON value that spans the whole buffer. */
export function decodeUbjson(bytes: Uint8Array): UbjsonValue {
  const reader = new Reader(bytes);
  const value = reader.value();
  if (reader.pos !== bytes.length) reader.fail(`${bytes.length - reader.pos} bytes after the end of the document`);
  return value;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

class Reader {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(what: string): never {
    throw new UbjsonError(`UBJSON at byte ${this.pos}: ${what}`);
  }

  private need(n: number): number {
    if (this.pos + n > this.bytes.length) this.fail("unexpected end of data");
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private marker(): string {
    let m: string;
    do m = String.fromCharCode(this.bytes[this.need(1)]!);
    while (m === "N"); // no-op padding
    return m;
  }

  value(): UbjsonValue {
    return this.typed(this.marker());
  }

  private typed(m: string): UbjsonValue {
    switch (m) {
      case "Z":
        return null;
      case "T":
        return true;
      case "F":
        return false;
      case "S":
        return this.string();
      case "C":
        return String.fromCharCode(this.bytes[this.need(1)]!);
      case "[":
        return this.array();
      case "{":
        return this.object();
      default:
        return this.number(m);
    }
  }

  private number(m: string): number {
    switch (m) {
      case "i":
        return this.view.getInt8(this.need(1));
      case "U":
        return this.view.getUint8(this.need(1));
      case "I":
        return this.view.getInt16(this.need(2));
      case "l":
        return this.view.getInt32(this.need(4));
      case "L": {
        const v = this.view.getBigInt64(this.need(8));
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) this.fail(`int64 ${v} is beyond 2^53`);
        return Number(v);
      }
      case "d":
        return this.view.getFloat32(this.need(4));
      case "D":
        return this.view.getFloat64(this.need(8));
      case "H":
        this.fail("high-precision numbers are not supported");
      // falls through (fail never returns)
      default:
        this.fail(`unknown type marker ${JSON.stringify(m)}`);
    }
  }

  private length(): number {
    const n = this.number(this.marker());
    if (!Number.isInteger(n) || n < 0) this.fail(`invalid length ${n}`);
    return n;
  }

  private string(): string {
    const n = this.length();
    const at = this.need(n);
    try {
      return utf8.decode(this.bytes.subarray(at, at + n));
    } catch {
      this.fail("string is not UTF-8");
    }
  }

  /** After `[` or `{`: an optional `$<type>` (needs a count) and `#<count>`. */
  private header(): { type: string | undefined; count: number | undefined } {
    let type: string | undefined;
    let count: number | undefined;
    if (this.bytes[this.pos] === 0x24 /* $ */) {
      this.pos++;
      type = String.fromCharCode(this.bytes[this.need(1)]!);
      if (this.bytes[this.pos] !== 0x23 /* # */) this.fail("a typed container needs a count");
    }
    if (this.bytes[this.pos] === 0x23 /* # */) {
      this.pos++;
      count = this.length();
    }
    return { type, count };
  }

  private array(): UbjsonValue[] {
    const { type, count } = this.header();
    const out: UbjsonValue[] = [];
    if (count === undefined) {
      for (;;) {
        const m = this.marker();
        if (m === "]") return out;
        out.push(this.typed(m));
      }
    }
    // A count larger than the bytes left cannot be honest: refuse before allocating for it.
    if (count > this.bytes.length - this.pos) this.fail(`array count ${count} exceeds the data`);
    for (let i = 0; i < count; i++) out.push(type === undefined ? this.value() : this.typed(type));
    return out;
  }

  private object(): { [key: string]: UbjsonValue } {
    const { type, count } = this.header();
    const out: { [key: string]: UbjsonValue } = {};
    const entry = (): void => {
      const key = this.string();
      const v = type === undefined ? this.value() : this.typed(type);
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    };
    if (count === undefined) {
      for (;;) {
        if (this.bytes[this.pos] === 0x7d /* } */) {
          this.pos++;
          return out;
        }
        entry();
      }
    }
    if (count > this.bytes.length - this.pos) this.fail(`object count ${count} exceeds the data`);
    for (let i = 0; i < count; i++) entry();
    return out;
  }
}
