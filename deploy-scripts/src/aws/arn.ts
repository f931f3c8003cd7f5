import { CliError } from "../errors";

export interface S3Location {
  readonly bucket: string;
  /** Without a leading slash; may be empty (the bucket itself) or end in "/" (a prefix). */
  readonly key: string;
}

export function parseS3Uri(uri: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new CliError(`not an S3 URI: ${uri}`);
  return { bucket: m[1]!, key: m[2]! };
}

export function s3Uri(loc: S3Location): string {
  return `s3://${loc.bucket}/${loc.key}`;
}

/** Joins a prefix URI (`s3://b/p/`) and a relative key, with exactly one "/" between them. */
export function joinS3(prefixUri: string, ...parts: string[]): string {
  return [prefixUri.replace(/\/+$/, ""), ...parts.map((p) => p.replace(/^\/+|\/+$/g, ""))].join("/");
}

export interface ModelPackageRef {
  readonly arn: string;
  readonly region: string;
  readonly accountId: string;
  readonly group: string;
  readonly version: number;
}

const MODEL_PACKAGE_VERSION_ARN = /^arn:(aws[a-z-]*):sagemaker:([a-z0-9-]+):(\d{12}):model-package\/([A-Za-z0-9-]{1,63})\/(\d+)$/;

export function parseModelPackageArn(arn: string): ModelPackageRef {
  const m = MODEL_PACKAGE_VERSION_ARN.exec(arn);
  if (!m) throw new CliError(`not a model package version ARN: ${arn}`, { hint: "expected arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>" });
  return { arn, region: m[2]!, accountId: m[3]!, group: m[4]!, version: Number(m[5]) };
}

export function isModelPackageArn(value: string): boolean {
  return MODEL_PACKAGE_VERSION_ARN.test(value);
}

/** SageMaker puts resource names into ARNs in lower case. */
export function sagemakerArn(partition: string, region: string, accountId: string, type: string, name: string): string {
  return `arn:${partition}:sagemaker:${region}:${accountId}:${type}/${name.toLowerCase()}`;
}
