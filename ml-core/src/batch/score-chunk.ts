/**
 * The unit of work of batch scoring: one chunk of complete records in, its formatted predictions
 * out. Runs on the main thread or on a scoring thread (threads.ts), so it takes and returns only
 * what can cross a thread boundary.
 */
import { CsvRows } from "../codec/csv";
import { JsonLinesRows } from "../codec/json";
import type { Format } from "../codec/media-types";
import type { RowSource } from "../codec/rows";
import { predictionBytes, type RowCount, type Scorer } from "../codec/scoring";

/** Rows per predictor call; larger than the server's, since nothing waits on a file job. */
export const SLICE_ROWS = 8192;

/** What scoring one chunk of complete records gives. */
export interface ChunkResult {
  /**
   * The formatted predictions as UTF-8, one buffer per slice (JSON records comma-separated, without
   * the surrounding array). Bytes rather than strings: a chunk's worth of row strings kept until
   * written outlived the young generation, and promoting them cost more than formatting them. A
   * scoring thread hands them back joined in one buffer of shared memory (threads.ts).
   */
  readonly parts: Uint8Array[];
  readonly rows: number;
  /** Lines of input consumed, counting blank ones: the next chunk's rows are numbered after them. */
  readonly lines: number;
}

/** What a scoring thread needs to know, fixed for the whole file. */
export interface ChunkSpec {
  readonly format: Format;
  readonly outputFormat: Format;
  readonly nColumns: number;
  readonly target: Int32Array;
}

/**
 * Scores the records of one chunk, numbering rows from 1 (the caller shifts row numbers in errors):
 * the unit of work, on the main thread or on a scoring thread.
 */
export function scoreChunk(scorer: Scorer, spec: ChunkSpec, buf: Buffer, fileStart: boolean): ChunkResult {
  const source: RowSource & { readonly row: number } =
    spec.format === "csv"
      ? new CsvRows(buf, 0, buf.length, scorer.schema, { nColumns: spec.nColumns, target: spec.target }, 1, fileStart)
      : new JsonLinesRows(buf, 0, buf.length, scorer.schema, 1);
  const count: RowCount = { rows: 0 };
  const parts: Uint8Array[] = [];
  for (const part of predictionBytes(scorer, source, spec.outputFormat, count)) {
    parts.push(parts.length > 0 && spec.outputFormat === "json" ? withLeadingComma(part) : part);
  }
  return { parts, rows: count.rows, lines: source.row - 1 };
}

function withLeadingComma(part: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(part.length + 1);
  bytes[0] = 44;
  bytes.set(part, 1);
  return bytes;
}
