/**
 * CSV request bodies (RFC 4180) → encoded rows, straight from the bytes.
 *
 * This is the hot path of both the server (a single-row request is mostly parsing) and
 * `ml-core predict` (millions of rows). Numeric fields in the common spellings are converted
 * without creating a string; anything else — missing tokens, categories, quoted fields,
 * whitespace, hex — is decoded and handed to the predictor's `encode`, so the two paths cannot
 * disagree about what a field means.
 */
import { HttpError, badRow } from "./errors";
import type { ColumnLayout, FeatureSchema, RowSource } from "./rows";

// Indexed reads carry `!` (noUncheckedIndexedAccess): offsets stay inside the buffer and feature
// indices below nFeatures (the layout maps columns to features). A check per read would cost the
// hot loops; the emitted JavaScript is unchanged.

const COMMA = 44;
const LF = 10;
const CR = 13;
const QUOTE = 34;
const MINUS = 45;
const DOT = 46;
const PLUS = 43;

const POW10 = new Float64Array(23).map((_, i) => 10 ** i);
const MAX_EXACT = 2 ** 53;

/**
 * The layout a header line implies, or undefined when the line is not a header (it does not name
 * every feature). Extra columns, such as the label of a held-out set, are ignored.
 */
export function headerLayout(fields: readonly string[], schema: FeatureSchema): ColumnLayout | undefined {
  const target = new Int32Array(fields.length).fill(-1);
  const seen = new Set<number>();
  fields.forEach((f, i) => {
    const idx = schema.indexOf.get(f.trim());
    if (idx !== undefined && !seen.has(idx)) {
      target[i] = idx;
      seen.add(idx);
    }
  });
  return seen.size === schema.nFeatures ? { nColumns: fields.length, target } : undefined;
}

/**
 * Reads CSV records from `buf[pos, end)`. Blank lines are skipped (as pandas does); row numbers
 * in messages count lines from `firstRow`.
 */
export class CsvRows implements RowSource {
  /** Byte offset of the next record. */
  pos: number;
  /** Number of the next line (1-based). */
  row: number;

  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly end: number,
    private readonly schema: FeatureSchema,
    private readonly layout: ColumnLayout = schema.featureOrder,
    firstRow = 1,
    /** Whether `start` is the start of the file (where a byte order mark may be). */
    fileStart = firstRow === 1,
  ) {
    // A UTF-8 byte order mark (spreadsheet exports) is not part of the first field.
    this.pos = fileStart && end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf ? start + 3 : start;
    this.row = firstRow;
  }

  next(x: Float64Array, maxRows: number): number {
    const { buf, end, schema, layout } = this;
    const { nColumns, target } = layout;
    const numeric = schema.numeric;
    const nFeatures = schema.nFeatures;
    const predictor = schema.predictor;
    const finiteIsIdentity = schema.finiteNumbersEncodeAsThemselves;
    const memos = schema.memos;
    let p = this.pos;
    let row = this.row;
    let rows = 0;
    while (rows < maxRows && p < end) {
      let c = buf[p];
      if (c === LF) {
        p++;
        row++;
        continue;
      }
      if (c === CR) {
        p++;
        if (p < end && buf[p] === LF) p++;
        row++;
        continue;
      }
      const base = rows * nFeatures;
      const recordStart = p;
      let col = 0;
      let quoted = false;
      for (;;) {
        if (p < end && buf[p] === QUOTE) {
          quoted = true;
          break;
        }
        const t = col < nColumns ? target[col]! : -1;
        if (t >= 0) {
          let value = NaN;
          let fast = false;
          if (numeric[t] === 1) {
            // Clinger's fast path: an integer mantissa below 2^53 and a power of ten up to 10^22 are
            // both exact doubles, so one multiplication or division is correctly rounded — the same
            // double Number(text) gives. Everything else falls back to `encode` on the text.
            let i = p;
            let negative = false;
            if (i < end && buf[i]! === MINUS) {
              negative = true;
              i++;
            }
            let mantissa = 0;
            let digits = 0;
            let scale = 0;
            let d = 0;
            while (i < end && (d = buf[i]! - 48) >= 0 && d <= 9) {
              mantissa = mantissa * 10 + d;
              digits++;
              i++;
            }
            // The commonest field of all, an integer before a comma, goes straight to the next field.
            if (finiteIsIdentity && digits > 0 && digits <= 15 && i < end && buf[i] === COMMA) {
              x[base + t] = negative ? -mantissa : mantissa;
              p = i + 1;
              col++;
              continue;
            }
            if (i < end && buf[i]! === DOT) {
              i++;
              while (i < end && (d = buf[i]! - 48) >= 0 && d <= 9) {
                mantissa = mantissa * 10 + d;
                digits++;
                scale++;
                i++;
              }
            }
            if (digits > 0 && i < end && (buf[i]! | 32) === 101 /* e or E */) {
              i++;
              let expNegative = false;
              if (i < end && (buf[i]! === MINUS || buf[i]! === PLUS)) expNegative = buf[i++]! === MINUS;
              let exponent = 0;
              let expDigits = 0;
              while (i < end && (d = buf[i]! - 48) >= 0 && d <= 9) {
                exponent = exponent * 10 + d;
                expDigits++;
                i++;
              }
              scale = expDigits === 0 || expDigits > 3 ? 99 : expNegative ? scale + exponent : scale - exponent;
            }
            c = i < end ? buf[i]! : LF;
            if (digits > 0 && mantissa <= MAX_EXACT && scale <= 22 && scale >= -22 && (c === COMMA || c === LF || c === CR)) {
              const v = scale > 0 ? mantissa / POW10[scale]! : scale < 0 ? mantissa * POW10[-scale]! : mantissa;
              // The fast path only makes finite numbers, which the shipped predictors encode as
              // themselves; skipping the call is measurable at millions of fields.
              value = finiteIsIdentity ? (negative ? -v : v) : predictor.encode(t, negative ? -v : v);
              fast = true;
              p = i;
            }
          }
          if (!fast) {
            const fieldStart = p;
            const memo = memos[t];
            if (memo === undefined) {
              while (p < end && (c = buf[p]!) !== COMMA && c !== LF && c !== CR) p++;
              value = schema.encodeField(row, t, buf, fieldStart, p);
            } else {
              // A category seen before: its bytes packed while scanning (ByteCodes.findPacked) and
              // found in the memo here, not by a second pass through encodeField.
              let packed = 0;
              while (p < end && (c = buf[p]!) !== COMMA && c !== LF && c !== CR) {
                packed = (packed << 8) | c;
                p++;
              }
              const e = memo.findPacked(buf, fieldStart, p, packed);
              value = e >= 0 ? memo.value(e) : schema.encodeField(row, t, buf, fieldStart, p);
            }
          }
          x[base + t] = value;
        } else {
          while (p < end && (c = buf[p]!) !== COMMA && c !== LF && c !== CR) p++;
        }
        col++;
        if (p < end && buf[p] === COMMA) {
          p++;
          continue;
        }
        break;
      }
      if (quoted) {
        p = this.quotedRecord(recordStart, row, x, base);
      } else {
        if (col !== nColumns) throw this.columnCount(row, col);
        if (p < end && buf[p] === CR) p++;
        if (p < end && buf[p] === LF) p++;
      }
      row++;
      rows++;
    }
    this.pos = p;
    this.row = row;
    return rows;
  }

  /** The general RFC 4180 reader for a record with quoted fields (which may hold commas or newlines). */
  private quotedRecord(start: number, row: number, x: Float64Array, base: number): number {
    const { fields, next } = readRecord(this.buf, start, this.end, row);
    if (fields.length !== this.layout.nColumns) throw this.columnCount(row, fields.length);
    for (let col = 0; col < fields.length; col++) {
      const t = this.layout.target[col]!;
      if (t >= 0) x[base + t] = this.schema.encode(row, t, fields[col]!);
    }
    return next;
  }

  private columnCount(row: number, found: number): HttpError {
    const expected = this.layout.nColumns;
    const what = expected === this.schema.nFeatures ? this.schema.describe() : `${expected} columns, as in the header`;
    return badRow(row, `expected ${what}, found ${found} column${found === 1 ? "" : "s"}`);
  }
}

/**
 * One RFC 4180 record from `start`: fields unquoted (`""` → `"`), and the offset after its line
 * end. Used for quoted records and header lines, where speed does not matter.
 */
export function readRecord(buf: Buffer, start: number, end: number, row: number): { fields: string[]; next: number } {
  const fields: string[] = [];
  let p = start;
  for (;;) {
    if (p < end && buf[p] === QUOTE) {
      const parts: string[] = [];
      let from = ++p;
      for (;;) {
        const q = buf.indexOf(QUOTE, p);
        if (q < 0 || q >= end) throw badRow(row, `unterminated quoted field in column ${fields.length + 1}`);
        if (q + 1 < end && buf[q + 1] === QUOTE) {
          parts.push(buf.toString("utf8", from, q + 1));
          p = from = q + 2;
          continue;
        }
        parts.push(buf.toString("utf8", from, q));
        p = q + 1;
        break;
      }
      fields.push(parts.join(""));
      if (p < end && buf[p] !== COMMA && buf[p] !== LF && buf[p] !== CR) {
        throw badRow(row, `unexpected text after the closing quote of column ${fields.length}`);
      }
    } else {
      const fieldStart = p;
      let c = 0;
      while (p < end && (c = buf[p]!) !== COMMA && c !== LF && c !== CR) p++;
      fields.push(buf.toString("utf8", fieldStart, p));
    }
    if (p < end && buf[p] === COMMA) {
      p++;
      continue;
    }
    if (p < end && buf[p] === CR) p++;
    if (p < end && buf[p] === LF) p++;
    return { fields, next: p };
  }
}

/**
 * The end of the last complete record in `buf[start, end)`: just after its final line feed that is
 * not inside a quoted field. Lets a file be read in chunks without splitting a record.
 * Returns `start` when the range holds no complete record.
 */
export function lastRecordEnd(buf: Buffer, start: number, end: number): number {
  const lastLf = buf.lastIndexOf(LF, end - 1);
  if (lastLf < start) return start;
  const firstQuote = buf.indexOf(QUOTE, start);
  if (firstQuote < 0 || firstQuote > lastLf) return lastLf + 1;
  // Quotes present: track quoting from the start (a `""` escape toggles twice, which is right).
  let inQuotes = false;
  let boundary = start;
  for (let p = start; p < end; p++) {
    const c = buf[p];
    if (c === QUOTE) inQuotes = !inQuotes;
    else if (c === LF && !inQuotes) boundary = p + 1;
  }
  return boundary;
}
