import { policy, PolicyDocument, PolicyStatement } from "./documents";

export interface EndpointUpdaterPolicyArgs {
  /** AWS partition of every ARN built here. @default "aws" */
  readonly partition?: string;
  readonly region: string;
  readonly accountId: string;
  /** The tag every resource of this stack carries (provider default tags), e.g. `{ key: "stack", value: "prod" }`. */
  readonly stackTag: { readonly key: string; readonly value: string };
  /** This stack's endpoint: the one endpoint the role may update. */
  readonly endpointName: string;
  /** Auto-named Models of this stack start with this (`<logical name>-`); the tag tells stacks apart. */
  readonly modelNamePrefix: string;
  /** Auto-named EndpointConfigurations of this stack start with this. */
  readonly endpointConfigNamePrefix: string;
  /** The role the endpoint's model runs as: the only role passed, and only to SageMaker. */
  readonly hostingRoleArn: string;
  /** The key the endpoint config encrypts its volume and captured data with. */
  readonly kmsKeyArn: string;
  /** Refuse Models without network isolation (instance endpoints; Serverless Inference has none). @default false */
  readonly requireNetworkIsolation?: boolean;
}

/**
 * The endpoint updater: what `pulumi up` of a model change calls, and nothing more. The flow
 * (provider-semantics §5): create the new Model and EndpointConfiguration (tags on create), switch
 * the Endpoint to the new config (aws-native: Cloud Control UpdateResource, whose SageMaker handler
 * runs with these credentials, §4), wait, then delete the old config and model. Models and configs
 * are auto-named, so the names are scoped by prefix and the stack tag keeps stacks of one account
 * apart; the endpoint by its exact name. SageMaker ARNs carry lower-case names (§5).
 * Infrastructure changes (roles, buckets, alarms, autoscaling) are not here: they are the platform
 * admin's `pulumi up`, and the updater's fails on them.
 */
export function endpointUpdaterPolicy(args: EndpointUpdaterPolicyArgs): PolicyDocument {
  const partition = args.partition ?? "aws";
  const sm = (type: string, name: string) => `arn:${partition}:sagemaker:${args.region}:${args.accountId}:${type}/${name.toLowerCase()}`;
  const model = sm("model", `${args.modelNamePrefix}*`);
  const config = sm("endpoint-config", `${args.endpointConfigNamePrefix}*`);
  const endpoint = sm("endpoint", args.endpointName);
  const requestTag = { [`aws:RequestTag/${args.stackTag.key}`]: args.stackTag.value };
  const resourceTag = { [`aws:ResourceTag/${args.stackTag.key}`]: args.stackTag.value };
  const statements: PolicyStatement[] = [
    {
      Sid: "CreateModelsOfThisStack",
      Effect: "Allow",
      Action: "sagemaker:CreateModel",
      Resource: model,
      Condition: {
        StringEquals: requestTag,
        ...(args.requireNetworkIsolation ? { Bool: { "sagemaker:NetworkIsolation": "true" } } : {}),
      },
    },
    {
      Sid: "CreateEndpointConfigsOfThisStack",
      Effect: "Allow",
      Action: "sagemaker:CreateEndpointConfig",
      Resource: config,
      Condition: { StringEquals: requestTag },
    },
    {
      // Tags on a create call are authorised as AddTags; only as part of those two creates.
      Sid: "TagOnCreate",
      Effect: "Allow",
      Action: "sagemaker:AddTags",
      Resource: [model, config],
      Condition: { StringEquals: { ...requestTag, "sagemaker:TaggingAction": ["CreateModel", "CreateEndpointConfig"] } },
    },
    {
      Sid: "ReadAndRetireModelsAndConfigsOfThisStack",
      Effect: "Allow",
      Action: ["sagemaker:DescribeModel", "sagemaker:DeleteModel", "sagemaker:DescribeEndpointConfig", "sagemaker:DeleteEndpointConfig", "sagemaker:ListTags"],
      Resource: [model, config],
      Condition: { StringEquals: resourceTag },
    },
    {
      // UpdateEndpoint is authorised on the endpoint and on the config it switches to (§5).
      Sid: "SwitchToConfigsOfThisStack",
      Effect: "Allow",
      Action: "sagemaker:UpdateEndpoint",
      Resource: config,
      Condition: { StringEquals: resourceTag },
    },
    {
      // The CFN handler's update permissions for AWS::SageMaker::Endpoint (§4).
      Sid: "UpdateThisEndpoint",
      Effect: "Allow",
      Action: ["sagemaker:UpdateEndpoint", "sagemaker:DescribeEndpoint", "sagemaker:ListTags", "sagemaker:AddTags", "sagemaker:DeleteTags"],
      Resource: endpoint,
    },
    {
      Sid: "PassHostingRoleToSageMaker",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: args.hostingRoleArn,
      Condition: { StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" } },
    },
    {
      // Cloud Control actions have no resource types in IAM; what they can do is bounded by the
      // SageMaker permissions above, which the handler uses (no Cloud Control role is configured).
      Sid: "UpdateThroughCloudControl",
      Effect: "Allow",
      Action: ["cloudformation:UpdateResource", "cloudformation:GetResource", "cloudformation:GetResourceRequestStatus"],
      Resource: "*",
    },
    {
      // A config with KmsKeyId needs the caller of CreateEndpointConfig/UpdateEndpoint to be able
      // to use the key (CreateEndpointConfig API, KmsKeyId); grants only to AWS services.
      Sid: "UseKeyForEndpointStorage",
      Effect: "Allow",
      Action: "kms:DescribeKey",
      Resource: args.kmsKeyArn,
    },
    {
      Sid: "GrantKeyOnlyToAwsServices",
      Effect: "Allow",
      Action: "kms:CreateGrant",
      Resource: args.kmsKeyArn,
      Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
    },
  ];
  return policy(...statements);
}
