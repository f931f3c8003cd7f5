import { Command, Option } from "commander";
import { action, stackOption, withCommon, type CommandFactory } from "../cli";
import { snapshot, type SnapshotResult } from "../data/snapshot";
import { formatFields } from "../output";

export function formatSnapshot(r: SnapshotResult): string {
  return [
    formatFields([
      ["manifest", `${r.manifestId}${r.created ? "" : " (the same objects were snapshotted before)"}`],
      ["stored at", r.manifestUri],
      ["objects", `${r.objects.length} (${r.copied} copied to content-addressed keys now)`],
    ]),
    ...r.objects.map(
      (o) => `  ${o.channel.padEnd(10)} ${o.uri}${o.versionId ? `?versionId=${o.versionId}` : ""}  ${o.size} B  ${o.rows} rows  sha256:${o.sha256}`,
    ),
    `next: ml-deploy train --stack ${r.stack} --manifest ${r.manifestId}`,
  ].join("\n");
}

export const dataCommand: CommandFactory = (deps) =>
  new Command("data").description("Datasets: pin the objects a model trains on in a manifest").addCommand(
    withCommon(
      new Command("snapshot")
        .description(
          "Record every object under the dataset's train and validation prefixes (URI, S3 version, size, SHA-256, rows, schema hash) in a write-once manifest in the stack's dataset bucket; print its id",
        )
        .addOption(stackOption())
        .addOption(new Option("--prefix <key-prefix>", "dataset key prefix in the stack's dataset bucket (default: the stack's training.datasetPrefix)")),
    )
      .action(action(deps, snapshot, formatSnapshot))
      .exitOverride(),
  );
