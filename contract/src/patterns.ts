// The shapes of the identifiers the packages pass to each other (ARNs, image references, S3 URIs,
// names), each with the parse helper that reads it. Parsers return undefined on a mismatch: the
// caller knows which setting or argument the value came from and names it in its own error.

/** Any ARN: `arn:<partition>:<service>:<region>:<account>:<resource>` (S3's has neither region nor account). */
export const ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+$/;

/** An ARN of a resource in an account (an IAM principal, an ECR repository): the account is required. */
export const ACCOUNT_ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$/;

/** A model package *version* (not a group): `arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>`. */
export const MODEL_PACKAGE_VERSION_ARN = /^arn:(aws[a-z-]*):sagemaker:([a-z0-9-]+):(\d{12}):model-package\/([A-Za-z0-9-]{1,63})\/(\d+)$/;

/** An ECR image pinned by digest: `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repo>@sha256:<64 hex>`. */
export const IMAGE_BY_DIGEST = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$/;

/** `s3://<bucket>[/<key>]`, the bucket named by S3's rules (3–63 characters of `[a-z0-9.-]`). */
export const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

/** A model artifact in S3, as SageMaker training writes it: `s3://<bucket>/<key>.tar.gz`. */
export const MODEL_ARTIFACT_URI = /^s3:\/\/[a-z0-9.-]{3,63}\/.+\.tar\.gz$/;

/** A SageMaker instance type: `ml.<family>.<size>`. */
export const SAGEMAKER_INSTANCE_TYPE = /^ml\.[a-z0-9]+\.[a-z0-9]+$/;

/**
 * The model name that prefixes resource names: SageMaker names allow `[a-zA-Z0-9-]`, at most 63
 * characters; 32 keeps room for the stack and the suffixes.
 */
export const MODEL_NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;

/** An ECR repository name as the platform creates them. */
export const REPOSITORY_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** A Pulumi stack name. */
export const STACK_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

/** A metric as ml-core reports it and the promotion gates name it: `<channel>:<metric>`, e.g. `validation:auc`. */
export const METRIC_NAME = /^[a-z]+:[a-z0-9_]+$/;

/**
 * A relative path of S3-safe segments (the S3 User Guide's "safe characters": letters, digits and
 * `! - _ . ' ( )`; `*` is left out, it is a wildcard in IAM): no leading or trailing `/`, no empty
 * segment. Used for key prefixes and file paths the tools build from config; `.`/`..` segments are
 * refused separately (`hasDotSegment`).
 */
export const S3_KEY_PREFIX = /^[a-zA-Z0-9!_.'()-]+(?:\/[a-zA-Z0-9!_.'()-]+)*$/;

/** Whether a relative path has a `.` or `..` segment (a path that climbs out of its prefix). */
export function hasDotSegment(path: string): boolean {
  return path.split("/").some((segment) => segment === "." || segment === "..");
}

/** An AWS account id. */
export const ACCOUNT_ID = /^\d{12}$/;

export interface ModelPackageRef {
  readonly arn: string;
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly group: string;
  readonly version: number;
}

/** The parts of a model package version ARN, or undefined if `arn` is not one. */
export function matchModelPackageArn(arn: string): ModelPackageRef | undefined {
  const m = MODEL_PACKAGE_VERSION_ARN.exec(arn);
  return m ? { arn, partition: m[1]!, region: m[2]!, accountId: m[3]!, group: m[4]!, version: Number(m[5]) } : undefined;
}

export function isModelPackageArn(value: string): boolean {
  return MODEL_PACKAGE_VERSION_ARN.test(value);
}

export interface S3Location {
  readonly bucket: string;
  /** Without a leading slash; may be empty (the bucket itself) or end in "/" (a prefix). */
  readonly key: string;
}

/** Bucket and key of an `s3://` URI, or undefined if `uri` is not one. */
export function matchS3Uri(uri: string): S3Location | undefined {
  const m = S3_URI.exec(uri);
  return m ? { bucket: m[1]!, key: (m[2] ?? "").replace(/^\/+/, "") } : undefined;
}

export function s3Uri(loc: S3Location): string {
  return `s3://${loc.bucket}/${loc.key}`;
}

/** Joins a prefix URI (`s3://b/p/`) and relative keys, with exactly one "/" between them. */
export function joinS3(prefixUri: string, ...parts: string[]): string {
  return [prefixUri.replace(/\/+$/, ""), ...parts.map((p) => p.replace(/^\/+|\/+$/g, ""))].join("/");
}

/** A SageMaker resource's ARN; SageMaker puts resource names into ARNs in lower case. */
export function sagemakerArn(partition: string, region: string, accountId: string, type: string, name: string): string {
  return `arn:${partition}:sagemaker:${region}:${accountId}:${type}/${name.toLowerCase()}`;
}
