import * as path from "node:path";
import type { Context } from "../context";
import { CliError, EXIT } from "../errors";
import { runLocalLifecycle, type LifecycleResult } from "./lifecycle";

export interface LocalOptions {
  stack: string;
  /** Train on this directory's CSVs as they are; given alone, it turns the feature store off. */
  data?: string;
  workDir: string;
  rows: number;
  /** The feature set to train from (its local store); false: train on `data` as it is. */
  features?: string | false;
  featureRecords: string;
  /** An XGBoost model trained elsewhere, imported and served instead of training (needs --data). */
  modelFile?: string;
  json?: boolean;
}

export const LOCAL_DEFAULTS = { data: "examples/flight-delays/data", features: "examples/flight-delays/features.yaml" } as const;

/** `ml-deploy local`: the stack's settings, paths resolved from the repository root, then the lifecycle. */
export async function local(ctx: Context, opts: LocalOptions): Promise<LifecycleResult> {
  const { settings } = await ctx.stackFiles.read(opts.stack);
  // `--data DIR` alone means "train on these files": the feature store would silently replace them.
  if (opts.modelFile !== undefined && (opts.data === undefined || opts.features))
    throw new CliError(
      "--model-file needs --data DIR: the train.csv and validation.csv the model was trained and is evaluated on (XGBoost's layout: label first)",
      {
        exitCode: EXIT.usage,
      },
    );
  const features = opts.features ?? (opts.data === undefined ? LOCAL_DEFAULTS.features : false);
  return runLocalLifecycle({
    workDir: path.resolve(ctx.repoRoot, opts.workDir),
    dataDir: path.resolve(ctx.repoRoot, opts.data ?? LOCAL_DEFAULTS.data),
    stack: opts.stack,
    settings,
    smokeRows: opts.rows,
    mlCoreBin: require.resolve("@ml-platform/ml-core/bin/ml-core.js"),
    gitCommit: await ctx.gitCommit(),
    out: ctx.out,
    ...(opts.modelFile !== undefined ? { modelFile: path.resolve(ctx.repoRoot, opts.modelFile) } : {}),
    ...(features
      ? {
          features: {
            definition: path.resolve(ctx.repoRoot, features),
            recordsFile: path.resolve(ctx.repoRoot, opts.featureRecords),
            repoRoot: ctx.repoRoot,
          },
        }
      : {}),
  });
}
