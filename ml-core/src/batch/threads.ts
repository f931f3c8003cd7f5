/**
 * The scoring threads of batch prediction: a fixed pool of worker threads that score chunks
 * (score-chunk.ts) and send back formatted bytes. Each gets the calling thread's predictor tables
 * by message (ChainPredictor.threadTables, ~0.7 MB copied for the flights categorical model) rather than
 * loading the model itself: parsing model.json and building the tables again cost a thread
 * 50–130 ms before its first job (traced), and the threads start early enough that their own
 * start-up overlaps the calling thread's model load. This file is also the worker's entry point.
 *
 * Jobs and results cross in shared memory (SharedArrayBuffer), never by transfer. Transferring a
 * buffer detaches it, and the first detach in a thread invalidates V8's ArrayBufferDetaching
 * protector for good: from then on, that thread's optimized code checks every typed-array access
 * for a detached buffer. With transfers, both threads walked the flights model's trees at 1.2 µs a
 * row against 0.88 on one thread, and a 2-thread run of the holdout took 0.87–0.90 s against
 * 0.72–0.75 s without (same output).
 */
import { isMainThread, parentPort, Worker, workerData, type MessagePort } from "node:worker_threads";
import { HttpError, RowError } from "../codec/errors";
import { Scorer } from "../codec/scoring";
import { ChainPredictor, type ChainTables } from "../model/chain-predictor";
import { scoreChunk, SLICE_ROWS, type ChunkResult, type ChunkSpec } from "./score-chunk";

/** Messages between the main thread and a scoring thread. */
interface ThreadInit {
  readonly mlCorePredictThread: true;
}
/** The first message a thread gets, before any job. */
interface ThreadPredictor {
  readonly tables: ChainTables;
}
interface ThreadJob {
  readonly seq: number;
  readonly spec: ChunkSpec;
  readonly bytes: Uint8Array;
  readonly fileStart: boolean;
}
type ThreadReply =
  | { readonly ready: true }
  | { readonly seq: number; readonly result: ChunkResult }
  | { readonly seq: number; readonly rowError: { row: number; detail: string; column?: { index: number; name: string } } }
  | { readonly seq: number; readonly httpError: { status: number; message: string } }
  | { readonly seq: number; readonly error: { message: string; stack?: string } };

/**
 * Jobs a thread holds at most, the one it scores included: two once it is ready, so that it never
 * waits for the next; one while it starts, so that the calling thread, already scoring, is not left
 * waiting in the end for jobs a slow-starting thread sat on (traced: ~0.2 s on a busy machine).
 */
const JOBS_READY = 2;
const JOBS_STARTING = 1;

/** A fixed pool of worker threads, each with its own copy of the predictor. */
export class ScoringThreads {
  private readonly workers: Worker[];
  /** Per thread: jobs sent and not yet answered, and whether it has its predictor. */
  private readonly held: Int32Array;
  private readonly ready: Uint8Array;
  private readonly waiting = new Map<number, { resolve: (r: ChunkResult) => void; reject: (e: unknown) => void; thread: number }>();
  private seq = 0;

  /** Starts the threads; `share` then gives them the predictor, before any job. */
  constructor(readonly size: number) {
    const workerData: ThreadInit = { mlCorePredictThread: true };
    this.held = new Int32Array(size);
    this.ready = new Uint8Array(size);
    this.workers = Array.from({ length: size }, (_, i) => {
      const w = new Worker(__filename, { workerData });
      w.on("message", (reply: ThreadReply) => {
        if ("ready" in reply) this.ready[i] = 1;
        else this.settle(reply);
      });
      w.on("error", (e) => this.failAll(e));
      return w;
    });
  }

  /** The thread that should take the next job (the least loaded), or -1 when none has room. */
  private roomiest(): number {
    let best = -1;
    for (let i = 0; i < this.size; i++) {
      if (this.held[i]! < (this.ready[i] === 1 ? JOBS_READY : JOBS_STARTING) && (best < 0 || this.held[i]! < this.held[best]!)) best = i;
    }
    return best;
  }

  /** Whether a thread can take another job now. */
  get hasRoom(): boolean {
    return this.roomiest() >= 0;
  }

  /** Gives every thread a copy of `predictor`: call once, before `score`. */
  share(predictor: ChainPredictor): void {
    for (const w of this.workers) w.postMessage({ tables: predictor.threadTables } satisfies ThreadPredictor);
  }

  /**
   * Scores consecutive chunks as one job. A single chunk in shared memory goes to the thread as it
   * is; otherwise the job is copied into shared memory. The caller must not change a job's bytes
   * until its result arrives.
   */
  score(spec: ChunkSpec, chunks: readonly Buffer[], fileStart: boolean): Promise<ChunkResult> {
    const seq = this.seq++;
    const thread = Math.max(0, this.roomiest());
    const bytes = chunks.length === 1 && chunks[0]!.buffer instanceof SharedArrayBuffer ? chunks[0]! : inSharedMemory(chunks);
    const result = new Promise<ChunkResult>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject, thread });
      this.held[thread]!++;
      this.workers[thread]!.postMessage({ seq, spec, bytes, fileStart } satisfies ThreadJob);
    });
    // Results are awaited in input order, so a later chunk may fail before anyone awaits it (or
    // never be awaited, after an earlier failure): that must not count as an unhandled rejection.
    result.catch(() => undefined);
    return result;
  }

  private settle(reply: Exclude<ThreadReply, { ready: true }>): void {
    const waiter = this.waiting.get(reply.seq);
    if (waiter === undefined) return;
    this.waiting.delete(reply.seq);
    this.held[waiter.thread]!--;
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

/** `parts`, one after another, in one buffer of shared memory. */
function inSharedMemory(parts: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(new SharedArrayBuffer(parts.reduce((n, p) => n + p.length, 0)));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return bytes;
}

/** The body of a scoring thread: take the predictor, then score chunks as they come. */
function runScoringThread(): void {
  let scorer: Scorer | undefined;
  const port = parentPort as MessagePort;
  port.on("message", (message: ThreadJob | ThreadPredictor) => {
    if ("tables" in message) {
      scorer = new Scorer(new ChainPredictor(message.tables), SLICE_ROWS);
      port.postMessage({ ready: true } satisfies ThreadReply);
      return;
    }
    const job = message;
    const { seq } = job;
    try {
      const buf = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
      if (scorer === undefined) throw new Error("a scoring thread got a job before its predictor");
      const { parts, rows, lines } = scoreChunk(scorer, job.spec, buf, job.fileStart);
      // One buffer in shared memory: the same bytes as the parts written one after another.
      port.postMessage({ seq, result: { parts: [inSharedMemory(parts)], rows, lines } } satisfies ThreadReply);
    } catch (e) {
      if (e instanceof RowError) port.postMessage({ seq, rowError: { row: e.row, detail: e.detail, column: e.column } } satisfies ThreadReply);
      else if (e instanceof HttpError) port.postMessage({ seq, httpError: { status: e.status, message: e.message } } satisfies ThreadReply);
      else port.postMessage({ seq, error: { message: (e as Error).message, stack: (e as Error).stack } } satisfies ThreadReply);
    }
  });
}

if (!isMainThread && (workerData as Partial<ThreadInit> | undefined)?.mlCorePredictThread === true) {
  runScoringThread();
}
