import type { Context } from "../context";
import { describeVersion, type ModelVersion } from "../registry/model-version";
import { endpointState, type EndpointState } from "../smoke/stack";
import { readStackOutputs } from "../stacks/gateway";

export interface StatusResult {
  stack: string;
  pinned: string | undefined;
  previous: string[];
  version?: ModelVersion;
  endpoint: EndpointState;
}

/** What a stack serves: the pinned version (from the stack file), its registry entry, the endpoint. */
export async function status(ctx: Context, opts: { stack: string; json?: boolean }): Promise<StatusResult> {
  const { settings } = await ctx.stackFiles.read(opts.stack);
  const outputs = await readStackOutputs(ctx.stacks, opts.stack);
  const pinned = settings.model?.packageArn;
  const version = pinned ? await describeVersion(ctx.aws.sagemaker(outputs.region), pinned) : undefined;
  return {
    stack: opts.stack,
    pinned: pinned ?? settings.model?.artifactUri,
    previous: settings.model?.previousPackageArns ?? [],
    version,
    endpoint: await endpointState(ctx, outputs),
  };
}
