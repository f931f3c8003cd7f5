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
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import type { Readable, Writable } from "node:stream";
import { isMainThread, parentPort, Worker, workerData, type MessagePort } from "node:worker_threads";
import { Command, InvalidArgumentError, Option } from "commander";
import { loadPredictor } from "../model/load";
import type { Predictor } from "../model/predictor";
import { CsvRows, headerLayout, lastRecordEnd, readRecord } from "../server/csv";
import { HttpError, RowError } from "../server/errors";
import { InstanceRows, JsonLinesRows, jsonInstances } from "../server/json";
import { requestFormat, type Format } from "../server/media-types";
import type { RowSource } from "../server/rows";
import { predictionBytes, Scorer, type RowCount } from "../server/scoring";

/** Bytes read per chunk: large enough that the carried-over partial record costs nothing. */
const CHUNK_BYTES = 4 * 1024 * 1024;
/** Bytes of input a scoring thread gets at a time, at least (a job ends at a chunk's end). */
const JOB_BYTES = 1024 * 1024;
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
  /** Scoring threads, the calling one included, for inputs longer than one chunk. @default one per CPU */
  readonly threads?: number;
}

/**
 * One scoring thread per CPU; none when running from TypeScript source (tests), where a worker
 * thread could not load this file.
 */
function defaultThreads(): number {
  return __filename.endsWith(".ts") ? 1 : os.availableParallelism();
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
  const inputFormat = fileFormat(options.input, options.contentType, "csv");
  const outputFormat = fileFormat(options.output, options.accept, inputFormat);
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  // Threads load the model from its directory (a predictor handed in, in tests, stays on this
  // one). For a file of more than one chunk they start first, so that their start-up (~130 ms)
  // overlaps this thread's model load; for stdin, once a second chunk arrives.
  // This thread scores too, so `threads` scorers take `threads − 1` worker threads.
  const nThreads = predictor === undefined && inputFormat !== "json" ? (options.threads ?? defaultThreads()) : 1;
  let threads = nThreads > 1 && options.input !== "-" && fileSize(options.input) > chunkBytes ? new ScoringThreads(nThreads - 1, options.modelDir) : undefined;
  const pool = (): ScoringThreads | undefined => (nThreads > 1 ? (threads ??= new ScoringThreads(nThreads - 1, options.modelDir)) : undefined);
  let model: Predictor;
  try {
    model = predictor ?? loadPredictor(options.modelDir);
  } catch (e) {
    await threads?.close();
    throw e;
  }
  const scorer = new Scorer(model, SLICE_ROWS);
  const count: RowCount = { rows: 0 };

  const toStdout = options.output === "-";
  const tmp = toStdout ? undefined : path.join(path.dirname(options.output), `.${path.basename(options.output)}.${process.pid}.tmp`);
  const out: Writable = toStdout ? process.stdout : fs.createWriteStream(tmp as string, { highWaterMark: CHUNK_BYTES });
  let inStream: Readable | undefined;
  const stream = (): Readable => (inStream ??= options.input === "-" ? process.stdin : fs.createReadStream(options.input, { highWaterMark: chunkBytes }));

  let header = false;
  try {
    const sink = new Sink(out, outputFormat);
    if (inputFormat === "json") {
      const whole = await readAll(stream());
      for (const part of scorer.predictions(new InstanceRows(jsonInstances(whole), scorer.schema), outputFormat, count)) await sink.write(part);
    } else {
      // A file is read at record boundaries into buffers of its own, which go to the threads
      // without a copy; stdin comes as the stream cuts it.
      const source =
        options.input === "-"
          ? { chunks: recordChunks(stream(), inputFormat), owned: false }
          : { chunks: fileRecordChunks(options.input, inputFormat, chunkBytes), owned: true };
      try {
        header = await scoreRecords(source.chunks, source.owned, inputFormat, outputFormat, scorer, sink, count, pool);
      } finally {
        // Closes the file when scoring stopped early (an error) or never iterated to the end.
        await source.chunks.return(undefined);
      }
    }
    await threads?.close();
    if (count.rows === 0) throw new PredictError(`${options.input}: no rows to score`);
    await sink.end();
    if (tmp !== undefined) {
      out.end();
      await once(out, "finish");
      fs.renameSync(tmp, options.output);
    }
  } catch (e) {
    // Before the output is destroyed: writes still in flight finish while the threads stop.
    await threads?.close();
    if (tmp !== undefined) {
      out.destroy();
      fs.rmSync(tmp, { force: true });
    }
    inStream?.destroy();
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

/** What scoring one chunk of complete records gives. */
interface ChunkResult {
  /**
   * The formatted predictions as UTF-8, one buffer per slice (JSON records comma-separated, without
   * the surrounding array). Bytes rather than strings: a chunk's worth of row strings kept until
   * written outlived the young generation, and promoting them cost more than formatting them; each
   * buffer owns its memory, so a scoring thread can transfer it instead of copying.
   */
  readonly parts: Uint8Array[];
  readonly rows: number;
  /** Lines of input consumed, counting blank ones: the next chunk's rows are numbered after them. */
  readonly lines: number;
}

/** What a scoring thread needs to know, fixed for the whole file. */
interface ChunkSpec {
  readonly format: Format;
  readonly outputFormat: Format;
  readonly nColumns: number;
  readonly target: Int32Array;
}

/**
 * Scores the records of one chunk, numbering rows from 1 (the caller shifts row numbers in errors):
 * the unit of work, on the main thread or on a scoring thread.
 */
function scoreChunk(scorer: Scorer, spec: ChunkSpec, buf: Buffer, fileStart: boolean): ChunkResult {
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

/**
 * The records of a file in chunks of about `chunkBytes`, each read at a record boundary into a
 * buffer of its own (so it can be moved to a scoring thread). The partial record at the end of a
 * read is read again at the start of the next, instead of being joined to it by a copy; a chunk
 * without a complete record is read again twice as large.
 */
async function* fileRecordChunks(file: string, format: Format, chunkBytes: number): AsyncGenerator<Buffer> {
  const fh = await fs.promises.open(file, "r");
  try {
    let position = 0;
    let size = chunkBytes;
    for (;;) {
      const buf = Buffer.allocUnsafeSlow(size);
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await fh.read(buf, filled, size - filled, position + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled < size) {
        // The end of the file: the rest, whether or not its last record ends with a line feed.
        if (filled > 0) yield buf.subarray(0, filled);
        return;
      }
      const end = format === "csv" ? lastRecordEnd(buf, 0, filled) : buf.lastIndexOf(10) + 1;
      if (end === 0) {
        size *= 2;
        continue;
      }
      yield buf.subarray(0, end);
      position += end;
      size = chunkBytes;
    }
  } finally {
    await fh.close();
  }
}

/**
 * Chunks of the input cut after their last complete record (CSV quoting respected). Only the record
 * that straddles two reads is copied (into a small seam buffer); the rest are views of the reads.
 */
async function* recordChunks(input: Readable, format: Format): AsyncGenerator<Buffer> {
  const recordEnd = (buf: Buffer, start: number): number => (format === "csv" ? lastRecordEnd(buf, start, buf.length) : buf.lastIndexOf(10) + 1);
  let carry: Buffer | undefined;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let start = 0;
    if (carry !== undefined) {
      // Complete the carried record with this read's first line(s); retry further when the line
      // feed found was inside a quoted field.
      let head = chunk.indexOf(10);
      while (head >= 0) {
        const seam = Buffer.concat([carry, chunk.subarray(0, head + 1)]);
        if (recordEnd(seam, 0) === seam.length) {
          yield seam;
          start = head + 1;
          carry = undefined;
          break;
        }
        head = chunk.indexOf(10, head + 1);
      }
      if (carry !== undefined) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
    }
    const end = Math.max(start, recordEnd(chunk, start));
    if (end > start) yield chunk.subarray(start, end);
    carry = end < chunk.length ? chunk.subarray(end) : undefined;
  }
  if (carry !== undefined && carry.length > 0) yield carry;
}

/**
 * Streams CSV or JSON lines through the scorer. A file of more than one chunk is scored by a pool of
 * threads (the predictor is CPU-bound and a file job has nothing else to wait on), with results
 * written in input order. Returns whether a CSV header was found.
 */
async function scoreRecords(
  chunks: AsyncGenerator<Buffer>,
  owned: boolean,
  format: Format,
  outputFormat: Format,
  scorer: Scorer,
  sink: Sink,
  count: RowCount,
  pool: () => ScoringThreads | undefined,
): Promise<boolean> {
  const first = await chunks.next();
  if (first.done === true) return false;
  let buf = first.value;
  let layout = scorer.schema.featureOrder;
  let header = false;
  let linesBefore = 0;
  if (format === "csv") {
    // The first record decides whether there is a header.
    const bom = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
    const { fields, next } = readRecord(buf, bom, buf.length, 1);
    const byName = headerLayout(fields, scorer.schema);
    if (byName !== undefined) {
      layout = byName;
      header = true;
      buf = buf.subarray(next);
      linesBefore = 1;
      sink.header(scorer.formatter.csvHeader());
    } else {
      checkNotPartialHeader(fields, scorer);
    }
  }
  const spec: ChunkSpec = { format, outputFormat, nColumns: layout.nColumns, target: layout.target };
  const emit = async (result: ChunkResult): Promise<void> => {
    for (const [i, part] of result.parts.entries()) await sink.write(part, i > 0);
    count.rows += result.rows;
    linesBefore += result.lines;
  };
  const renumber = (e: unknown): unknown => (e instanceof RowError ? new RowError(e.row + linesBefore, e.detail, e.column) : e);

  const second = await chunks.next();
  const threads = second.done === true ? undefined : pool();
  if (threads === undefined || second.done === true) {
    let fileStart = !header;
    const scoreHere = async (b: Buffer): Promise<void> => {
      let result: ChunkResult;
      try {
        result = scoreChunk(scorer, spec, b, fileStart);
      } catch (e) {
        throw renumber(e);
      }
      fileStart = false;
      await emit(result);
    };
    await scoreHere(buf);
    if (second.done !== true) {
      await scoreHere(second.value);
      for await (const b of chunks) await scoreHere(b);
    }
    return header;
  }

  // Results in input order; each job is scored by a worker thread with room (two jobs in flight
  // each), or else here. Scoring here too saves a worker's start-up (~150 ms of a CPU: its own
  // modules and copy of the model) and puts this thread, otherwise idle between reads and writes,
  // to work while the workers start.
  const inFlight: { readonly result: Promise<ChunkResult>; settled: boolean }[] = [];
  const drainOne = async (): Promise<void> => {
    let result: ChunkResult;
    try {
      result = await (inFlight.shift() as (typeof inFlight)[number]).result;
    } catch (e) {
      throw renumber(e);
    }
    await emit(result);
  };
  const track = (result: Promise<ChunkResult>): void => {
    const entry = { result, settled: false };
    const settle = (): void => {
      entry.settled = true;
    };
    result.then(settle, settle);
    inFlight.push(entry);
  };
  // A file's chunks each go to a thread as they are. Stdin's come as a large chunk and a
  // one-record seam chunk (the record split between two reads): sent alone, round-robin, every
  // seam went to the same thread, which then idled while the other scored every large chunk; so
  // those are joined into jobs of at least JOB_BYTES, in the one copy that hands a thread a
  // buffer it owns.
  let job: Buffer[] = [];
  let jobBytes = 0;
  let fileStart = !header;
  const dispatch = async (): Promise<void> => {
    if (threads.pending < 2 * threads.size) {
      track(threads.score(spec, job, fileStart, owned));
    } else {
      const here = job.length === 1 ? job[0] : Buffer.concat(job, jobBytes);
      let result: Promise<ChunkResult>;
      try {
        result = Promise.resolve(scoreChunk(scorer, spec, here, fileStart));
      } catch (e) {
        // Reported in input order, after the results of earlier jobs (track handles the rejection).
        result = Promise.reject(e);
      }
      track(result);
    }
    fileStart = false;
    job = [];
    jobBytes = 0;
    // Write what is done, in order; wait only when too much is pending.
    while (inFlight.length > 0 && inFlight[0].settled) await drainOne();
    while (inFlight.length > 2 * threads.size + 1) await drainOne();
  };
  const add = async (b: Buffer): Promise<void> => {
    job.push(b);
    jobBytes += b.length;
    if (owned || jobBytes >= JOB_BYTES) await dispatch();
  };
  await add(buf);
  await add(second.value);
  for await (const next of chunks) await add(next);
  if (job.length > 0) await dispatch();
  while (inFlight.length > 0) await drainOne();
  return header;
}

/** Messages between the main thread and a scoring thread. */
interface ThreadInit {
  readonly mlCorePredictThread: true;
  readonly modelDir: string;
}
interface ThreadJob {
  readonly seq: number;
  readonly spec: ChunkSpec;
  readonly bytes: Uint8Array;
  readonly fileStart: boolean;
}
type ThreadReply =
  | { readonly seq: number; readonly result: ChunkResult }
  | { readonly seq: number; readonly rowError: { row: number; detail: string; column?: { index: number; name: string } } }
  | { readonly seq: number; readonly httpError: { status: number; message: string } }
  | { readonly seq: number; readonly error: { message: string; stack?: string } };

/** A fixed pool of worker threads, each with its own copy of the model, scoring jobs round-robin. */
class ScoringThreads {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve: (r: ChunkResult) => void; reject: (e: unknown) => void }>();
  private seq = 0;

  /** Jobs sent and not yet answered. */
  get pending(): number {
    return this.waiting.size;
  }

  constructor(
    readonly size: number,
    modelDir: string,
  ) {
    const workerData: ThreadInit = { mlCorePredictThread: true, modelDir };
    this.workers = Array.from({ length: size }, () => {
      const w = new Worker(__filename, { workerData });
      w.on("message", (reply: ThreadReply) => this.settle(reply));
      w.on("error", (e) => this.failAll(e));
      return w;
    });
  }

  /**
   * Scores consecutive chunks as one job. A single chunk that is `owned` (the only view of its
   * memory) is moved to the thread; otherwise the job is copied into a buffer the thread can own.
   */
  score(spec: ChunkSpec, chunks: readonly Buffer[], fileStart: boolean, owned: boolean): Promise<ChunkResult> {
    const seq = this.seq++;
    let bytes: Uint8Array;
    if (owned && chunks.length === 1) {
      bytes = chunks[0];
    } else {
      bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        bytes.set(c, at);
        at += c.length;
      }
    }
    const result = new Promise<ChunkResult>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      this.workers[seq % this.workers.length].postMessage({ seq, spec, bytes, fileStart } satisfies ThreadJob, [bytes.buffer as ArrayBuffer]);
    });
    // Results are awaited in input order, so a later chunk may fail before anyone awaits it (or
    // never be awaited, after an earlier failure): that must not count as an unhandled rejection.
    result.catch(() => undefined);
    return result;
  }

  private settle(reply: ThreadReply): void {
    const waiter = this.waiting.get(reply.seq);
    if (waiter === undefined) return;
    this.waiting.delete(reply.seq);
    if ("result" in reply) waiter.resolve(reply.result);
    else if ("rowError" in reply) waiter.reject(new RowError(reply.rowError.row, reply.rowError.detail, reply.rowError.column));
    else if ("httpError" in reply) waiter.reject(new HttpError(reply.httpError.status, reply.httpError.message));
    else waiter.reject(Object.assign(new Error(reply.error.message), { stack: reply.error.stack }));
  }

  private failAll(e: unknown): void {
    for (const waiter of this.waiting.values()) waiter.reject(e);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** The body of a scoring thread: load the model once, then score chunks as they come. */
function runScoringThread(init: ThreadInit): void {
  const scorer = new Scorer(loadPredictor(init.modelDir), SLICE_ROWS);
  const port = parentPort as MessagePort;
  port.on("message", (job: ThreadJob) => {
    const { seq } = job;
    try {
      const buf = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
      const result = scoreChunk(scorer, job.spec, buf, job.fileStart);
      port.postMessage({ seq, result } satisfies ThreadReply, result.parts.map((p) => p.buffer as ArrayBuffer));
    } catch (e) {
      if (e instanceof RowError) port.postMessage({ seq, rowError: { row: e.row, detail: e.detail, column: e.column } } satisfies ThreadReply);
      else if (e instanceof HttpError) port.postMessage({ seq, httpError: { status: e.status, message: e.message } } satisfies ThreadReply);
      else port.postMessage({ seq, error: { message: (e as Error).message, stack: (e as Error).stack } } satisfies ThreadReply);
    }
  });
}

if (!isMainThread && (workerData as Partial<ThreadInit> | undefined)?.mlCorePredictThread === true) {
  runScoringThread(workerData as ThreadInit);
}

/** The size of a file, or 0 when it cannot be read (opening it will say why). */
function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
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

  /** Writes a chunk of records; `continues` when it continues the previous chunk's records. */
  async write(chunk: string | Uint8Array, continues = false): Promise<void> {
    if (chunk.length === 0) return;
    if (this.format === "json" && !continues) this.out.write(this.first ? '{"predictions":[' : ",");
    this.first = false;
    if (!this.out.write(chunk)) await once(this.out, "drain");
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
    .addOption(new Option("--threads <n>", "scoring threads, this one included, for inputs larger than one 4 MiB chunk (default: one per CPU)").argParser(positiveInt("--threads")))
    .option("--json", "print the summary as JSON")
    .action(async (opts: PredictOptions & { json?: boolean }) => {
      const summary = await predictFile(opts);
      // The summary goes to stderr when stdout carries the predictions.
      const stream = opts.output === "-" ? process.stderr : process.stdout;
      stream.write(opts.json === true ? JSON.stringify(summary) + "\n" : formatSummary(summary) + "\n");
    });
}

function positiveInt(flag: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer, got ${JSON.stringify(text)}`);
    return n;
  };
}

export function formatSummary(s: PredictSummary): string {
  const rate = Math.round(s.rowsPerSecond).toLocaleString("en-US");
  return `scored ${s.rows.toLocaleString("en-US")} rows in ${s.seconds.toFixed(2)} s (${rate} rows/s): ${s.input} → ${s.output === "-" ? "stdout" : s.output}`;
}
