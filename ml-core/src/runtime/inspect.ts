/** `ml-core inspect`: what a model directory holds, feature importance first; `--json` for tools. */
import { Command } from "commander";
import { loadModel } from "../model/load";
import { describeModel, type ModelDescription } from "../model/importance";

export function inspectCommand(): Command {
  return new Command("inspect")
    .description("Describe a model: objective, features, trees, metrics and feature importance (gain and split count)")
    .requiredOption("--model-dir <dir>", "model directory (holding model.json)")
    .option("--json", "print the description as JSON")
    .action((opts: { modelDir: string; json?: boolean }) => {
      const description = describeModel(loadModel(opts.modelDir));
      process.stdout.write(opts.json === true ? JSON.stringify(description, null, 2) + "\n" : formatDescription(description));
    });
}

export function formatDescription(d: ModelDescription): string {
  const lines = [
    `objective ${d.objective}, label "${d.label}"${d.classes ? `, classes ${d.classes.join(", ")}` : ""}`,
    `${d.trees} trees (${d.rounds} rounds kept of ${d.training.roundsRun} run${d.training.stoppedEarly ? ", stopped early" : ""}), ${d.leaves} leaves`,
    `trained on ${d.training.trainRows.toLocaleString("en-US")} rows${d.training.validationRows > 0 ? `, validated on ${d.training.validationRows.toLocaleString("en-US")}` : ""}; data ${d.training.dataHash}`,
    ...Object.entries(d.metrics).map(([k, v]) => `${k}=${v.toFixed(6)}`),
    "",
  ];
  const width = Math.max(7, ...d.importance.map((f) => f.name.length));
  lines.push(
    `${"feature".padEnd(width)}  ${"kind".padEnd(11)}  ${"gain".padStart(14)}  ${"gain %".padStart(6)}  ${"splits".padStart(7)}  ${"split %".padStart(7)}`,
  );
  const kind = new Map(d.features.map((f) => [f.name, f.kind]));
  for (const f of d.importance) {
    lines.push(
      `${f.name.padEnd(width)}  ${(kind.get(f.name) ?? "").padEnd(11)}  ${f.gain.toPrecision(6).padStart(14)}  ${(100 * f.gainShare).toFixed(1).padStart(6)}  ${String(f.splits).padStart(7)}  ${(100 * f.splitShare).toFixed(1).padStart(7)}`,
    );
  }
  return lines.join("\n") + "\n";
}
