// Pulumi type tokens of the AWS resources the rules read (the SDK classes keep theirs internal).
export const TYPES = {
  bucket: "aws:s3/bucket:Bucket",
  bucketEncryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  bucketPublicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  bucketVersioning: "aws:s3/bucketVersioning:BucketVersioning",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  bucketLifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  bucketOwnership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  ecrRepository: "aws:ecr/repository:Repository",
  ecrLifecyclePolicy: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
  iamRole: "aws:iam/role:Role",
  iamPolicy: "aws:iam/policy:Policy",
  iamRolePolicy: "aws:iam/rolePolicy:RolePolicy",
  iamUserPolicy: "aws:iam/userPolicy:UserPolicy",
  iamGroupPolicy: "aws:iam/groupPolicy:GroupPolicy",
  iamRolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  iamUserPolicyAttachment: "aws:iam/userPolicyAttachment:UserPolicyAttachment",
  iamGroupPolicyAttachment: "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
  iamPolicyAttachment: "aws:iam/policyAttachment:PolicyAttachment",
  iamRolePolicyAttachmentsExclusive: "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
  iamUserPolicyAttachmentsExclusive: "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
  iamGroupPolicyAttachmentsExclusive: "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
  sageMakerModel: "aws:sagemaker/model:Model",
  sageMakerEndpointConfig: "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
  featureGroup: "aws:sagemaker/featureGroup:FeatureGroup",
  scalingTarget: "aws:appautoscaling/target:Target",
  kmsKey: "aws:kms/key:Key",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  snsTopic: "aws:sns/topic:Topic",
  metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
} as const;

// The props the resource rules read, as plain data. The pack deliberately does not import
// @pulumi/aws: its type definitions are thousands of files that ts-node would type-check every
// time the CLI loads the pack. test/policy-pack.test.ts checks these against the SDK's own types.
export interface KmsKeyProps {
  enableKeyRotation?: boolean;
  customerMasterKeySpec?: string;
  policy?: string;
}

export interface EcrRepositoryProps {
  imageTagMutability?: string;
  imageScanningConfiguration?: { scanOnPush?: boolean };
  encryptionConfigurations?: Array<{ encryptionType?: string; kmsKey?: string }>;
}

export interface FeatureGroupProps {
  offlineStoreConfig?: { s3StorageConfig: { s3Uri: string; kmsKeyId?: string }; tableFormat?: string };
  onlineStoreConfig?: { enableOnlineStore?: boolean; securityConfig?: { kmsKeyId?: string } };
}

export interface LogGroupProps {
  retentionInDays?: number;
  kmsKeyId?: string;
}

export interface SnsTopicProps {
  kmsMasterKeyId?: string;
}

export interface MetricAlarmProps {
  /** ARNs (the SDK also takes Topic objects; the engine sees their ARNs). */
  alarmActions?: unknown[];
  actionsEnabled?: boolean;
}
