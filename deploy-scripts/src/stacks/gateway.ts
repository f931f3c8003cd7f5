import { z } from "zod";
import { CliError } from "../errors";

/**
 * What the commands need from Pulumi, and nothing more: a stack's outputs, a preview and an update.
 * The real implementation drives the Automation API (`automation.ts`); tests use `FakeStackGateway`.
 */
export interface StackGateway {
  /** The stack's outputs, as `pulumi stack output --json` shows them (secrets unwrapped). */
  outputs(stack: string): Promise<Record<string, unknown>>;
  preview(stack: string, opts?: RunOptions): Promise<ChangeSummary>;
  up(stack: string, opts?: RunOptions): Promise<ChangeSummary>;
}

export interface RunOptions {
  /** Streams Pulumi's own output (the diff, the progress) as it is produced. */
  onOutput?: (text: string) => void;
}

/** Counts per operation, e.g. `{ same: 30, update: 1, replace: 2 }`. */
export type ChangeSummary = Record<string, number>;

const S3_URI = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/;

/** The stack outputs the commands read; the names are the contract with `infra/index.ts`. */
export const stackOutputsSchema = z.object({
  region: z.string().min(1),
  accountId: z.string().regex(/^\d{12}$/),
  datasetBucketName: z.string().min(3),
  artifactBucketName: z.string().min(3),
  kmsKeyArn: z.string().startsWith("arn:"),
  executionRoleArn: z.string().startsWith("arn:"),
  deployerRoleArn: z.string().startsWith("arn:").optional(),
  repositoryUrls: z.record(z.string(), z.string()).default({}),
  modelPackageGroupName: z.string().min(1),
  /** Absent while the stack pins no model. */
  endpointName: z.string().min(1).optional(),
  trainingOutputUri: z.string().regex(S3_URI),
  checkpointUri: z.string().regex(S3_URI),
  datasetUri: z.string().regex(S3_URI),
});

export type StackOutputs = z.infer<typeof stackOutputsSchema>;

/** Reads and validates a stack's outputs, naming every missing or malformed one. */
export async function readStackOutputs(gateway: StackGateway, stack: string): Promise<StackOutputs> {
  const raw = await gateway.outputs(stack);
  const parsed = stackOutputsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new CliError(`stack "${stack}" does not have the outputs ml-deploy needs`, {
      details: parsed.error.issues.map((i) => `${i.path.join(".") || "(outputs)"}: ${i.message}`),
      hint: `run \`pulumi up --stack ${stack}\` first (the outputs are created by the platform's infra program)`,
    });
  }
  return parsed.data;
}
