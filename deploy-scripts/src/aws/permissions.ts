/**
 * Every AWS SDK command ml-deploy sends, with the IAM permissions AWS checks for it and the resource
 * each is checked on, computed from the command's own input. `test/deployer-policy.test.ts` runs
 * the commands against mocks, looks every sent command up here and asks the deployer policy
 * (`infra/policies/deployer-policy.ts`) whether it allows each permission: a new SDK call without
 * an entry, or a policy that lost an action, fails that test.
 */

export interface PermissionEnv {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  /** The KMS key that encrypts a bucket's objects by default (SSE-KMS bucket keys). */
  kmsKeyOfBucket(bucket: string): string;
  /**
   * Where a workgroup that enforces its configuration writes query results (`s3://bucket/prefix/`);
   * Athena then ignores the request's ResultConfiguration. Undefined for a workgroup that does not.
   */
  enforcedResultLocation(workgroup: string): string | undefined;
  /** The workgroup a query ran in: GetQueryExecution and GetQueryResults are authorised on it. */
  workgroupOfQuery(queryExecutionId: string): string;
  /** A Glue table's data location (`s3://bucket/prefix/`), which Athena reads with the caller's credentials. */
  tableLocation(database: string, table: string): string;
}

export interface RequiredPermission {
  readonly action: string;
  readonly resource: string;
  /** Condition keys and the values AWS puts into the request context for this call. */
  readonly context?: Readonly<Record<string, string>>;
}

type Input = Record<string, unknown>;
type Rule = (input: Input, env: PermissionEnv) => RequiredPermission[];

const str = (input: Input, key: string): string => {
  const v = input[key];
  if (typeof v !== "string") throw new Error(`permission rule: input.${key} is not a string`);
  return v;
};
const sm = (env: PermissionEnv, type: string, name: string) => `arn:${env.partition}:sagemaker:${env.region}:${env.accountId}:${type}/${name.toLowerCase()}`;
const object = (env: PermissionEnv, bucket: string, key: string) => `arn:${env.partition}:s3:::${bucket}/${key}`;

/** Keyed by the SDK command class name (`CreateTrainingJobCommand`). */
export const SDK_PERMISSIONS: Readonly<Record<string, Rule>> = {
  // SageMaker
  CreateTrainingJobCommand: (input, env): RequiredPermission[] => {
    const job = sm(env, "training-job", str(input, "TrainingJobName"));
    return [
      { action: "sagemaker:CreateTrainingJob", resource: job },
      // Tags on a create call are authorised as sagemaker:AddTags on the new resource.
      ...(Array.isArray(input.Tags) && input.Tags.length > 0
        ? [{ action: "sagemaker:AddTags", resource: job, context: { "sagemaker:TaggingAction": "CreateTrainingJob" } }]
        : []),
      { action: "iam:PassRole", resource: str(input, "RoleArn"), context: { "iam:PassedToService": "sagemaker.amazonaws.com" } },
    ];
  },
  DescribeTrainingJobCommand: (input, env) => [{ action: "sagemaker:DescribeTrainingJob", resource: sm(env, "training-job", str(input, "TrainingJobName")) }],
  ListTagsCommand: (input) => [{ action: "sagemaker:ListTags", resource: str(input, "ResourceArn") }],
  // ListModelPackages has no resource-level permissions in IAM.
  ListModelPackagesCommand: () => [{ action: "sagemaker:ListModelPackages", resource: "*" }],
  CreateModelPackageCommand: (input, env) => [
    { action: "sagemaker:CreateModelPackage", resource: `${sm(env, "model-package", str(input, "ModelPackageGroupName"))}/*` },
  ],
  DescribeModelPackageCommand: (input) => [{ action: "sagemaker:DescribeModelPackage", resource: lowerArn(str(input, "ModelPackageName")) }],
  UpdateModelPackageCommand: (input) => [{ action: "sagemaker:UpdateModelPackage", resource: lowerArn(str(input, "ModelPackageArn")) }],
  DescribeEndpointCommand: (input, env) => [{ action: "sagemaker:DescribeEndpoint", resource: sm(env, "endpoint", str(input, "EndpointName")) }],
  // lineage: the endpoint's config and model.
  DescribeEndpointConfigCommand: (input, env) => [
    { action: "sagemaker:DescribeEndpointConfig", resource: sm(env, "endpoint-config", str(input, "EndpointConfigName")) },
  ],
  DescribeModelCommand: (input, env) => [{ action: "sagemaker:DescribeModel", resource: sm(env, "model", str(input, "ModelName")) }],
  // SageMaker Feature Store runtime: `features ingest` writes (DescribeFeatureGroup is below, with `features dataset`).
  PutRecordCommand: (input, env) => [{ action: "sagemaker:PutRecord", resource: sm(env, "feature-group", str(input, "FeatureGroupName")) }],
  // SageMaker Runtime
  InvokeEndpointCommand: (input, env) => [{ action: "sagemaker:InvokeEndpoint", resource: sm(env, "endpoint", str(input, "EndpointName")) }],
  // S3 (HeadObject is authorised as s3:GetObject; either with a VersionId as s3:GetObjectVersion)
  HeadObjectCommand: (input, env) => [{ action: getObject(input), resource: object(env, str(input, "Bucket"), str(input, "Key")) }],
  GetObjectCommand: (input, env) => {
    const bucket = str(input, "Bucket");
    return [
      { action: getObject(input), resource: object(env, bucket, str(input, "Key")) },
      { action: "kms:Decrypt", resource: env.kmsKeyOfBucket(bucket) },
    ];
  },
  PutObjectCommand: (input, env) => [
    { action: "s3:PutObject", resource: object(env, str(input, "Bucket"), str(input, "Key")), context: sseContext(str(input, "SSEKMSKeyId")) },
    { action: "kms:GenerateDataKey", resource: str(input, "SSEKMSKeyId") },
  ],
  ListObjectsV2Command: (input, env) => [
    { action: "s3:ListBucket", resource: `arn:${env.partition}:s3:::${str(input, "Bucket")}`, context: { "s3:prefix": String(input.Prefix ?? "") } },
  ],
  // Feature sets: `features dataset` finds the offline store's table, then queries it with Athena.
  DescribeFeatureGroupCommand: (input, env) => [
    { action: "sagemaker:DescribeFeatureGroup", resource: sm(env, "feature-group", str(input, "FeatureGroupName")) },
  ],
  // Athena reads the tables' data, writes the results and uses the catalog with the caller's
  // credentials (Athena User Guide: "Control access to Amazon S3 from Athena", "Configure access to
  // databases and tables in the AWS Glue Data Catalog"); a workgroup that enforces its configuration
  // writes where it says, whatever the request asks.
  StartQueryExecutionCommand: (input, env) => {
    const workgroup = str(input, "WorkGroup");
    const database = str((input.QueryExecutionContext ?? {}) as Input, "Database");
    const results = env.enforcedResultLocation(workgroup) ?? str((input.ResultConfiguration ?? {}) as Input, "OutputLocation");
    const kmsKey = env.kmsKeyOfBucket(s3Location(results).bucket);
    return [
      { action: "athena:StartQueryExecution", resource: athenaWorkgroup(env, workgroup) },
      ...queryCatalogPermissions(str(input, "QueryString"), database, env),
      // Every query writes its result file and metadata there, encrypted with the key through S3.
      { action: "s3:GetBucketLocation", resource: `arn:${env.partition}:s3:::${s3Location(results).bucket}` },
      { action: "s3:PutObject", resource: `${s3Arn(env, results)}*`, context: sseContext(kmsKey) },
      { action: "kms:GenerateDataKey", resource: kmsKey, context: viaS3(env) },
    ];
  },
  GetQueryExecutionCommand: (input, env) => [
    { action: "athena:GetQueryExecution", resource: athenaWorkgroup(env, env.workgroupOfQuery(str(input, "QueryExecutionId"))) },
  ],
  // The caller also needs s3:GetObject on the result file (GetQueryResults API reference).
  GetQueryResultsCommand: (input, env) => {
    const workgroup = env.workgroupOfQuery(str(input, "QueryExecutionId"));
    const results = env.enforcedResultLocation(workgroup);
    if (!results) throw new Error(`permission rule: workgroup ${workgroup} has no enforced result location to read the results from`);
    const bucket = s3Location(results).bucket;
    return [
      { action: "athena:GetQueryResults", resource: athenaWorkgroup(env, workgroup) },
      { action: "s3:GetObject", resource: `${s3Arn(env, results)}*` },
      { action: "kms:Decrypt", resource: env.kmsKeyOfBucket(bucket), context: viaS3(env) },
    ];
  },
  // ECR: promote's image copy, on the source repository (read) and the target's (write)
  BatchGetImageCommand: (input, env) => [{ action: "ecr:BatchGetImage", resource: repository(env, input) }],
  GetDownloadUrlForLayerCommand: (input, env) => [{ action: "ecr:GetDownloadUrlForLayer", resource: repository(env, input) }],
  BatchCheckLayerAvailabilityCommand: (input, env) => [{ action: "ecr:BatchCheckLayerAvailability", resource: repository(env, input) }],
  InitiateLayerUploadCommand: (input, env) => [{ action: "ecr:InitiateLayerUpload", resource: repository(env, input) }],
  UploadLayerPartCommand: (input, env) => [{ action: "ecr:UploadLayerPart", resource: repository(env, input) }],
  CompleteLayerUploadCommand: (input, env) => [{ action: "ecr:CompleteLayerUpload", resource: repository(env, input) }],
  PutImageCommand: (input, env) => [{ action: "ecr:PutImage", resource: repository(env, input) }],
  // STS: the check that the caller may act as the stack's endpoint-updater role; session tags need sts:TagSession.
  AssumeRoleCommand: (input) => [
    { action: "sts:AssumeRole", resource: str(input, "RoleArn") },
    ...(Array.isArray(input.Tags) && input.Tags.length > 0 ? [{ action: "sts:TagSession", resource: str(input, "RoleArn") }] : []),
  ],
};

const athenaWorkgroup = (env: PermissionEnv, name: string) => `arn:${env.partition}:athena:${env.region}:${env.accountId}:workgroup/${name}`;
const sseContext = (kmsKeyArn: string) => ({ "s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": kmsKeyArn });
const viaS3 = (env: PermissionEnv) => ({ "kms:ViaService": `s3.${env.region}.amazonaws.com` });
const s3Location = (uri: string) => {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!m) throw new Error(`permission rule: ${uri} is not an s3:// URI`);
  return { bucket: m[1]!, key: m[2]! };
};
const s3Arn = (env: PermissionEnv, uri: string) => object(env, s3Location(uri).bucket, s3Location(uri).key);

/**
 * What the Glue catalog and S3 check for one of `features dataset`'s statements: creating the
 * labels table, the point-in-time SELECT over tables (`"db"."table"`), dropping the labels table.
 * A statement of another shape has no entry: add one here with its permissions.
 */
function queryCatalogPermissions(sql: string, database: string, env: PermissionEnv): RequiredPermission[] {
  const glue = (type: string) => `arn:${env.partition}:glue:${env.region}:${env.accountId}:${type}`;
  // Glue authorises an action on each of its resource types (Service Authorization Reference):
  // GetDatabase on the catalog and the database, the table actions on the table as well.
  const onTable = (action: string, db: string, table: string) => [
    { action, resource: glue("catalog") },
    { action, resource: glue(`database/${db}`) },
    ...(action === "glue:GetDatabase" ? [] : [{ action, resource: glue(`table/${db}/${table}`) }]),
  ];
  const created = /^CREATE EXTERNAL TABLE `([^`]+)`\.`([^`]+)`/.exec(sql);
  if (created) return ["glue:GetDatabase", "glue:CreateTable"].flatMap((a) => onTable(a, created[1]!, created[2]!));
  const dropped = /^DROP TABLE IF EXISTS `([^`]+)`\.`([^`]+)`$/.exec(sql);
  if (dropped) return ["glue:GetDatabase", "glue:GetTable", "glue:DeleteTable"].flatMap((a) => onTable(a, dropped[1]!, dropped[2]!));
  if (!/^(WITH|SELECT)\b/.test(sql)) throw new Error(`permission rule: no permissions known for the Athena statement ${sql.slice(0, 60)}`);
  const tables = [...new Map([...sql.matchAll(/"([^"]+)"\."([^"]+)"/g)].map((m) => [`${m[1]}.${m[2]}`, { db: m[1]!, table: m[2]! }])).values()];
  if (tables.length === 0) tables.push({ db: database, table: "*" });
  return tables.flatMap(({ db, table }) => {
    const location = env.tableLocation(db, table);
    const { bucket, key } = s3Location(location);
    return [
      ...["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"].flatMap((a) => onTable(a, db, table)),
      { action: "s3:ListBucket", resource: `arn:${env.partition}:s3:::${bucket}`, context: { "s3:prefix": key } },
      { action: "s3:GetObject", resource: `${s3Arn(env, location)}*` },
      { action: "kms:Decrypt", resource: env.kmsKeyOfBucket(bucket), context: viaS3(env) },
    ];
  });
}

const getObject = (input: Input) => (typeof input.VersionId === "string" ? "s3:GetObjectVersion" : "s3:GetObject");
const repository = (env: PermissionEnv, input: Input) =>
  `arn:${env.partition}:ecr:${env.region}:${typeof input.registryId === "string" ? input.registryId : env.accountId}:repository/${str(input, "repositoryName")}`;

/**
 * What `ml-deploy images` needs from ECR: `docker push` and the digest lookup speak the registry
 * API, not the SDK, so these are listed by hand for the repository pushed to.
 */
export function dockerPushPermissions(repositoryArn: string): RequiredPermission[] {
  return [
    { action: "ecr:GetAuthorizationToken", resource: "*" },
    ...[
      "ecr:BatchCheckLayerAvailability",
      "ecr:InitiateLayerUpload",
      "ecr:UploadLayerPart",
      "ecr:CompleteLayerUpload",
      "ecr:PutImage",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ].map((action) => ({ action, resource: repositoryArn })),
  ];
}

export function requiredPermissions(commandName: string, input: Input, env: PermissionEnv): RequiredPermission[] {
  const rule = SDK_PERMISSIONS[commandName];
  if (!rule) throw new Error(`${commandName} is sent by ml-deploy but has no entry in SDK_PERMISSIONS (deploy-scripts/src/aws/permissions.ts)`);
  return rule(input, env);
}

/** Model package ARNs come back with the group's case; IAM sees SageMaker ARNs in lower case. */
function lowerArn(arn: string): string {
  const i = arn.indexOf(":model-package/");
  return i < 0 ? arn : arn.slice(0, i) + arn.slice(i).toLowerCase();
}
