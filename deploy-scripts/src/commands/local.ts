import { VALIDATION_CHANNEL } from "@ml-platform/contract";
import * as path from "node:path";
import { Command, Option } from "commander";
import { action, positiveInt, withCommon, type CommandFactory } from "../cli";
import type { LifecycleResult } from "../local/lifecycle";
import { LOCAL_DEFAULTS, local } from "../local/run";
import { formatFields } from "../output";

export function formatLocal(r: LifecycleResult): string {
  const validation = Object.entries(r.metrics).filter(([k]) => k.startsWith(`${VALIDATION_CHANNEL}:`));
  const slowest = Math.max(...r.smoke.requests.map((q) => q.latencyMs));
  return [
    "",
    "The lifecycle ran end to end on this machine:",
    formatFields([
      ["version", `${r.version.arn} (${r.version.approval})`],
      ["metrics", validation.map(([k, v]) => `${k}=${v.toFixed(4)}`).join("  ")],
      ["promotion gates", r.gateFailures.length === 0 ? "met" : `missed: ${r.gateFailures.join("; ")}`],
      ["smoke test", `passed: ${r.smoke.requests.length} requests of ${r.smoke.rows} rows, slowest ${slowest} ms, each answered by the registered model`],
      ["dataset manifest", `${r.manifestId} (ml-deploy lineage --stack local)`],
      ["model identity", r.version.metadata.modelIdentity],
      ["model", r.modelDir],
      ["training tree", r.trainingDir],
      ["registry", path.join(r.registryDir, r.version.group)],
      [
        "time (s)",
        Object.entries(r.secondsByStep)
          .map(([k, v]) => `${k} ${v}`)
          .join(", "),
      ],
    ]),
    "",
    "Next, in the cloud (see deploy-scripts/README.md):",
    "  pulumi up --stack dev                                  # the platform",
    "  ml-deploy images --stack dev                           # the ml-core image, pushed by digest",
    "  ml-deploy train --stack dev --wait                     # the same training, as a SageMaker job",
    "  ml-deploy register --stack dev --job <job name>        # the same registration, in SageMaker's registry",
    "  ml-deploy deploy --stack dev --version latest          # pin it; `pulumi up` serves it",
    "  ml-deploy promote --from dev --to staging              # behind the gates: copied and registered, pending",
    "  ml-deploy approve --stack staging --version <arn> ...  # staging's approver",
    "  ml-deploy deploy --stack staging --version <arn>       # pin the approved copy",
  ].join("\n");
}

export const localCommand: CommandFactory = (deps) =>
  withCommon(
    new Command("local")
      .description(
        "Run the whole lifecycle on this machine, no cloud account: train through the container contract, evaluate, register (file registry), serve, smoke-test",
      )
      .addOption(new Option("-s, --stack <name>", "the stack whose training settings and promotion gates apply").default("dev"))
      .addOption(
        new Option(
          "--data <dir>",
          `directory with train.csv and validation.csv, trained on as they are (default without a feature set: ${LOCAL_DEFAULTS.data})`,
        ),
      )
      .addOption(
        new Option(
          "--features <file>",
          `feature set to train from: its records go into the local feature store, the training set comes out point-in-time (default unless --data is given: ${LOCAL_DEFAULTS.features})`,
        ),
      )
      .addOption(new Option("--no-features", "train on --data as it is, without the feature store"))
      .addOption(
        new Option("--feature-records <file>", "the raw feature records ingested into the local store").default(
          "examples/flight-delays/data/feature-records.csv",
        ),
      )
      .addOption(
        new Option(
          "--model-file <file>",
          "an XGBoost model (JSON or UBJSON) trained elsewhere: imported, evaluated on --data, registered and served instead of training",
        ),
      )
      .addOption(new Option("--work-dir <dir>", "where runs, models and the local registry are kept").default(".local"))
      .addOption(new Option("--rows <n>", "rows the smoke test sends").argParser(positiveInt("--rows")).default(5)),
  ).action(action(deps, local, formatLocal));
