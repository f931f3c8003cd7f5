import { matchModelPackageArn, matchS3Uri, type ModelPackageRef, type S3Location } from "@ml-platform/contract";
import { CliError } from "../errors";

// The patterns are the contract's (shared with infra's schema); these wrappers turn a mismatch into
// the CLI's error.
export { isModelPackageArn, joinS3, s3Uri, sagemakerArn } from "@ml-platform/contract";
export type { ModelPackageRef, S3Location };

export function parseS3Uri(uri: string): S3Location {
  const loc = matchS3Uri(uri);
  if (!loc) throw new CliError(`not an S3 URI: ${uri}`, { hint: "expected s3://<bucket>/<key>" });
  return loc;
}

export function parseModelPackageArn(arn: string): ModelPackageRef {
  const ref = matchModelPackageArn(arn);
  if (!ref)
    throw new CliError(`not a model package version ARN: ${arn}`, { hint: "expected arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>" });
  return ref;
}
