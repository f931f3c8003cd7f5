import { Command, Option } from "commander";
import { action, withCommon, type CommandFactory } from "../cli";
import { lineage, type LineageLink, type LineageResult } from "../lineage/walk";

const LABELS: Record<LineageLink["kind"], string> = {
  endpoint: "endpoint",
  "endpoint-config": "endpoint config",
  model: "model",
  "model-package": "model package",
  "training-job": "training job",
  "dataset-manifest": "dataset manifest",
  object: "object",
};

export function formatLineage(r: LineageResult): string {
  return r.chains
    .map((c) =>
      [
        `version ${c.version} (${c.packageArn})${r.verified ? ": every object verified at its recorded version and SHA-256" : ""}`,
        ...c.links.map((l, i) => {
          const details = Object.entries(l.details)
            .filter(([, v]) => v !== null && v !== "")
            .map(([k, v]) => `${k}=${v}`)
            .join(" ");
          return `  ${i === 0 ? "" : "→ "}${LABELS[l.kind]} ${l.name}${details ? `  ${details}` : ""}`;
        }),
      ].join("\n"),
    )
    .join("\n\n");
}

export const lineageCommand: CommandFactory = (deps) =>
  withCommon(
    new Command("lineage")
      .description(
        "Walk endpoint → endpoint config → model → model package → training job → dataset manifest → objects, printing each link; `--stack local` reads the local registry",
      )
      .addOption(new Option("-s, --stack <name>", "the stack (dev, staging, prod), or local").makeOptionMandatory())
      .addOption(new Option("--version <ref>", "start at this version (number, ARN, latest, latest-approved) instead of the endpoint; locally, one version"))
      .addOption(new Option("--verify", "re-read every object at its recorded version and compare its SHA-256; fail naming each that differs or is gone"))
      .addOption(new Option("--work-dir <dir>", "the local work directory (with --stack local)").default(".local")),
  ).action(action(deps, lineage, formatLineage));
