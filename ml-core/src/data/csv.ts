/**
 * A streaming CSV reader (RFC 4180: comma separated, optional double quotes, "" escapes a quote,
 * LF or CRLF line ends). It works on bytes and hands each record to the caller as field offsets
 * into a buffer, so numeric fields are parsed without creating a string per value; a file is read
 * in chunks, so memory does not grow with its size. `.gz` files are decompressed first.
 */
import * as fs from "node:fs";
import * as zlib from "node:zlib";

const CHUNK_BYTES = 1 << 20;
const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;

/** One parsed record; valid only during the callback. */
export interface CsvRecord {
  /** The file being read and the (1-based) line where this record starts. */
  readonly file: string;
  readonly line: number;
  /** Byte offset in the file where the record starts. */
  readonly offset: number;
  readonly nFields: number;
  readonly buf: Buffer;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** 1 when the field was quoted and contains an escaped quote (`text` unescapes it). */
  readonly escaped: Uint8Array;
}

export class CsvError extends Error {
  override readonly name = "CsvError";
}

export function fieldText(r: CsvRecord, i: number): string {
  const s = r.buf.toString("utf8", r.starts[i], r.ends[i]);
  return r.escaped[i] === 1 ? s.replace(/""/g, '"') : s;
}

/**
 * Calls `onRecord` for every non-blank record of `file`, in order; return false from it to stop.
 * `onBytes` sees the file's raw bytes as read (for hashing).
 */
export function readCsv(file: string, onRecord: (r: CsvRecord) => boolean | void, onBytes?: (chunk: Buffer) => void): void {
  if (file.endsWith(".gz")) {
    const parser = new Parser(file, onRecord, 0);
    const raw = fs.readFileSync(file);
    onBytes?.(raw);
    let data: Buffer;
    try {
      data = zlib.gunzipSync(raw);
    } catch (e) {
      throw new CsvError(`${file}: not a valid gzip file (${(e as Error).message})`);
    }
    parser.parse(data, true);
    return;
  }
  readCsvRange(file, 0, Infinity, onRecord, onBytes);
}

/**
 * Calls `onRecord` for the records of a plain (not gzipped) `file` that start in `[start, stop)`;
 * `start` must be where a record starts (0, or just after a line end outside quotes). Line numbers
 * count from `start` as line 1. Returns where the first record at or after `stop` starts (the file's
 * size when none does): a range ending there joins up with the next one, which is how a reader that
 * splits a file at line ends checks that no quoted field spanned the cut.
 */
export function readCsvRange(file: string, start: number, stop: number, onRecord: (r: CsvRecord) => boolean | void, onBytes?: (chunk: Buffer) => void): number {
  const parser = new Parser(file, onRecord, start, stop);
  const fd = fs.openSync(file, "r");
  try {
    // One buffer for the whole file: the unparsed tail of a chunk moves to its front and the next
    // chunk is read after it, so reading allocates nothing per chunk.
    let buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let filled = 0;
    let position = start;
    for (;;) {
      if (filled === buf.length) {
        // A record longer than the buffer: grow it.
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const n = fs.readSync(fd, buf, filled, buf.length - filled, position);
      position += n;
      if (n > 0) onBytes?.(buf.subarray(filled, filled + n));
      filled += n;
      const consumed = parser.parse(buf.subarray(0, filled), n === 0);
      if (consumed < 0 || n === 0) break;
      buf.copyWithin(0, consumed, filled);
      filled -= consumed;
    }
    return parser.next < 0 ? position : parser.next;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Calls `onRecord(r, k)` for the record starting at each of `offsets` (ascending byte offsets where
 * records of a plain `file` start, as `CsvRecord.offset` reported them), reading only the parts of
 * the file that hold them. Line numbers are not meaningful here.
 */
export function readCsvRecordsAt(file: string, offsets: ArrayLike<number>, onRecord: (r: CsvRecord, k: number) => void): void {
  let k = 0;
  const parser = new Parser(file, (r) => onRecord(r, k), 1);
  const fd = fs.openSync(file, "r");
  try {
    let buf = Buffer.allocUnsafe(CHUNK_BYTES);
    // The bytes read, from file offset `base`.
    let view = buf.subarray(0, 0);
    let base = 0;
    let eof = false;
    for (; k < offsets.length; k++) {
      const at = offsets[k]!;
      for (;;) {
        const rel = at - base;
        if (rel >= 0 && rel < view.length && parser.recordAt(view, base, rel, eof) >= 0) break;
        // Not (wholly) read: read from the record's start, in a bigger buffer if it did not fit.
        if (rel === 0 && view.length === buf.length) buf = Buffer.allocUnsafe(buf.length * 2);
        else if (rel === 0 && eof) throw new CsvError(`${file}: no record at byte ${at}`);
        const n = fs.readSync(fd, buf, 0, buf.length, at);
        if (n === 0) throw new CsvError(`${file}: no record at byte ${at}`);
        base = at;
        view = buf.subarray(0, n);
        eof = n < buf.length;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

class Parser {
  private line = 1;
  private first: boolean;
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  private escaped = new Uint8Array(64);
  private stopped = false;
  /** Where the first record at or after `stop` starts; -1 until one is seen. */
  next = -1;
  /** File offset of the buffer's first byte. */
  private base: number;

  constructor(
    private readonly file: string,
    private readonly onRecord: (r: CsvRecord) => boolean | void,
    start: number,
    private readonly stop = Infinity,
  ) {
    this.base = start;
    // A byte order mark can only be at the file's start.
    this.first = start === 0;
  }

  /**
   * Parses the complete records at the start of `buf` (at EOF, all of them). Returns how many bytes
   * were consumed, or -1 once the caller's callback asked to stop.
   */
  parse(buf: Buffer, eof: boolean): number {
    if (this.stopped) return -1;
    let pos = 0;
    if (this.first && buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3; // UTF-8 BOM
    if (this.first && (buf.length >= 3 || eof)) this.first = false;
    const n = buf.length;
    const stopAt = this.stop - this.base;
    while (pos < n) {
      if (pos >= stopAt) {
        this.next = this.base + pos;
        this.stopped = true;
        return -1;
      }
      const end = this.parseRecord(buf, pos, eof);
      if (end < 0) break; // incomplete record: wait for more data
      pos = end;
      if (this.stopped) return -1;
    }
    this.base += pos;
    return pos;
  }

  /** Parses the one record at `buf[pos]`; `buf[0]` is at file offset `base`. */
  recordAt(buf: Buffer, base: number, pos: number, eof: boolean): number {
    this.base = base;
    return this.parseRecord(buf, pos, eof);
  }

  /** Parses one record starting at `pos`; returns the position after it, or -1 if incomplete. */
  private parseRecord(buf: Buffer, pos: number, eof: boolean): number {
    const n = buf.length;
    let nf = 0;
    let i = pos;
    const startLine = this.line;
    let lines = 0;
    for (;;) {
      if (nf === this.starts.length) this.grow();
      if (i < n && buf[i] === QUOTE) {
        // Quoted field: up to the closing quote not followed by another quote.
        let j = i + 1;
        let esc = 0;
        for (;;) {
          if (j >= n) {
            if (!eof) return -1;
            throw new CsvError(`${this.file}:${startLine}: unterminated quoted field`);
          }
          const c = buf[j];
          if (c === QUOTE) {
            if (j + 1 < n && buf[j + 1] === QUOTE) {
              esc = 1;
              j += 2;
              continue;
            }
            if (j + 1 >= n && !eof) return -1;
            break;
          }
          if (c === LF) lines++;
          j++;
        }
        this.starts[nf] = i + 1;
        this.ends[nf] = j;
        this.escaped[nf] = esc;
        nf++;
        i = j + 1;
        if (i < n && buf[i] !== COMMA && buf[i] !== LF && buf[i] !== CR) {
          throw new CsvError(`${this.file}:${startLine}: unexpected character after a closing quote in field ${nf}`);
        }
      } else {
        let j = i;
        while (j < n) {
          const c = buf[j]!;
          // Digits, letters, '.' and '-' lie above the comma: one comparison for most bytes.
          if (c <= COMMA && (c === COMMA || c === LF || c === CR)) break;
          j++;
        }
        if (j >= n && !eof) return -1;
        this.starts[nf] = i;
        this.ends[nf] = j;
        this.escaped[nf] = 0;
        nf++;
        i = j;
      }
      // i is at a delimiter or the end.
      if (i < n && buf[i] === COMMA) {
        i++;
        continue;
      }
      if (i < n && buf[i] === CR) {
        if (i + 1 >= n && !eof) return -1;
        i++;
      }
      if (i < n && buf[i] === LF) i++;
      else if (i >= n && !eof) return -1;
      break;
    }
    this.line += lines + 1;
    // A blank line is one empty unquoted field: skip it.
    if (!(nf === 1 && this.ends[0] === this.starts[0] && buf[this.starts[0]! - 1] !== QUOTE)) {
      const r: CsvRecord = {
        file: this.file,
        line: startLine,
        offset: this.base + pos,
        nFields: nf,
        buf,
        starts: this.starts,
        ends: this.ends,
        escaped: this.escaped,
      };
      if (this.onRecord(r) === false) this.stopped = true;
    }
    return i;
  }

  private grow(): void {
    const m = this.starts.length * 2;
    const s = new Int32Array(m);
    s.set(this.starts);
    const e = new Int32Array(m);
    e.set(this.ends);
    const q = new Uint8Array(m);
    q.set(this.escaped);
    this.starts = s;
    this.ends = e;
    this.escaped = q;
  }
}
