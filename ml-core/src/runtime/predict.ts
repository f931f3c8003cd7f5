/** `ml-core predict`: the command-line adapter of batch scoring (batch/predict-file.ts): parse options, score, print the summary. */
import { Command, InvalidArgumentError, Option } from "commander";
import { predictFile, type PredictOptions, type PredictSummary } from "../batch/predict-file";

/** The `predict` command. */
export function predictCommand(): Command {
  return new Command("predict")
    .description("Score a file of rows with a model: CSV, JSON or JSON lines in and out, as /invocations does")
    .requiredOption("--model-dir <dir>", "model directory (holding model.json)")
    .requiredOption("--input <file>", 'rows to score (.csv, .json, .jsonl); "-" for stdin')
    .option("--output <file>", 'where to write predictions; "-" for stdout', "-")
    .addOption(new Option("--content-type <type>", "input format, when the extension does not say (text/csv, application/json, application/jsonlines)"))
    .addOption(new Option("--accept <type>", "output format (default: from the output's extension, else the input's format)"))
    .addOption(
      new Option("--threads <n>", "scoring threads, this one included, for inputs larger than one 4 MiB chunk (default: one per CPU)").argParser(
        positiveInt("--threads"),
      ),
    )
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
  const rate = thousands(Math.round(s.rowsPerSecond));
  return `scored ${thousands(s.rows)} rows in ${s.seconds.toFixed(2)} s (${rate} rows/s): ${s.input} → ${s.output === "-" ? "stdout" : s.output}`;
}

/** 1234567 → "1,234,567": toLocaleString's first call loads ICU's locale data, ~12 ms of a run's start-up. */
function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
