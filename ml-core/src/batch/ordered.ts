/**
 * Streams chunks of records through the scorer and writes the predictions in input order, scoring
 * on this thread and, for inputs of more than one chunk, on a pool of scoring threads.
 */
import { HttpError, RowError } from "../codec/errors";
import { headerLayout, readRecord } from "../codec/csv";
import type { Format } from "../codec/media-types";
import type { RowCount, Scorer } from "../codec/scoring";
import { scoreChunk, type ChunkResult, type ChunkSpec } from "./score-chunk";
import type { Sink } from "./sink";
import type { ScoringThreads } from "./threads";

/** Bytes of input a scoring thread gets at a time, at least (a job ends at a chunk's end). */
const JOB_BYTES = 1024 * 1024;
/**
 * Bytes of input whose predictions may wait to be written, behind a job still being scored. This
 * thread keeps scoring while a worker holds the oldest job, instead of waiting for it: with room
 * for only a few jobs, it idled ~0.2 s of a 2-thread run (traced). Bounds memory all the same.
 */
const AHEAD_BYTES = 32 * 1024 * 1024;

/**
 * Streams CSV or JSON lines through the scorer. A file of more than one chunk is scored by a pool of
 * threads (the predictor is CPU-bound and a file job has nothing else to wait on), with results
 * written in input order. `shared` says the chunks are reads of their own in shared memory, each a
 * job as it is. Returns whether a CSV header was found.
 */
export async function scoreRecords(
  chunks: AsyncGenerator<Buffer>,
  shared: boolean,
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

  // Results in input order; each job is scored by a worker thread with room (threads.ts), or else
  // here. Scoring here too saves a worker's start-up (~150 ms of a CPU: its own
  // modules and copy of the model) and puts this thread, otherwise idle between reads and writes,
  // to work while the workers start.
  const inFlight: { readonly result: Promise<ChunkResult>; readonly bytes: number; settled: boolean }[] = [];
  let inFlightBytes = 0;
  const drainOne = async (): Promise<void> => {
    let result: ChunkResult;
    const entry = inFlight.shift() as (typeof inFlight)[number];
    inFlightBytes -= entry.bytes;
    try {
      result = await entry.result;
    } catch (e) {
      throw renumber(e);
    }
    await emit(result);
  };
  const track = (result: Promise<ChunkResult>, bytes: number): void => {
    const entry = { result, bytes, settled: false };
    inFlightBytes += bytes;
    const settle = (): void => {
      entry.settled = true;
    };
    result.then(settle, settle);
    inFlight.push(entry);
  };
  // A file's chunks, each a read of its own in shared memory, go to a thread as they are. Stdin's
  // come as a large chunk and a one-record seam chunk (the record split between two reads): sent
  // alone, round-robin, every seam went to the same thread, which then idled while the other scored
  // every large chunk; so those are joined into jobs of at least JOB_BYTES, in the one copy that
  // puts a job in shared memory.
  let job: Buffer[] = [];
  let jobBytes = 0;
  let fileStart = !header;
  const dispatch = async (): Promise<void> => {
    if (threads.hasRoom) {
      track(threads.score(spec, job, fileStart), jobBytes);
    } else {
      const here = job.length === 1 ? job[0]! : Buffer.concat(job, jobBytes);
      let result: Promise<ChunkResult>;
      try {
        result = Promise.resolve(scoreChunk(scorer, spec, here, fileStart));
      } catch (e) {
        // Reported in input order, after the results of earlier jobs (track handles the rejection).
        result = Promise.reject(e);
      }
      track(result, jobBytes);
    }
    fileStart = false;
    job = [];
    jobBytes = 0;
    // Write what is done, in order; wait only when too much is pending.
    while (inFlight.length > 0 && inFlight[0]!.settled) await drainOne();
    while (inFlight.length > 0 && inFlightBytes > AHEAD_BYTES) await drainOne();
  };
  const add = async (b: Buffer): Promise<void> => {
    job.push(b);
    jobBytes += b.length;
    if (shared || jobBytes >= JOB_BYTES) await dispatch();
  };
  await add(buf);
  await add(second.value);
  for await (const next of chunks) await add(next);
  if (job.length > 0) await dispatch();
  while (inFlight.length > 0) await drainOne();
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
