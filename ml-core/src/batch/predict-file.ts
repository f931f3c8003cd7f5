/**
 * Batch scoring of a local file through the server's own scoring path
 * (codec/scoring.ts), so a file scored here and the same rows sent to /invocations give the same
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
import { HttpError } from "../codec/errors";
import { InstanceRows, jsonInstances } from "../codec/json";
import { requestFormat, type Format } from "../codec/media-types";
import { Scorer, type RowCount } from "../codec/scoring";
import type { ChainPredictor } from "../model/chain-predictor";
import { loadPredictor } from "../model/load";
import type { Predictor } from "../model/predictor";
import { fileRecordChunks, fileSize, readAll, recordChunks } from "./chunks";
import { scoreRecords } from "./ordered";
import { SLICE_ROWS } from "./score-chunk";
import { Sink } from "./sink";
import { ScoringThreads } from "./threads";

/** Bytes read per chunk: large enough that the carried-over partial record costs nothing. */
const CHUNK_BYTES = 4 * 1024 * 1024;
/**
 * How a file scored on threads is cut into jobs: each job a share 1 / (threads × JOB_SHARE) of the
 * bytes still unread, between MIN_JOB_BYTES and the chunk size, so jobs shrink toward the end
 * (guided scheduling). A job goes to a worker with fewer than two queued, else this thread scores
 * it; with jobs of equal size (an eighth of a thread's share, ~100 ms each on the flights holdout)
 * this thread finished its last and then waited ~0.2 s for the two queued at the worker (traced),
 * while the shrinking tail leaves it milliseconds.
 */
const JOB_SHARE = 4;
const MIN_JOB_BYTES = 64 * 1024;

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
  // Threads score with copies of the predictor loaded here (a predictor handed in, in tests, stays
  // on this thread). For a file of more than one chunk they start first, so that their start-up
  // (~100 ms: a thread's runtime and modules) overlaps this thread's model load; for stdin, once a
  // second chunk arrives. This thread scores too, so `threads` scorers take `threads − 1` worker threads.
  const nThreads = predictor === undefined && inputFormat !== "json" ? (options.threads ?? defaultThreads()) : 1;
  const size = options.input === "-" ? 0 : fileSize(options.input);
  let threads = nThreads > 1 && size > chunkBytes ? new ScoringThreads(nThreads - 1) : undefined;
  const fileChunkBytes =
    threads === undefined
      ? chunkBytes
      : (position: number) => Math.min(chunkBytes, Math.max(MIN_JOB_BYTES, Math.ceil((size - position) / (nThreads * JOB_SHARE))));
  let loaded: ChainPredictor | undefined;
  const pool = (): ScoringThreads | undefined => {
    if (threads === undefined && nThreads > 1 && loaded !== undefined) {
      threads = new ScoringThreads(nThreads - 1);
      threads.share(loaded);
    }
    return threads;
  };
  let model: Predictor;
  try {
    if (predictor !== undefined) model = predictor;
    else {
      model = loaded = loadPredictor(options.modelDir);
      threads?.share(loaded);
    }
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
      // A file scored on threads is read at record boundaries into shared buffers of its own, which
      // go to the threads without a copy; stdin comes as the stream cuts it.
      const shared = options.input !== "-" && threads !== undefined;
      const source = {
        chunks: options.input === "-" ? recordChunks(stream(), inputFormat) : fileRecordChunks(options.input, inputFormat, fileChunkBytes, shared),
        shared,
      };
      try {
        header = await scoreRecords(source.chunks, source.shared, inputFormat, outputFormat, scorer, sink, count, pool);
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
