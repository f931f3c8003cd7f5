import { deployerStageSchema, type DeployerStage } from "@ml-platform/contract";

/** One stage's resources as another stage's roles see them: the contract's `deployerStage` output. */
export type DeployerStageArgs = DeployerStage;
export { deployerStageSchema };

/**
 * Validates a stage read through a StackReference before it shapes a policy; a bad value fails
 * naming the stack, the output and each field.
 */
export function parseDeployerStage(stack: string, output: string, value: unknown): DeployerStageArgs {
  const parsed = deployerStageSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${[output, ...i.path].join(".")} ${i.message}`);
  throw new Error(`stack ${stack}: output ${output} cannot be used in a policy:\n  ${problems.join("\n  ")}`);
}
