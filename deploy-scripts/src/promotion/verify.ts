import { DescribeEndpointCommand, type DescribeEndpointCommandOutput } from "@aws-sdk/client-sagemaker";
import type { Context } from "../context";
import type { StackOutputs } from "../stacks/gateway";

/** Endpoint statuses that end on their own (DescribeEndpoint `EndpointStatus`): wait them out. */
const TRANSITIONAL = new Set(["Creating", "Updating", "SystemUpdating", "RollingBack"]);
/** Describe calls before giving up on a transitional status (at the poll interval: 2 h at 2 min). */
export const MAX_ENDPOINT_POLLS = 60;

export interface EndpointCheck {
  /** Empty: the endpoint is InService on the configuration the update deployed. */
  readonly problems: string[];
  /** InService, but on another configuration: SageMaker rolled the update back on its own. */
  readonly rolledBack: boolean;
  readonly status?: string;
  readonly configName?: string;
}

/**
 * After `pulumi up`: is the endpoint InService on the configuration this update deployed? A
 * blue/green update that trips its alarms, or a new fleet that fails to start, is rolled back by
 * SageMaker itself: the endpoint ends InService on the old configuration, which a status check
 * alone would pass and whose old model the smoke test would then test.
 */
export async function checkEndpointConfig(ctx: Context, stack: string, outputs: StackOutputs): Promise<EndpointCheck> {
  if (!outputs.endpointName) return { problems: [], rolledBack: false };
  const expected = outputs.endpointConfigName;
  if (!expected) {
    return {
      problems: [
        `stack "${stack}" does not export endpointConfigName, so ml-deploy cannot tell which configuration endpoint ${outputs.endpointName} runs; the platform admin must run \`pulumi up --stack ${stack}\` with the current infra program`,
      ],
      rolledBack: false,
    };
  }
  const sm = ctx.aws.sagemaker(outputs.region);
  let out: DescribeEndpointCommandOutput;
  for (let poll = 1; ; poll++) {
    out = await sm.send(new DescribeEndpointCommand({ EndpointName: outputs.endpointName }));
    if (!TRANSITIONAL.has(out.EndpointStatus ?? "") || poll >= MAX_ENDPOINT_POLLS) break;
    ctx.out.info(`endpoint ${outputs.endpointName} is ${out.EndpointStatus}; waiting`);
    await ctx.sleep(ctx.pollIntervalMs);
  }
  const status = out.EndpointStatus ?? "Unknown";
  const configName = out.EndpointConfigName;
  if (status !== "InService") {
    return {
      problems: [`endpoint ${outputs.endpointName} of stack "${stack}" is ${status}, not InService${out.FailureReason ? `: ${out.FailureReason}` : ""}`],
      rolledBack: false,
      status,
      configName,
    };
  }
  if (configName !== expected) {
    return {
      problems: [
        `endpoint ${outputs.endpointName} of stack "${stack}" is InService on endpoint config ${configName ?? "(none)"}, not ${expected}, which this update deployed: SageMaker rolled the update back (an alarm fired during the deployment, or the new model failed to start)`,
      ],
      rolledBack: true,
      status,
      configName,
    };
  }
  return { problems: [], rolledBack: false, status, configName };
}
