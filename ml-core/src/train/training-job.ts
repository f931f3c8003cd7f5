/**
 * One training job, whichever way it was started (SageMaker contract or the convenience CLI form):
 * hyperparameters → data → rounds (with checkpoint on request) → model directory and metric lines.
 */
import { readBinnedTable, readBinnedTrainingData, type BinnedTable } from "./binned-data";
import type { BinMapper } from "../gbdt/binning";
import type { DataSchema } from "../data/table";
import { Random } from "../gbdt/random";
import { formatMetricLine } from "../eval/metrics";
import { binningSeed, fingerprintOf, TrainingSession, type Checkpoint } from "./session";
import { saveModel } from "../model/save";
import { loadCheckpoint, removeCheckpoint, saveCheckpoint } from "./checkpoint";
import { parseHyperparameters } from "./hyperparameters";

export interface TrainingJobSpec {
  readonly trainFiles: readonly string[];
  readonly validationFiles?: readonly string[];
  /** As read from hyperparameters.json or --hp (values are strings). */
  readonly hyperparameters: Record<string, unknown>;
  readonly modelDir: string;
  /** Where to save a checkpoint on stop and look for one to resume; none: no checkpointing. */
  readonly checkpointDir?: string;
}

export interface JobIO {
  /** Human progress (stderr). */
  progress(line: string): void;
  /** A metric line for SageMaker's regexes (stdout). */
  metric(line: string): void;
  /** True once the job was asked to stop (SIGTERM). Polled between rounds. */
  stopRequested(): boolean;
  /** Called once the training channel is read into bins (the baseline statistics are taken from them). */
  trainingData?(data: { schema: DataSchema; mapper: BinMapper; table: BinnedTable }): void;
}

export type JobOutcome =
  | {
      readonly status: "completed";
      readonly modelDir: string;
      readonly objective: string;
      readonly classes: string[] | null;
      readonly rounds: number;
      readonly roundsRun: number;
      readonly resumedFromRound: number | null;
      readonly metrics: Record<string, number>;
      readonly seconds: number;
    }
  | { readonly status: "stopped"; readonly checkpoint: string; readonly round: number; readonly seconds: number };

/**
 * Reads the channels and builds the session (resuming from a matching checkpoint). A function of
 * its own so that the tables go out of scope once the session holds what it needs.
 */
function startSession(
  spec: TrainingJobSpec,
  hp: ReturnType<typeof parseHyperparameters>,
  io: JobIO,
  seconds: () => number,
): { session: TrainingSession; resume: Checkpoint | undefined } {
  const layout = { ...hp.layout, maxCategories: hp.params.maxBins };
  const {
    schema,
    mapper,
    table: train,
  } = readBinnedTrainingData(spec.trainFiles, "train", layout, hp.params.maxBins, new Random(binningSeed(hp.params.seed)), {
    threads: hp.params.threads,
  });
  io.trainingData?.({ schema, mapper, table: train });
  const validation = spec.validationFiles && spec.validationFiles.length > 0 ? readBinnedTable(spec.validationFiles, "validation", schema, mapper) : undefined;
  io.progress(
    `read ${train.nRows} training rows${validation ? ` and ${validation.nRows} validation rows` : ""}; ` +
      `${schema.features.length} features (${schema.features.filter((f) => f.kind === "categorical").length} categorical), label "${schema.label}" (${seconds()}s)`,
  );
  let resume: Checkpoint | undefined;
  if (spec.checkpointDir !== undefined) {
    const cp = loadCheckpoint(spec.checkpointDir);
    if (cp !== undefined) {
      if (cp.fingerprint === fingerprintOf({ train, validation, hyperparameters: hp.resolved })) {
        resume = cp;
        io.progress(`resuming from the checkpoint at round ${cp.state.round}`);
      } else {
        io.progress(`ignoring the checkpoint in ${spec.checkpointDir}: it belongs to other data or hyperparameters`);
      }
    }
  }
  const session = new TrainingSession({ schema, mapper, train, validation, params: hp.params, hyperparameters: hp.resolved }, resume);
  return { session, resume };
}

export async function runTrainingJob(spec: TrainingJobSpec, io: JobIO): Promise<JobOutcome> {
  const t0 = performance.now();
  const seconds = (): number => Math.round((performance.now() - t0) / 10) / 100;
  const hp = parseHyperparameters(spec.hyperparameters);
  const { session, resume } = startSession(spec, hp, io, seconds);
  io.progress(`objective ${session.objective}${session.classes ? ` (classes: ${session.classes.join(", ")})` : ""}`);

  const interval = hp.checkpointInterval;
  const periodic = interval.rounds > 0 || interval.seconds > 0;
  if (periodic && spec.checkpointDir === undefined)
    throw new Error("checkpoint_interval needs a checkpoint directory (--checkpoint-dir, or SageMaker's checkpoints/)");
  let lastSaved = performance.now();
  const numRound = hp.params.numRound;
  const group = Math.max(1, Math.floor(numRound / 10));
  const stop = (): JobOutcome => {
    const file = saveCheckpoint(spec.checkpointDir as string, session.checkpoint());
    io.progress(`stop requested: saved a checkpoint at round ${session.round} to ${file}`);
    return { status: "stopped", checkpoint: file, round: session.round, seconds: seconds() };
  };
  try {
    return await runRounds();
  } finally {
    session.close();
  }

  async function runRounds(): Promise<JobOutcome> {
    while (!session.done) {
      if (io.stopRequested() && spec.checkpointDir !== undefined) return stop();
      session.step();
      if (
        periodic &&
        !session.done &&
        (interval.rounds > 0 ? session.round % interval.rounds === 0 : performance.now() - lastSaved >= interval.seconds * 1000)
      ) {
        const file = saveCheckpoint(spec.checkpointDir as string, session.checkpoint());
        lastSaved = performance.now();
        io.progress(`saved a checkpoint at round ${session.round} to ${file}`);
      }
      if (session.round % group === 0 || session.done) {
        const p = session.progress();
        io.progress(
          `[round ${p.round}/${p.numRound}] train_loss=${p.trainLoss.toFixed(6)}` +
            (p.validationLoss !== undefined ? ` validation_loss=${p.validationLoss.toFixed(6)}` : "") +
            (p.validationMetric !== undefined ? ` validation_${p.validationMetric.name}=${p.validationMetric.value.toFixed(6)}` : "") +
            ` ${seconds()}s`,
        );
      }
      // Let a pending SIGTERM handler run: the rounds are synchronous CPU work.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (io.stopRequested() && spec.checkpointDir !== undefined) return stop();

    const result = session.finish();
    const report = { ...result.metrics, rounds: result.model.training.rounds, loss_history: result.lossHistory };
    saveModel(spec.modelDir, result.model, report);
    for (const [name, value] of Object.entries(result.metrics)) {
      const colon = name.indexOf(":");
      io.metric(formatMetricLine(name.slice(0, colon), name.slice(colon + 1), value));
    }
    if (spec.checkpointDir !== undefined) removeCheckpoint(spec.checkpointDir);
    return {
      status: "completed",
      modelDir: spec.modelDir,
      objective: session.objective,
      classes: session.classes,
      rounds: result.model.training.rounds,
      roundsRun: result.model.training.roundsRun,
      resumedFromRound: resume?.state.round ?? null,
      metrics: result.metrics,
      seconds: seconds(),
    };
  }
}
