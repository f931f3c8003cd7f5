/**
 * The AWS calls of the release flow that do not go through ml-deploy's SDK clients (those are
 * listed in deploy-scripts/src/aws/permissions.ts), with the IAM action, resource and request
 * context AWS authorises each on. Cited facts only:
 * - `pulumi up` of a model change: /work/shared/reference/provider-semantics.md §5 (classic Model
 *   and EndpointConfiguration create/delete, tag-on-create as AddTags, PassRole; UpdateEndpoint
 *   authorised on the endpoint and the endpoint config) and §4 (the aws-native Endpoint goes
 *   through Cloud Control, whose CFN handler's update permissions are UpdateEndpoint,
 *   DescribeEndpoint, AddTags, DeleteTags; Cloud Control actions in the `cloudformation:` prefix),
 *   and §5's KMS note (a config with KmsKeyId needs the caller to be able to use the key).
 *   sts:GetCallerIdentity (provider configure) needs no permission and is not listed.
 * - The image copy of `promote`: §6 (no docker: BatchGetImage for the manifest, layers fetched
 *   with GetDownloadUrlForLayer from the source and uploaded to the target, PutImage last, which
 *   fails unless the target has every layer).
 */
export interface Call {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string | string[]>>;
}

export interface ModelChangeTarget {
  readonly region: string;
  readonly accountId: string;
  /** The value of the `stack` tag the provider's default tags put on every resource. */
  readonly stack: string;
  readonly endpointName: string;
  /** Physical names Pulumi generated for the new and the old Model / EndpointConfiguration. */
  readonly newModel: string;
  readonly oldModel: string;
  readonly newConfig: string;
  readonly oldConfig: string;
  readonly hostingRoleArn: string;
  readonly kmsKeyArn: string;
  /** Instance endpoints create the Model with network isolation; serverless ones cannot. */
  readonly networkIsolation: boolean;
}

/** Every call `pulumi up` makes when only the pinned model version changed. */
export function modelChangeUpCalls(t: ModelChangeTarget): Call[] {
  const sm = (type: string, name: string) => `arn:aws:sagemaker:${t.region}:${t.accountId}:${type}/${name.toLowerCase()}`;
  const requestTag = { "aws:RequestTag/stack": t.stack };
  const resourceTag = { "aws:ResourceTag/stack": t.stack };
  const model = sm("model", t.newModel);
  const config = sm("endpoint-config", t.newConfig);
  const endpoint = sm("endpoint", t.endpointName);
  return [
    // new Model
    { action: "sagemaker:CreateModel", resource: model, context: { ...requestTag, "sagemaker:NetworkIsolation": String(t.networkIsolation) } },
    { action: "sagemaker:AddTags", resource: model, context: { ...requestTag, "sagemaker:TaggingAction": "CreateModel" } },
    { action: "iam:PassRole", resource: t.hostingRoleArn, context: { "iam:PassedToService": "sagemaker.amazonaws.com" } },
    { action: "sagemaker:DescribeModel", resource: model, context: resourceTag },
    { action: "sagemaker:ListTags", resource: model, context: resourceTag },
    // new EndpointConfiguration (encrypted with the platform key)
    { action: "sagemaker:CreateEndpointConfig", resource: config, context: requestTag },
    { action: "sagemaker:AddTags", resource: config, context: { ...requestTag, "sagemaker:TaggingAction": "CreateEndpointConfig" } },
    { action: "kms:DescribeKey", resource: t.kmsKeyArn },
    { action: "kms:CreateGrant", resource: t.kmsKeyArn, context: { "kms:GrantIsForAWSResource": "true" } },
    { action: "sagemaker:DescribeEndpointConfig", resource: config, context: resourceTag },
    { action: "sagemaker:ListTags", resource: config, context: resourceTag },
    // Endpoint update through Cloud Control and its handler
    { action: "cloudformation:UpdateResource", resource: "*" },
    { action: "cloudformation:GetResourceRequestStatus", resource: "*" },
    { action: "cloudformation:GetResource", resource: "*" },
    { action: "sagemaker:UpdateEndpoint", resource: endpoint },
    { action: "sagemaker:UpdateEndpoint", resource: config, context: resourceTag },
    { action: "sagemaker:DescribeEndpoint", resource: endpoint },
    { action: "sagemaker:AddTags", resource: endpoint },
    { action: "sagemaker:DeleteTags", resource: endpoint },
    { action: "sagemaker:ListTags", resource: endpoint },
    // cleanup of the replaced ones
    { action: "sagemaker:DeleteEndpointConfig", resource: sm("endpoint-config", t.oldConfig), context: resourceTag },
    { action: "sagemaker:DeleteModel", resource: sm("model", t.oldModel), context: resourceTag },
  ];
}

/** Every call `promote` makes to copy an image from the source stage's repository into the target's. */
export function imageCopyCalls(sourceRepositoryArn: string, targetRepositoryArn: string): Call[] {
  return [
    { action: "ecr:GetAuthorizationToken", resource: "*" },
    { action: "ecr:BatchGetImage", resource: sourceRepositoryArn },
    { action: "ecr:GetDownloadUrlForLayer", resource: sourceRepositoryArn },
    { action: "ecr:BatchCheckLayerAvailability", resource: targetRepositoryArn },
    { action: "ecr:InitiateLayerUpload", resource: targetRepositoryArn },
    { action: "ecr:UploadLayerPart", resource: targetRepositoryArn },
    { action: "ecr:CompleteLayerUpload", resource: targetRepositoryArn },
    { action: "ecr:PutImage", resource: targetRepositoryArn },
  ];
}
