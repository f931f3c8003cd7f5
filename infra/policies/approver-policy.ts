import { policy, PolicyDocument } from "./documents";

/** The decisions an approver records on a model version (ModelApprovalStatus values). */
export const APPROVER_DECISIONS = ["Approved", "Rejected"] as const;

export interface ApproverPolicyArgs {
  /** AWS partition of every ARN built here. @default "aws" */
  readonly partition?: string;
  readonly region: string;
  readonly accountId: string;
  /** This stage's model package group: the only registry the approver decides on. */
  readonly modelPackageGroupName: string;
}

/**
 * The approver of one stage: reads the stage's model versions and sets them Approved or Rejected,
 * nothing else (no other field of UpdateModelPackage without a decision, no registering, no deploy).
 * `sagemaker:ModelApprovalStatus` is the status the request sets (Service Authorization Reference,
 * UpdateModelPackage condition keys).
 */
export function approverPolicy(args: ApproverPolicyArgs): PolicyDocument {
  const partition = args.partition ?? "aws";
  const sm = (type: string, name: string) => `arn:${partition}:sagemaker:${args.region}:${args.accountId}:${type}/${name.toLowerCase()}`;
  const versions = sm("model-package", `${args.modelPackageGroupName}/*`);
  return policy(
    {
      Sid: "DecideOnThisStagesVersions",
      Effect: "Allow",
      Action: "sagemaker:UpdateModelPackage",
      Resource: versions,
      Condition: { StringEquals: { "sagemaker:ModelApprovalStatus": [...APPROVER_DECISIONS] } },
    },
    {
      Sid: "ReadThisStagesRegistry",
      Effect: "Allow",
      Action: ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"],
      Resource: [versions, sm("model-package-group", args.modelPackageGroupName)],
    },
    {
      // ListModelPackages has no resource-level permissions in IAM.
      Sid: "ListRegistryVersions",
      Effect: "Allow",
      Action: "sagemaker:ListModelPackages",
      Resource: "*",
    },
  );
}
