/**
 * `readBinnedTrainingData` on several threads, with the bits of the one-thread read. The files are
 * cut into units at line ends; every phase hands its tasks out from one shared cursor, and the main
 * thread works through them too (so a worker that starts late costs nothing):
 *
 * 1. count: each unit is decoded with categories learned locally, in the order first seen there;
 *    the unit reports its rows, each row's byte offset, its categories and their counts, its label
 *    texts, and where its last record ended. Units taken in file order then give the categories
 *    and label texts in the order one thread sees them, so their codes are the same.
 * 2. sample: the reservoir sample's rows are those of the one-thread read (its random stream
 *    depends on the row index only); each unit parses just its sampled rows, found by offset.
 * 3. thresholds: one task per numeric feature.
 * 4. bin: each unit is decoded again and written into shared bins, labels and weights; one more
 *    task hashes the files.
 *
 * A cut inside a quoted field shows up as a unit that does not end where the next begins; then,
 * and on any error in the data, the caller reads on one thread (which names the exact line).
 * This file is also the workers' entry point.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { isMainThread, MessageChannel, receiveMessageOnPort, Worker, workerData, type MessagePort } from "node:worker_threads";
import { BINNING_SAMPLE, BinMapper, numericBin, thresholdsInPlace, type FeatureBins } from "../gbdt/binning";
import type { Random } from "../gbdt/random";
import { MISSING_BIN } from "../gbdt/types";
import { readCsvRecordsAt } from "../data/csv";
import { RowDecoder, scanRange, type DataSchema, type LabelColumn } from "../data/table";
import { parseNumberBytes } from "../data/values";
import { hashFileInto } from "./manifest";

// Indexed reads carry `!` (noUncheckedIndexedAccess): units, rows and features index arrays sized
// here. A check per read would cost the hot loops; the emitted JavaScript is unchanged.

/**
 * Below this many bytes the one-thread read is as fast or faster than starting threads: on 2
 * quiet vCPUs, 500k flights rows (13.6 MB) took 0.51 s on one thread and 0.61-0.70 s on two (and
 * 37 MB more memory), while 2.4 M rows (66 MB) took 2.31 s and 1.45-1.69 s.
 */
export const MIN_PARALLEL_BYTES = 32 << 20;
/** Row offsets within a unit are 32-bit. */
const MAX_UNIT_BYTES = 256 << 20;

/** A byte range of a file that starts at a line start (a record start unless a quote spans it). */
export interface Unit {
  readonly file: string;
  readonly start: number;
  readonly stop: number;
}

/** The data read by phase 1 and written in phase 4, shared by every thread. */
interface Shared {
  readonly schema: DataSchema;
  readonly numeric: readonly number[];
  /** Per numeric feature, the sample's values by slot; then the sample's weights. */
  readonly sample: readonly Float64Array[];
  readonly sampleWeights: Float64Array | undefined;
  readonly sampleRows: number;
  readonly maxBins: number;
  readonly nRows: number;
  readonly bins: Uint8Array;
  readonly labelNum: Float64Array;
  readonly labelCode: Int32Array | undefined;
  readonly weights: Float64Array | undefined;
  readonly features: readonly FeatureBins[];
}

type Task =
  | { readonly kind: "count"; readonly unit: Unit }
  | { readonly kind: "sample"; readonly file: string; readonly offsets: Float64Array; readonly slots: Int32Array }
  | { readonly kind: "thresholds"; readonly k: number }
  | {
      readonly kind: "bin";
      readonly unit: Unit;
      readonly rowStart: number;
      /** Per feature: local category code -> final code (NaN: dropped); undefined for numeric ones. */
      readonly remaps: readonly (Float64Array | undefined)[];
      /** Local label text code -> channel code. */
      readonly labelRemap: Int32Array;
    }
  | { readonly kind: "hash"; readonly files: readonly string[] };

interface CountResult {
  readonly rows: number;
  readonly next: number;
  /** Each row's offset from the unit's start, in shared memory (see runWorker). */
  readonly offsets: Uint32Array<SharedArrayBuffer>;
  readonly learned: readonly (string[] | undefined)[];
  readonly counts: readonly (number[] | undefined)[];
  readonly labelTexts: readonly string[];
}

type Outcome = { readonly ok: unknown } | { readonly error: { readonly name: string; readonly message: string } };

/** A unit's data did not read as it would on one thread: read on one thread instead. */
export class OneThreadInstead extends Error {
  override readonly name = "OneThreadInstead";
}

/**
 * Cuts files into units of about `unitBytes` (default `total / (4 × threads)`, at least 1 MiB: a few
 * units per thread even out their speeds), each starting after a line end.
 */
export function splitUnits(files: readonly string[], sizes: readonly number[], threads: number, unitBytes?: number): Unit[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const target = Math.min(MAX_UNIT_BYTES, unitBytes ?? Math.max(1 << 20, Math.ceil(total / (4 * threads))));
  const units: Unit[] = [];
  files.forEach((file, i) => {
    const size = sizes[i]!;
    const pieces = Math.ceil(size / target);
    const fd = fs.openSync(file, "r");
    try {
      let start = 0;
      for (let k = 1; k < pieces && start < size; k++) {
        const cut = lineStartAfter(fd, Math.max(start + 1, Math.round((k * size) / pieces)), size);
        if (cut >= size) break;
        units.push({ file, start, stop: cut });
        start = cut;
      }
      units.push({ file, start, stop: size });
    } finally {
      fs.closeSync(fd);
    }
  });
  return units;
}

/** The first position at or after `p` that follows a line feed (the file's size if none does). */
function lineStartAfter(fd: number, p: number, size: number): number {
  const buf = Buffer.allocUnsafe(1 << 16);
  for (let at = p - 1; at < size; at += buf.length) {
    const n = fs.readSync(fd, buf, 0, buf.length, at);
    const i = buf.subarray(0, n).indexOf(10);
    if (i >= 0) return at + i + 1;
    if (n === 0) break;
  }
  return size;
}

/**
 * Phase 1 on the threads, then the reservoir sample, thresholds and bins. Returns what the
 * one-thread read returns, or throws `OneThreadInstead`.
 */
export function readBinnedInParallel(
  files: readonly string[],
  sizes: readonly number[],
  inferred: DataSchema,
  maxBins: number,
  rng: Random,
  threads: number,
  unitBytes: number | undefined,
  finish: (learned: string[][], counts: number[][]) => { schema: DataSchema; remaps: (Float64Array | undefined)[] },
): { schema: DataSchema; mapper: BinMapper; nRows: number; bins: Uint8Array; label: LabelColumn; weights?: Float64Array; dataHash: string } {
  const units = splitUnits(files, sizes, threads, unitBytes);
  const pool = new ReadThreads(Math.min(threads, units.length + 1) - 1);
  try {
    const nF = inferred.features.length;
    const numeric = inferred.features.map((f, j) => (f.kind === "numeric" ? j : -1)).filter((j) => j >= 0);
    const weighted = inferred.weightColumn >= 0;
    const base = { schema: inferred, numeric, maxBins } as const;

    // 1. count
    const counted = pool.run(
      base,
      units.map((unit): Task => ({ kind: "count", unit })),
    ) as CountResult[];
    units.forEach((u, i) => {
      const expected = i + 1 < units.length && units[i + 1]!.file === u.file ? units[i + 1]!.start : sizes[files.indexOf(u.file)]!;
      if (counted[i]!.next !== expected) throw new OneThreadInstead(`${u.file}: a quoted field spans byte ${u.stop}`);
    });
    const rowStarts: number[] = [];
    let n = 0;
    for (const c of counted) {
      rowStarts.push(n);
      n += c.rows;
    }
    if (n === 0) throw new OneThreadInstead("no rows");
    // Categories and label texts in the order the units, read in turn, first show them.
    const learned = inferred.features.map(() => [] as string[]);
    const counts = inferred.features.map(() => [] as number[]);
    const codeMaps = inferred.features.map(() => new Map<string, number>());
    const labelTexts: string[] = [];
    const labelCodes = new Map<string, number>();
    const localToGlobal = counted.map((c) =>
      c.learned.map((local, j) => {
        if (local === undefined) return undefined;
        const map = new Int32Array(local.length);
        local.forEach((text, i) => {
          let code = codeMaps[j]!.get(text);
          if (code === undefined) {
            code = learned[j]!.length;
            learned[j]!.push(text);
            codeMaps[j]!.set(text, code);
          }
          map[i] = code;
          counts[j]![code] = (counts[j]![code] ?? 0) + c.counts[j]![i]!;
        });
        return map;
      }),
    );
    const labelRemaps = counted.map((c) =>
      Int32Array.from(c.labelTexts, (text) => {
        let code = labelCodes.get(text);
        if (code === undefined) {
          code = labelTexts.length;
          labelTexts.push(text);
          labelCodes.set(text, code);
        }
        return code;
      }),
    );
    const { schema, remaps } = finish(learned, counts);

    // 2. sample: algorithm R as the one-thread read runs it (row i ≥ K replaces slot rng.int(i + 1) if below K).
    const K = BINNING_SAMPLE;
    const sampleRows = Math.min(n, K);
    const slotRow = Int32Array.from({ length: sampleRows }, (_, i) => i);
    for (let row = K; row < n; row++) {
      const slot = rng.int(row + 1);
      if (slot < K) slotRow[slot] = row;
    }
    const rowSlot = new Int32Array(n).fill(-1);
    for (let s = 0; s < sampleRows; s++) rowSlot[slotRow[s]!] = s;
    const sampleTasks: Task[] = [];
    counted.forEach((c, u) => {
      const offsets: number[] = [];
      const slots: number[] = [];
      for (let i = 0; i < c.rows; i++) {
        const s = rowSlot[rowStarts[u]! + i]!;
        if (s >= 0) {
          offsets.push(units[u]!.start + c.offsets[i]!);
          slots.push(s);
        }
      }
      if (offsets.length > 0) sampleTasks.push({ kind: "sample", file: units[u]!.file, offsets: Float64Array.from(offsets), slots: Int32Array.from(slots) });
    });
    const sample = numeric.map(() => sharedArray(Float64Array, sampleRows));
    const sampleWeights = weighted ? sharedArray(Float64Array, sampleRows) : undefined;
    const withSample = { ...base, sample, sampleWeights, sampleRows };
    pool.run(withSample, sampleTasks);

    // 3. thresholds, categories as the one-thread read bins them
    const thresholds = pool.run(
      withSample,
      numeric.map((_, k): Task => ({ kind: "thresholds", k })),
    ) as Float64Array[];
    const mapper = new BinMapper(
      schema.features.map((f, j): FeatureBins => {
        if (f.kind === "categorical") return { categorical: true, nBins: Math.max((f.categories as string[]).length, 1), thresholds: new Float64Array(0) };
        const t = thresholds[numeric.indexOf(j)]!;
        return { categorical: false, nBins: t.length + 1, thresholds: t };
      }),
    );

    // 4. bins, labels, weights, and the hash
    const shared: Shared = {
      ...withSample,
      nRows: n,
      bins: sharedArray(Uint8Array, nF * n),
      labelNum: sharedArray(Float64Array, n),
      labelCode: labelTexts.length > 0 ? sharedArray(Int32Array, n) : undefined,
      weights: weighted ? sharedArray(Float64Array, n) : undefined,
      features: mapper.features,
    };
    const binTasks: Task[] = [
      { kind: "hash", files },
      ...units.map((unit, u): Task => ({
        kind: "bin",
        unit,
        rowStart: rowStarts[u]!,
        remaps: localToGlobal[u]!.map((map, j) => (map === undefined ? undefined : Float64Array.from(map, (g) => remaps[j]![g]!))),
        labelRemap: labelRemaps[u]!,
      })),
    ];
    const [hash] = pool.run(shared, binTasks) as [string];
    return {
      schema,
      mapper,
      nRows: n,
      bins: shared.bins,
      label: { numeric: shared.labelNum, textCode: shared.labelCode, texts: labelTexts },
      weights: shared.weights,
      dataHash: `sha256:${hash}`,
    };
  } finally {
    pool.close();
  }
}

function sharedArray<T extends Uint8Array | Int32Array | Float64Array>(
  Ctor: { new (b: SharedArrayBuffer): T; readonly BYTES_PER_ELEMENT: number },
  length: number,
): T {
  return new Ctor(new SharedArrayBuffer(length * Ctor.BYTES_PER_ELEMENT));
}

/** Control slots: per phase, the next task to claim, then per phase, the tasks done. */
const PHASES = 8;

interface PhaseMessage {
  readonly phase: number;
  readonly shared: Partial<Shared> & Pick<Shared, "schema" | "numeric" | "maxBins">;
  readonly tasks: readonly Task[];
}

/** Worker threads that run a phase's tasks alongside the main thread, which waits for them. */
class ReadThreads {
  private readonly control = new Int32Array(new SharedArrayBuffer(2 * PHASES * 4));
  private readonly workers: Worker[];
  private readonly ports: MessagePort[] = [];
  private phase = 0;

  constructor(nWorkers: number) {
    this.workers = Array.from({ length: nWorkers }, () => {
      const { port1, port2 } = new MessageChannel();
      this.ports.push(port1);
      const w = new Worker(workerEntry(), { workerData: { mlCoreReadThread: true, control: this.control, port: port2 }, transferList: [port2] });
      // A worker must never keep the process alive.
      w.unref();
      port1.unref();
      return w;
    });
  }

  /**
   * Runs `tasks` on every thread; returns their results in task order. Data errors of the first
   * phase, which reads every row, throw `OneThreadInstead`; later phases use the random stream.
   */
  run(shared: PhaseMessage["shared"], tasks: readonly Task[]): unknown[] {
    const phase = this.phase++;
    if (phase >= PHASES) throw new Error("too many phases");
    const message: PhaseMessage = { phase, shared, tasks };
    for (const p of this.ports) p.postMessage(message);
    const outcomes: Outcome[] = [];
    runTasks(this.control, message, (i, o) => (outcomes[i] = o));
    const c = this.control;
    for (let d = Atomics.load(c, PHASES + phase); d < tasks.length; d = Atomics.load(c, PHASES + phase)) Atomics.wait(c, PHASES + phase, d);
    for (const p of this.ports) {
      for (let m = receiveMessageOnPort(p); m !== undefined; m = receiveMessageOnPort(p)) {
        const { i, outcome } = m.message as { i: number; outcome: Outcome };
        outcomes[i] = outcome;
      }
    }
    return outcomes.map((o) => {
      if ("ok" in o) return o.ok;
      // Bad data (or a unit cut inside a quoted field): the one-thread read finds and names it.
      if (phase === 0 && (o.error.name === "DataError" || o.error.name === "CsvError")) throw new OneThreadInstead(o.error.message);
      throw new Error(`a reading thread failed: ${o.error.message}`);
    });
  }

  close(): void {
    for (const w of this.workers) void w.terminate();
  }
}

/** Claims and runs tasks of the message's phase until none is left. */
function runTasks(c: Int32Array, m: PhaseMessage, done: (i: number, o: Outcome) => void): void {
  for (let i = Atomics.add(c, m.phase, 1); i < m.tasks.length; i = Atomics.add(c, m.phase, 1)) {
    let outcome: Outcome;
    try {
      outcome = { ok: runTask(m.shared as Shared, m.tasks[i]!) };
    } catch (e) {
      outcome = { error: { name: (e as Error).name, message: (e as Error).message } };
    }
    done(i, outcome);
    Atomics.add(c, PHASES + m.phase, 1);
    Atomics.notify(c, PHASES + m.phase);
  }
}

function runTask(s: Shared, t: Task): unknown {
  switch (t.kind) {
    case "count":
      return countUnit(s, t.unit);
    case "sample":
      return readSample(s, t.file, t.offsets, t.slots);
    case "thresholds":
      // The sample is scratch: its thresholds are found in place.
      return thresholdsInPlace(s.sample[t.k]!, s.sampleRows, s.maxBins, s.sampleWeights);
    case "bin":
      return binUnit(s, t.unit, t.rowStart, t.remaps, t.labelRemap);
    case "hash": {
      const hash = createHash("sha256");
      for (const file of t.files) hashFileInto(hash, file);
      return hash.digest("hex");
    }
  }
}

/** A decoder that learns the unit's categories and label texts in the order it sees them. */
function localDecoder(schema: DataSchema): RowDecoder {
  const categorical = schema.features.map((f) => f.kind === "categorical");
  return new RowDecoder(
    schema,
    categorical.map((c) => (c ? new Map<string, number>() : undefined)),
    categorical.map((c) => (c ? [] : undefined)),
    true,
    { texts: [], codes: new Map() },
  );
}

function countUnit(s: Shared, unit: Unit): CountResult {
  const d = localDecoder(s.schema);
  const nF = s.schema.features.length;
  const counts = d.learned.map((l) => (l === undefined ? undefined : ([] as number[])));
  let offsets = new Uint32Array(1024);
  let rows = 0;
  const next = scanRange(unit.file, unit.start, unit.stop, s.schema, d, (r) => {
    const values = d.values;
    for (let j = 0; j < nF; j++) {
      const c = counts[j];
      const v = values[j]!;
      if (c !== undefined && v === v) c[v] = (c[v] ?? 0) + 1;
    }
    if (rows === offsets.length) {
      const bigger = new Uint32Array(rows * 2);
      bigger.set(offsets);
      offsets = bigger;
    }
    offsets[rows++] = r.offset - unit.start;
  });
  const shared = new Uint32Array(new SharedArrayBuffer(rows * Uint32Array.BYTES_PER_ELEMENT));
  shared.set(offsets.subarray(0, rows));
  return { rows, next, offsets: shared, learned: d.learned, counts, labelTexts: d.label.texts };
}

function readSample(s: Shared, file: string, offsets: Float64Array, slots: Int32Array): null {
  const { schema, numeric, sample, sampleWeights } = s;
  const wc = schema.weightColumn;
  readCsvRecordsAt(file, offsets, (r, k) => {
    const slot = slots[k]!;
    for (let i = 0; i < numeric.length; i++) {
      const c = schema.features[numeric[i]!]!.column;
      sample[i]![slot] = parseNumberBytes(r.buf, r.starts[c]!, r.ends[c]!)!;
    }
    if (sampleWeights !== undefined) sampleWeights[slot] = parseNumberBytes(r.buf, r.starts[wc]!, r.ends[wc]!)!;
  });
  return null;
}

function binUnit(s: Shared, unit: Unit, rowStart: number, remaps: readonly (Float64Array | undefined)[], labelRemap: Int32Array): null {
  const d = localDecoder(s.schema);
  const { bins, labelNum, labelCode, weights, nRows: n, features } = s;
  const nF = features.length;
  // BinMapper.binOfValue, with its lookups hoisted out of the loop over rows.
  const thresholds = features.map((f) => f.thresholds);
  const nBins = features.map((f) => f.nBins);
  let row = rowStart;
  scanRange(unit.file, unit.start, unit.stop, s.schema, d, () => {
    const values = d.values;
    labelNum[row] = d.labelNum;
    if (labelCode !== undefined) labelCode[row] = d.labelCode >= 0 ? labelRemap[d.labelCode]! : -1;
    if (weights !== undefined) weights[row] = d.weight;
    for (let j = 0; j < nF; j++) {
      const remap = remaps[j];
      let v = values[j]!;
      let bin = MISSING_BIN;
      if (remap !== undefined) {
        if (v === v) {
          v = remap[v]!;
          if (v === v && v < nBins[j]!) bin = v;
        }
      } else if (v === v) {
        bin = numericBin(thresholds[j]!, v);
      }
      bins[j * n + row] = bin;
    }
    row++;
  });
  return null;
}

function workerEntry(): string {
  if (!__filename.endsWith(".ts")) return __filename;
  return path.join(__dirname, "..", "..", "dist", "train", "binned-read-threads.js");
}

function runWorker(init: { control: Int32Array; port: MessagePort }): void {
  init.port.on("message", (m: PhaseMessage) =>
    runTasks(init.control, m, (i, outcome) => {
      // A unit's row offsets reach the main thread in shared memory, neither copied nor transferred:
      // a transfer detaches the buffer, after which this thread's optimized code checks every
      // typed-array access for a detached buffer (batch/threads.ts says what that cost).
      init.port.postMessage({ i, outcome });
    }),
  );
}

if (!isMainThread && (workerData as { mlCoreReadThread?: boolean } | null)?.mlCoreReadThread === true) {
  runWorker(workerData as { control: Int32Array; port: MessagePort });
}
