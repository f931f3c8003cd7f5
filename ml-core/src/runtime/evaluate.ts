/**
 * `ml-core evaluate`: scores a labelled channel with a trained model and writes the metrics report
 * a pipeline's quality gate reads (the SageMaker Processing step of infra's training pipeline):
 * `evaluation.json` (`{ "<channel>": { "<metric>": value } }`, for JsonGet paths such as
 * `validation.auc`) and `metrics.json` (the flat `<channel>:<metric>` map training writes, the names
 * the MetricDefinitions and the promotion gates use).
 */
import { Command } from "commander";
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import * as fs from "node:fs";
import * as path from "node:path";
import { fieldText, readCsv } from "../data/csv";
import { computeMetrics } from "../eval/metrics";
import { loadModel, loadPredictor } from "../model/load";
import { METRICS_FILE, MODEL_FILE } from "../model/format";
import { listDataFiles, VALIDATION_CHANNEL } from "./contract";

/** The report file the pipeline's PropertyFile names. */
export const EVALUATION_FILE = "evaluation.json";

export interface EvaluateOptions {
  readonly modelDir: string;
  readonly data: string;
  readonly output: string;
  /** The channel the metrics are reported under. @default "validation" */
  readonly channel?: string;
}

export interface EvaluationReport {
  readonly channel: string;
  readonly rows: number;
  /** `<channel>:<metric>` → value, as training's metrics.json. */
  readonly metrics: Record<string, number>;
}

/** What SageMaker packs a training job's model directory into. */
const FILES_MODEL_ARTIFACT = "model.tar.gz";

/** Rows scored per predict call. */
const BATCH_ROWS = 4096;

/** Scores every row of the CSV files under `data` and computes the objective's metrics. */
export function evaluateModel(modelDir: string, data: string, channel = VALIDATION_CHANNEL): EvaluationReport {
  const model = loadModel(modelDir);
  const predictor = loadPredictor(modelDir);
  const files = listDataFiles(path.resolve(data));
  if (files.length === 0) throw new Error(`--data ${data}: no CSV files found`);
  const nFeatures = predictor.features.length;
  const classes = predictor.classes;
  const nOut = classes ? classes.length : 1;
  const labels: number[] = [];
  const preds: number[] = [];
  let x = new Float64Array(BATCH_ROWS * nFeatures);
  let inBatch = 0;
  const flush = (): void => {
    if (inBatch === 0) return;
    const p = predictor.predict(x, inBatch);
    for (let i = 0; i < inBatch * nOut; i++) preds.push(p[i]!);
    inBatch = 0;
    x = new Float64Array(BATCH_ROWS * nFeatures);
  };
  for (const file of files) {
    // Columns by name when the file has a header (training's layout); else label first, then the features in order.
    let columnOf: number[] | undefined;
    let labelColumn = 0;
    readCsv(file, (r) => {
      if (columnOf === undefined) {
        const names = Array.from({ length: r.nFields }, (_, i) => fieldText(r, i));
        if (names.includes(model.label)) {
          labelColumn = names.indexOf(model.label);
          columnOf = predictor.features.map((f) => {
            const at = names.indexOf(f.name);
            if (at < 0) throw new Error(`${file}:${r.line}: the header has no column "${f.name}" (a feature of the model)`);
            return at;
          });
          return;
        }
        columnOf = predictor.features.map((_, i) => i + 1);
      }
      if (r.nFields < nFeatures + 1) throw new Error(`${file}:${r.line}: ${r.nFields} fields, expected ${nFeatures + 1} (label and features)`);
      const raw = fieldText(r, labelColumn);
      labels.push(labelIndex(raw, classes, `${file}:${r.line}:${labelColumn + 1}`));
      for (let j = 0; j < nFeatures; j++) {
        try {
          x[inBatch * nFeatures + j] = predictor.encode(j, fieldText(r, columnOf[j]!));
        } catch (e) {
          throw new Error(`${file}:${r.line}:${columnOf[j]! + 1}: ${(e as Error).message}`);
        }
      }
      if (++inBatch === BATCH_ROWS) flush();
    });
  }
  flush();
  if (labels.length === 0) throw new Error(`--data ${data}: no rows to evaluate`);
  const values = computeMetrics(model.objective, Float64Array.from(labels), Float64Array.from(preds), nOut);
  const metrics = Object.fromEntries(Object.entries(values).map(([name, v]) => [`${channel}:${name}`, v]));
  return { channel, rows: labels.length, metrics };
}

/** A label as the metrics take it: the class index (classification) or the value (regression). */
function labelIndex(raw: string, classes: readonly string[] | undefined, where: string): number {
  if (!classes) {
    const v = Number(raw);
    if (raw.trim() === "" || Number.isNaN(v)) throw new Error(`${where}: label ${JSON.stringify(raw)} is not a number`);
    return v;
  }
  let k = classes.indexOf(raw);
  // "1.0" is class "1": numeric labels compare as numbers.
  if (k < 0 && raw.trim() !== "" && !Number.isNaN(Number(raw))) k = classes.findIndex((c) => Number(c) === Number(raw));
  if (k < 0) throw new Error(`${where}: label ${JSON.stringify(raw)} is not one of the model's classes (${classes.join(", ")})`);
  return k;
}

/** Writes `evaluation.json` (nested, for JsonGet) and `metrics.json` (flat) into `outputDir`. */
export function writeReport(report: EvaluationReport, outputDir: string): void {
  fs.mkdirSync(outputDir, { recursive: true });
  const nested: Record<string, Record<string, number>> = {};
  for (const [key, value] of Object.entries(report.metrics)) {
    const [channel, name] = key.split(":") as [string, string];
    (nested[channel] ??= {})[name] = value;
  }
  fs.writeFileSync(path.join(outputDir, EVALUATION_FILE), JSON.stringify({ ...nested, rows: report.rows }, null, 2) + "\n");
  fs.writeFileSync(path.join(outputDir, METRICS_FILE), JSON.stringify(report.metrics, null, 2) + "\n");
}

export function evaluateCommand(): Command {
  return new Command("evaluate")
    .description("score a labelled channel with a model and write the metrics report (evaluation.json, metrics.json)")
    .requiredOption("--model-dir <dir>", "model directory (model.json), or where model.tar.gz was unpacked")
    .requiredOption("--data <path>", "labelled CSV file or directory")
    .requiredOption("--output <dir>", "where to write evaluation.json and metrics.json")
    .option("--channel <name>", "the channel the metrics are named after", VALIDATION_CHANNEL)
    .option("--json", "print the report as JSON")
    .action((opts: EvaluateOptions & { json?: boolean }) => {
      const report = evaluateModel(unpackedModelDir(opts.modelDir), opts.data, opts.channel);
      writeReport(report, opts.output);
      process.stdout.write(
        opts.json
          ? JSON.stringify(report) + "\n"
          : Object.entries(report.metrics)
              .map(([k, v]) => `${k}=${v.toFixed(6)}`)
              .join("\n") + "\n",
      );
    });
}

/**
 * A Processing step receives the training job's `model.tar.gz` as a file, not unpacked: unpack it
 * into a temporary directory with the image's `tar` (ml-core has no archive dependency; the
 * image's Debian base ships GNU tar). A directory holding model.json is used as it is.
 */
export function unpackedModelDir(dir: string): string {
  const archive = path.join(dir, FILES_MODEL_ARTIFACT);
  if (fs.existsSync(path.join(dir, MODEL_FILE)) || !fs.existsSync(archive)) return dir;
  const into = fs.mkdtempSync(path.join(os.tmpdir(), "ml-core-model-"));
  execFileSync("tar", ["-xzf", archive, "-C", into], { stdio: ["ignore", "ignore", "pipe"] });
  return into;
}
