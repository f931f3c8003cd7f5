import { Command, Option } from "commander";
import { action, positiveInt, stackOption, withCommon, type CommandFactory } from "../cli";
import { formatDuration, formatFields } from "../output";
import { train, type TrainResult } from "../training/job";

export function formatTrain(r: TrainResult): string {
  const o = r.outcome;
  const savings =
    o?.trainingSeconds && o.billableSeconds !== undefined && r.spot ? `${Math.round((1 - o.billableSeconds / o.trainingSeconds) * 100)}%` : undefined;
  return [
    formatFields([
      ["job", r.jobName],
      ["status", o ? `${o.status} (${o.secondaryStatus})` : "started (use --wait to follow it)"],
      ["image", r.image],
      ["dataset", r.datasetUri],
      ["manifest", r.manifestId],
      ["commit", r.gitCommit],
      ["model", o?.modelArtifact],
      ["training time", o?.trainingSeconds === undefined ? undefined : formatDuration(o.trainingSeconds * 1000)],
      ["spot savings", savings],
    ]),
    ...(o && Object.keys(o.metrics).length > 0 ? ["metrics:", ...Object.entries(o.metrics).map(([k, v]) => `  ${k} = ${v}`)] : []),
    ...(o?.status === "Completed" ? [`next: ml-deploy register --stack ${r.stack} --job ${r.jobName}`] : []),
  ].join("\n");
}

export const trainCommand: CommandFactory = (deps) =>
  withCommon(
    new Command("train")
      .description("Start a SageMaker training job with the stack's role, image, dataset, KMS key and training settings")
      .addOption(stackOption())
      .addOption(new Option("--image <uri>", "training image by digest (default: the image `images` pushed for the current sources)"))
      .addOption(
        new Option("--manifest <id>", "dataset manifest to train on, as `data snapshot` prints it (default: the newest snapshot of the stack's dataset)"),
      )
      .addOption(new Option("--wait", "follow the job until it ends; exit non-zero if it fails"))
      .addOption(
        new Option(
          "--hp <key=value...>",
          "override one of the stack's hyperparameters for this job (repeatable); checked by ml-core's parser before the job is created",
        ),
      )
      .addOption(
        new Option("--max-retries <n>", "times SageMaker retries the job after an internal error or capacity shortage (1-30)")
          .argParser(positiveInt("--max-retries"))
          .default(2),
      ),
  ).action(action(deps, train, formatTrain));
