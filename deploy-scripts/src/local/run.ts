import * as path from "node:path";
import type { Context } from "../context";
import { runLocalLifecycle, type LifecycleResult } from "./lifecycle";

export interface LocalOptions {
  stack: string;
  data: string;
  workDir: string;
  rows: number;
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
  });
}
