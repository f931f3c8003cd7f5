import { UpdateModelPackageCommand } from "@aws-sdk/client-sagemaker";
import { parseModelPackageArn } from "../aws/arn";
import { DESCRIPTION_MAX_LENGTH } from "../aws/limits";
import type { Context } from "../context";
import { CliError } from "../errors";
import { metricGateFailures } from "./metrics";
import { describeVersion, resolveVersionArn, type ModelVersion } from "./model-version";
import { readStackOutputs } from "../stacks/gateway";

export type Decision = "Approved" | "Rejected";

export interface DecideOptions {
  stack: string;
  version: string;
  reason: string;
  json?: boolean;
}

export interface DecideResult {
  stack: string;
  decision: Decision;
  previous: string;
  version: ModelVersion;
  /** The stack's own promotion gates the version misses: shown, not enforced, at approval. */
  warnings: string[];
}

/**
 * Records a human decision on a version: `Approved` or `Rejected`, with the reason as the
 * version's ApprovalDescription (shown in the console and kept in the registry's history).
 */
export async function decide(ctx: Context, decision: Decision, opts: DecideOptions): Promise<DecideResult> {
  if (opts.reason.trim() === "") throw new CliError("--reason must not be empty: it is the record of why");
  const { settings } = await ctx.stackFiles.read(opts.stack);
  const outputs = await readStackOutputs(ctx.stacks, opts.stack);
  const sm = ctx.aws.sagemaker(outputs.region);
  const arn = await resolveVersionArn(sm, outputs.modelPackageGroupName, opts.version);
  if (parseModelPackageArn(arn).group !== outputs.modelPackageGroupName) {
    throw new CliError(`${arn} is not in stack "${opts.stack}"'s model package group ${outputs.modelPackageGroupName}`, {
      hint: "a version is approved in the group it lives in; promote copies it into the next stage's group",
    });
  }
  const before = await describeVersion(sm, arn);
  if (before.status !== "Completed") throw new CliError(`version ${before.version} is ${before.status}, not Completed; it cannot be ${decision.toLowerCase()}`);
  const warnings = decision === "Approved" ? metricGateFailures(before.metrics, settings.promotion, `stack "${opts.stack}"`) : [];
  for (const w of warnings) ctx.out.warn(w);

  ctx.out.step(`${decision === "Approved" ? "Approving" : "Rejecting"} version ${before.version} of ${before.group}`);
  await sm.send(
    new UpdateModelPackageCommand({ ModelPackageArn: arn, ModelApprovalStatus: decision, ApprovalDescription: opts.reason.slice(0, DESCRIPTION_MAX_LENGTH) }),
  );
  const version = await describeVersion(sm, arn);
  return { stack: opts.stack, decision, previous: before.approval, version, warnings };
}
