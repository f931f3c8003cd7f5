/**
 * `ml-core predict`: batch scoring of a local file through the server's own scoring path
 * (server/scoring.ts), so a file scored here and the same rows sent to /invocations give the same
 * bytes.
 *
 * CSV and JSON-lines files are streamed in chunks cut at record boundaries, so memory stays flat
 * for any file size; a JSON document is read whole. Unlike the server, a CSV file may start with a
 * header: when its first line names every feature, columns are matched by name (extra columns,
 * such as the label of a test set, are ignored) and the output gets a header too.
 *
 * The output is written to a temporary file beside the target and renamed into place, so a failed
 * run never leaves a truncated file behind.
 */
import { once } from "node:events";
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import type { Readable, Writable } from "node:stream";
import { Command, Option } from "commander";
import { loadPredictor } from "../model/load";
import type { Predictor } from "../model/predictor";
import { CsvRows, headerLayout, identityLayout, lastRecordEnd, readRecord, type ColumnLayout } from "../server/csv";
import { HttpError } from "../server/errors";
import { InstanceRows, JsonLinesRows, jsonInstances } from "../server/json";
import { requestFormat, type Format } from "../server/media-types";
import type { RowSource } from "../server/rows";
import { Scorer, type RowCount } from "../server/scoring";

/** Bytes read per chunk: large enough that the carried-over partial record costs nothing. */
const CHUNK_BYTES = 4 * 1024 * 1024;
/** Rows per predictor call; larger than the server's, since nothing waits on a file job. */
const SLICE_ROWS = 8192;

export interface PredictOptions {
  readonly modelDir: string;
  /** Input file, or "-" for stdin. */
  readonly input: string;
  /** Output file, or "-" for stdout. */
  readonly output: string;
  /** Input format as a media type. @default - from the input's extension, else text/csv */
  readonly contentType?: string;
  /** Output format as a media type. @default - from the output's extension, else the input's format */
  readonly accept?: string;
  /** Bytes read at a time. @default 4 MiB */
  readonly chunkBytes?: number;
}

export interface PredictSummary {
  readonly rows: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  readonly input: string;
  readonly output: string;
  readonly inputFormat: Format;
  readonly outputFormat: Format;
  /** Whether the CSV input began with a header line. */
  readonly header: boolean;
}

export class PredictError extends Error {
  override readonly name = "PredictError";
}

const EXTENSION_FORMAT: Readonly<Record<string, Format>> = {
  ".csv": "csv",
  ".json": "json",
  ".jsonl": "jsonlines",
  ".jsonlines": "jsonlines",
  ".ndjson": "jsonlines",
};

/** The format of a file from an explicit media type or its extension. */
export function fileFormat(file: string, mediaType: string | undefined, fallback: Format): Format {
  if (mediaType !== undefined) {
    try {
      return requestFormat(mediaType);
    } catch (e) {
      throw new PredictError((e as Error).message.replace(/^unsupported content type/, "unsupported format"));
    }
  }
  return EXTENSION_FORMAT[path.extname(file).toLowerCase()] ?? fallback;
}

/** Scores `input` into `output`. `predictor` defaults to the model in `modelDir`. */
export async function predictFile(options: PredictOptions, predictor?: Predictor): Promise<PredictSummary> {
  const started = performance.now();
  const model = predictor ?? loadPredictor(options.modelDir);
  const inputFormat = fileFormat(options.input, options.contentType, "csv");
  const outputFormat = fileFormat(options.output, options.accept, inputFormat);
  const scorer = new Scorer(model, SLICE_ROWS);
  const count: RowCount = { rows: 0 };

  const toStdout = options.output === "-";
  const tmp = toStdout ? undefined : path.join(path.dirname(options.output), `.${path.basename(options.output)}.${process.pid}.tmp`);
  const out: Writable = toStdout ? process.stdout : fs.createWriteStream(tmp as string, { highWaterMark: CHUNK_BYTES });
  const inStream: Readable = options.input === "-" ? process.stdin : fs.createReadStream(options.input, { highWaterMark: options.chunkBytes ?? CHUNK_BYTES });

  let header = false;
  try {
    const sink = new Sink(out, outputFormat);
    if (inputFormat === "json") {
      const whole = await readAll(inStream);
      await sink.writeAll(scorer.predictions(new InstanceRows(jsonInstances(whole), scorer.schema), outputFormat, count));
    } else {
      header = await streamRecords(inStream, inputFormat, scorer, sink, count);
    }
    if (count.rows === 0) throw new PredictError(`${options.input}: no rows to score`);
    await sink.end();
    if (tmp !== undefined) {
      out.end();
      await once(out, "finish");
      fs.renameSync(tmp, options.output);
    }
  } catch (e) {
    if (tmp !== undefined) {
      out.destroy();
      fs.rmSync(tmp, { force: true });
    }
    inStream.destroy();
    if (e instanceof HttpError) throw new PredictError(`${options.input}: ${e.message}`);
    throw e;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    rows: count.rows,
    seconds,
    rowsPerSecond: count.rows / seconds,
    input: options.input,
    output: options.output,
    inputFormat,
    outputFormat,
    header,
  };
}

/**
 * Reads CSV or JSON lines chunk by chunk, scoring each chunk's complete records and carrying the
 * partial last one over. Returns whether a CSV header was found.
 */
async function streamRecords(input: Readable, format: Format, scorer: Scorer, sink: Sink, count: RowCount): Promise<boolean> {
  let carry: Buffer | undefined;
  let layout: ColumnLayout | undefined;
  let header = false;
  let row = 1;
  const score = async (buf: Buffer, start: number, end: number): Promise<void> => {
    if (layout === undefined) {
      // The first record decides whether there is a header; it must be whole.
      layout = identityLayout(scorer.schema.nFeatures);
      if (format === "csv") {
        const bom = buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf ? 3 : 0;
        const { fields, next } = readRecord(buf, start + bom, end, 1);
        const byName = headerLayout(fields, scorer.schema);
        if (byName !== undefined) {
          layout = byName;
          header = true;
          start = next;
          row = 2;
          sink.header(scorer.formatter.csvHeader());
        } else {
          checkNotPartialHeader(fields, scorer);
        }
      }
    }
    const source: RowSource & { readonly row: number } =
      format === "csv" ? new CsvRows(buf, start, end, scorer.schema, layout, row) : new JsonLinesRows(buf, start, end, scorer.schema, row);
    await sink.writeAll(scorer.predictions(source, sink.format, count));
    row = source.row;
  };

  for await (const chunk of input as AsyncIterable<Buffer>) {
    const buf = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
    const end = format === "csv" ? lastRecordEnd(buf, 0, buf.length) : buf.lastIndexOf(10) + 1;
    if (end > 0) await score(buf, 0, end);
    carry = end < buf.length ? buf.subarray(end) : undefined;
  }
  if (carry !== undefined && carry.length > 0) await score(carry, 0, carry.length);
  return header;
}

/** A first line that names some features but not all is a broken header, not data. */
function checkNotPartialHeader(fields: readonly string[], scorer: Scorer): void {
  const named = fields.filter((f) => scorer.schema.indexOf.has(f.trim()));
  if (named.length > 0 && named.length >= fields.length / 2) {
    const missing = scorer.schema.names.filter((n) => !fields.some((f) => f.trim() === n));
    throw new HttpError(400, `row 1 looks like a header but lacks feature${missing.length === 1 ? "" : "s"} ${missing.join(", ")}`);
  }
}


async function readAll(input: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of input as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Writes formatted chunks with back-pressure, adding the JSON document's framing. */
class Sink {
  private first = true;

  constructor(
    private readonly out: Writable,
    readonly format: Format,
  ) {}

  header(text: string): void {
    if (this.format === "csv") this.out.write(text);
  }

  async writeAll(chunks: Iterable<string>): Promise<void> {
    for (const chunk of chunks) {
      let text = chunk;
      if (this.format === "json") text = (this.first ? '{"predictions":[' : ",") + chunk;
      this.first = false;
      if (!this.out.write(text)) await once(this.out, "drain");
    }
  }

  async end(): Promise<void> {
    if (this.format === "json" && !this.first && !this.out.write("]}\n")) await once(this.out, "drain");
  }
}

/** The `predict` command. */
export function predictCommand(): Command {
  return new Command("predict")
    .description("Score a file of rows with a model: CSV, JSON or JSON lines in and out, as /invocations does")
    .requiredOption("--model-dir <dir>", "model directory (holding model.json)")
    .requiredOption("--input <file>", 'rows to score (.csv, .json, .jsonl); "-" for stdin')
    .option("--output <file>", 'where to write predictions; "-" for stdout', "-")
    .addOption(new Option("--content-type <type>", "input format, when the extension does not say (text/csv, application/json, application/jsonlines)"))
    .addOption(new Option("--accept <type>", "output format (default: from the output's extension, else the input's format)"))
    .option("--json", "print the summary as JSON")
    .action(async (opts: PredictOptions & { json?: boolean }) => {
      const summary = await predictFile(opts);
      // The summary goes to stderr when stdout carries the predictions.
      const stream = opts.output === "-" ? process.stderr : process.stdout;
      stream.write(opts.json === true ? JSON.stringify(summary) + "\n" : formatSummary(summary) + "\n");
    });
}

export function formatSummary(s: PredictSummary): string {
  const rate = Math.round(s.rowsPerSecond).toLocaleString("en-US");
  return `scored ${s.rows.toLocaleString("en-US")} rows in ${s.seconds.toFixed(2)} s (${rate} rows/s): ${s.input} → ${s.output === "-" ? "stdout" : s.output}`;
}
