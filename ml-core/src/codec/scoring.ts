/**
 * Body in, predictions out: the one scoring path shared by the server's /invocations and
 * `ml-core predict`. Work is done a slice of rows at a time and handed out as text chunks, so a
 * caller can stream them to a file or yield to its event loop between slices.
 */
import type { Predictor } from "../model/predictor";
import { CsvRows } from "./csv";
import { HttpError } from "./errors";
import { Formatter } from "./format";
import { InstanceRows, JsonLinesRows, jsonInstances } from "./json";
import type { Format } from "./media-types";
import { FeatureSchema, type RowSource } from "./rows";

/** Rows per slice: big enough to amortise per-call costs, small enough to stay in L2 and to yield often. */
export const DEFAULT_SLICE_ROWS = 2048;
/**
 * Rows of a scorer's first slice in `predictionBytes`; each next slice 4× larger, up to the slice
 * size. V8 optimizes the hot loops (parse, walk, format) while they run (on-stack replacement), and
 * code after a loop that had not yet run has no type feedback: with a full first slice the optimized
 * parser and formatter deoptimized as the slice ended, and the next slices ran slow code until
 * recompiled (--trace-deopt), on every thread. Small first slices run every path first.
 */
const WARM_SLICE_ROWS = 32;

export class Scorer {
  readonly schema: FeatureSchema;
  readonly formatter: Formatter;
  /** Encoded rows of the current slice; reused, as a slice is encoded and scored without yielding. */
  private readonly x: Float64Array;
  /** Rows of the next slice of `predictionBytes`, growing to `sliceRows`. */
  private warmRows = WARM_SLICE_ROWS;

  /** The buffer `predictions` encodes a slice into (for `predictionBytes`, which shares it). */
  get sliceBuffer(): Float64Array {
    return this.x;
  }

  constructor(
    readonly predictor: Predictor,
    readonly sliceRows = DEFAULT_SLICE_ROWS,
  ) {
    this.schema = new FeatureSchema(predictor);
    this.formatter = new Formatter(predictor);
    this.x = new Float64Array(sliceRows * Math.max(1, this.schema.nFeatures));
  }

  /** Rows for the next slice of `predictionBytes`: small while the code warms up, then `sliceRows`. */
  nextSliceRows(): number {
    const rows = Math.min(this.warmRows, this.sliceRows);
    if (rows < this.sliceRows) this.warmRows *= 4;
    return rows;
  }

  /** The rows of a whole request body. */
  rows(body: Buffer, format: Format): RowSource {
    switch (format) {
      case "csv":
        return new CsvRows(body, 0, body.length, this.schema);
      case "jsonlines":
        return new JsonLinesRows(body, 0, body.length, this.schema);
      case "json":
        return new InstanceRows(jsonInstances(body), this.schema);
    }
  }

  /**
   * The response to a request body, as chunks to concatenate. The first chunk is produced when
   * the iterator is first advanced, so a malformed first row throws there (before any output);
   * a malformed later row throws between chunks. Throws 400 for a body without rows.
   */
  *score(body: Buffer, input: Format, output: Format, count: RowCount = { rows: 0 }): Generator<string, void, undefined> {
    let first = true;
    for (const chunk of this.predictions(this.rows(body, input), output, count)) {
      yield frame(output, chunk, first);
      first = false;
    }
    if (first) throw noRows();
    if (output === "json") yield JSON_END;
  }

  /**
   * `score`'s chunks joined, as UTF-8, computed in one go: for bodies small enough that scoring
   * them never needs to yield to the event loop. Most real-time requests are one row or a few, and
   * for them the two generators' machinery cost as much as parsing the row (measured).
   *
   * CSV is written straight into bytes (Formatter.csvBytes), as `ml-core predict` writes it.
   * `String(v)` cost twice as much on some models as on others: in process, formatting a 100-row
   * response took 51 µs for the flights categorical model's probabilities against 27 µs for the
   * numeric model's, whose values repeat more (10,642 distinct in 20,000 rows, against 19,243) and
   * so find their text in V8's number-to-string cache; the byte writer takes ~60 ns a value on both.
   */
  scoreAll(body: Buffer, input: Format, output: Format, count: RowCount = { rows: 0 }): Uint8Array {
    const source = this.rows(body, input);
    const { x, predictor, formatter, sliceRows } = this;
    let n: number;
    if (output === "csv") {
      const parts: Uint8Array[] = [];
      while ((n = source.next(x, sliceRows)) > 0) {
        const y = predictor.predict(x, n);
        count.rows += n;
        parts.push(formatter.csvBytes(y, n));
      }
      if (parts.length === 0) throw noRows();
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    }
    let text = "";
    let first = true;
    while ((n = source.next(x, sliceRows)) > 0) {
      const y = predictor.predict(x, n);
      count.rows += n;
      text += frame(output, formatter.format(output, y, n), first);
      first = false;
    }
    if (first) throw noRows();
    return Buffer.from(output === "json" ? text + JSON_END : text, "utf8");
  }

  /**
   * Formatted predictions for every row of `source`, one chunk per slice (JSON records without the
   * surrounding array). Adds the rows scored to `count`.
   */
  *predictions(source: RowSource, output: Format, count: RowCount = { rows: 0 }): Generator<string, void, undefined> {
    const { x, predictor, formatter } = this;
    let n: number;
    while ((n = source.next(x, this.sliceRows)) > 0) {
      const y = predictor.predict(x, n);
      count.rows += n;
      yield formatter.format(output, y, n);
    }
  }
}

/**
 * `predictions` as UTF-8, each chunk in a buffer of its own. CSV is formatted straight into bytes
 * (Formatter.csvBytes): the same bytes as the text, without building it, in slices that start small
 * (WARM_SLICE_ROWS).
 */
export function* predictionBytes(scorer: Scorer, source: RowSource, output: Format, count: RowCount = { rows: 0 }): Generator<Uint8Array, void, undefined> {
  if (output !== "csv") {
    for (const text of scorer.predictions(source, output, count)) {
      const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
      bytes.write(text);
      yield bytes;
    }
    return;
  }
  const { predictor, formatter } = scorer;
  const x = scorer.sliceBuffer;
  let n: number;
  while ((n = source.next(x, scorer.nextSliceRows())) > 0) {
    const y = predictor.predict(x, n);
    count.rows += n;
    yield formatter.csvBytes(y, n);
  }
}

const JSON_END = "]}";

/** A slice's formatted records as a chunk of the response: JSON's opening, or a separating comma. */
function frame(output: Format, chunk: string, first: boolean): string {
  if (output !== "json") return chunk;
  return first ? `{"predictions":[${chunk}` : `,${chunk}`;
}

function noRows(): HttpError {
  return new HttpError(400, "the request body holds no rows");
}

/** Rows scored so far by one call, for access logs and `predict`'s summary. */
export interface RowCount {
  rows: number;
}
