import * as path from "node:path";
import type { Context } from "../context";
import { runLocalLifecycle, type LifecycleResult } from "./lifecycle";

export interface LocalOptions {
  stack: string;
  data: string;
  workDir: string;
  rows: number;
  /** The feature set to train from (its local store); false: train on `data` as it is. */
  features: string | false;
  featureRecords: string;
  json?: boolean;
}

/** `ml-deploy local`: the stack's settings, paths resolved from the repository root, then the lifecycle. */
export async function local(ctx: Context, opts: LocalOptions): Promise<LifecycleResult> {
  const { settings } = await ctx.stackFiles.read(opts.stack);
  return runLocalLifecycle({
    workDir: path.resolve(ctx.repoRoot, opts.workDir),
    dataDir: path.resolve(ctx.repoRoot, opts.data),
    stack: opts.stack,
    settings,
    smokeRows: opts.rows,
    mlCoreBin: require.resolve("@ml-platform/ml-core/bin/ml-core.js"),
    gitCommit: await ctx.gitCommit(),
    out: ctx.out,
    ...(opts.features
      ? {
          features: {
            definition: path.resolve(ctx.repoRoot, opts.features),
            recordsFile: path.resolve(ctx.repoRoot, opts.featureRecords),
            repoRoot: ctx.repoRoot,
          },
        }
      : {}),
  });
}
