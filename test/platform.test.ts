import { beforeAll, describe, expect, it } from "vitest";
import { ProgramError, readStackConfig, type PlanResult } from "../infra/offline/mock-run";
import { parseDeployerStage } from "../infra/policies/stage";
import { PROVIDER_ROLE_ENV } from "../infra/policies/duties";
import { REQUIRED_TAG_KEYS } from "../infra/tags";
import { json, ofType, one, planStack } from "./helpers/platform";
import { isTaggable } from "./helpers/taggable";

const T = {
  bucket: "aws:s3/bucket:Bucket",
  sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  key: "aws:kms/key:Key",
  repo: "aws:ecr/repository:Repository",
  repoLifecycle: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  group: "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
  model: "aws:sagemaker/model:Model",
  config: "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
  endpoint: "aws-native:sagemaker:Endpoint",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  target: "aws:appautoscaling/target:Target",
  scalingPolicy: "aws:appautoscaling/policy:Policy",
  topic: "aws:sns/topic:Topic",
} as const;

const plans: Record<string, PlanResult> = {};
beforeAll(async () => {
  // One real program run per real stack file.
  for (const stack of ["dev", "staging", "prod"]) plans[stack] = await planStack(stack);
});

/** The bucket-level resource of `type` that belongs to the bucket resource `bucket`. */
function forBucket(plan: PlanResult, type: string, bucketName: string) {
  const bucket = plan.resources.find((r) => r.name === bucketName)!;
  return ofType(plan, type).filter((r) => r.inputs.bucket === bucket.state.bucket || r.inputs.bucket === `${bucketName}-id`);
}

describe.each(["dev", "staging", "prod"])("stack %s", (stack) => {
  const plan = () => plans[stack];

  it("creates the datasets and artifacts buckets, each with every guardrail", () => {
    // The access-log bucket has its own guardrails (test/platform-storage.test.ts).
    const buckets = ofType(plan(), T.bucket).filter((b) => b.name !== "store-access-logs-bucket");
    expect(buckets.map((b) => b.name).sort()).toEqual(["store-artifacts-bucket", "store-datasets-bucket"]);
    const keyArn = one(plan(), T.key).state.arn;
    for (const bucket of buckets) {
      const [sse] = forBucket(plan(), T.sse, bucket.name);
      expect(sse.inputs.rules).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn }, bucketKeyEnabled: true }]);
      const [block] = forBucket(plan(), T.publicAccess, bucket.name);
      expect(block.inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
      const [ownership] = forBucket(plan(), T.ownership, bucket.name);
      expect(ownership.inputs.rule).toEqual({ objectOwnership: "BucketOwnerEnforced" });
      const [versioning] = forBucket(plan(), T.versioning, bucket.name);
      expect(versioning.inputs.versioningConfiguration.status).toBe("Enabled");
      const [lifecycle] = forBucket(plan(), T.lifecycle, bucket.name);
      expect(lifecycle.inputs.rules.some((r: any) => r.noncurrentVersionExpiration?.noncurrentDays > 0)).toBe(true);
      expect(lifecycle.dependsOn).toContain(versioning.name);
    }
  });

  it("expires checkpoints and captured traffic, never the training outputs registered versions point at", () => {
    const [lifecycle] = forBucket(plan(), T.lifecycle, "store-artifacts-bucket");
    const expiring = Object.fromEntries(lifecycle.inputs.rules.filter((r: any) => r.expiration).map((r: any) => [r.filter.prefix, r.expiration.days]));
    expect(Object.keys(expiring).sort()).toEqual(["checkpoints/", "data-capture/"]);
    expect(lifecycle.inputs.rules.every((r: any) => r.status === "Enabled")).toBe(true);
  });

  it("denies every non-TLS request to each bucket", () => {
    for (const bucket of ofType(plan(), T.bucket)) {
      const [bucketPolicy] = forBucket(plan(), T.bucketPolicy, bucket.name);
      const doc = json(bucketPolicy.inputs.policy);
      expect(doc.Statement).toContainEqual({
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucket.state.arn, `${bucket.state.arn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      });
    }
  });

  it("rotates the customer-managed key", () => {
    expect(one(plan(), T.key).inputs.enableKeyRotation).toBe(true);
  });

  it("scans images on push, keeps tags immutable, encrypts with the key and expires untagged images", () => {
    const repo = one(plan(), T.repo);
    expect(repo.inputs).toMatchObject({
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: one(plan(), T.key).state.arn }],
    });
    const rules = json(one(plan(), T.repoLifecycle).inputs.policy).rules;
    expect(rules[0].selection).toMatchObject({ tagStatus: "untagged", countType: "sinceImagePushed" });
  });

  const named = (name: string) => plan().resources.find((r) => r.name === name)!;
  const trainingRole = () => named("training-execution-role");
  const hostingRole = () => named("hosting-execution-role");
  const deployerRole = () => named("deployer-role");

  it("lets only SageMaker, for this account's own resources, assume the training and hosting roles", () => {
    for (const [role, sourceArn] of [
      [trainingRole(), "arn:aws:sagemaker:eu-west-1:123456789012:training-job/*"],
      [hostingRole(), "arn:aws:sagemaker:eu-west-1:123456789012:*"],
    ] as const) {
      expect(json(role.inputs.assumeRolePolicy).Statement, role.name).toEqual([
        expect.objectContaining({
          Effect: "Allow",
          Principal: { Service: "sagemaker.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceAccount": "123456789012" }, ArnLike: { "aws:SourceArn": sourceArn } },
        }),
      ]);
    }
    for (const role of ofType(plan(), T.role)) expect(role.inputs.managedPolicyArns ?? [], role.name).toEqual([]);
  });

  it("grants no wildcard action in any role, and '*' resources only to actions IAM cannot scope", () => {
    const policies = ofType(plan(), T.rolePolicy);
    expect(policies.map((p) => p.name).sort()).toEqual(
      [
        "approver-permissions",
        "deployer-permissions",
        "endpoint-updater-permissions",
        "features-ingestion-permissions",
        "features-offline-store-permissions",
        "hosting-execution-permissions",
        "training-execution-permissions",
        // The training pipeline's roles, where the stack has one (prod).
        ...(ofType(plan(), "aws:sagemaker/pipeline:Pipeline").length > 0
          ? ["training-evaluation-permissions", "training-pipeline-permissions", "training-scheduler-permissions", "training-snapshot-permissions"]
          : []),
      ].sort(),
    );
    for (const rolePolicy of policies) {
      for (const statement of json(rolePolicy.inputs.policy).Statement) {
        const actions = [statement.Action].flat();
        expect(
          actions.filter((a: string) => a === "*" || a.endsWith(":*")),
          statement.Sid,
        ).toEqual([]);
        const resources = [statement.Resource].flat();
        if (resources.includes("*")) {
          const unscopable = [
            "ecr:GetAuthorizationToken",
            "cloudwatch:PutMetricData",
            "sagemaker:ListModelPackages",
            "cloudformation:UpdateResource",
            "cloudformation:GetResource",
            "cloudformation:GetResourceRequestStatus",
          ];
          // A Deny on "*" only takes away.
          if (statement.Effect === "Allow")
            expect(
              actions.every((a: string) => unscopable.includes(a)),
              statement.Sid,
            ).toBe(true);
        }
      }
    }
  });

  it("lets the deployer pass only the training role, only to SageMaker, and run only this stack's jobs", () => {
    const permissions = json(named("deployer-permissions").inputs.policy).Statement;
    const passRole = permissions.find((s: any) => [s.Action].flat().includes("iam:PassRole"));
    expect(passRole.Resource).toBe(trainingRole().state.arn);
    expect(passRole.Condition).toEqual({ StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" } });
    const training = permissions.find((s: any) => [s.Action].flat().includes("sagemaker:CreateTrainingJob"));
    expect(training.Resource).toBe(`arn:aws:sagemaker:eu-west-1:123456789012:training-job/flight-delays-${stack}-*`);
  });

  it("lets nobody assume the deployer or approver role until principals are configured", () => {
    for (const [role, sid] of [
      [deployerRole(), "TrustedDeployers"],
      [named("approver-role"), "TrustedApprovers"],
    ] as const) {
      expect(json(role.inputs.assumeRolePolicy).Statement, role.name).toEqual([
        { Sid: `${sid}NoneConfigured`, Effect: "Deny", Principal: { AWS: "*" }, Action: "sts:AssumeRole" },
      ]);
    }
  });

  it("lets only this stage's deployer role assume the endpoint updater", () => {
    expect(json(named("endpoint-updater-role").inputs.assumeRolePolicy).Statement).toEqual([
      { Sid: "DeployerAndTrustedPrincipals", Effect: "Allow", Principal: { AWS: [deployerRole().state.arn] }, Action: ["sts:AssumeRole", "sts:TagSession"] },
    ]);
  });

  it("tags every platform role with its one duty", () => {
    const duties = Object.fromEntries(ofType(plan(), T.role).map((r) => [r.name, r.inputs.tags?.["mlplatform:duty"]]));
    expect(duties).toEqual({
      "training-execution-role": "training",
      "hosting-execution-role": "hosting",
      "deployer-role": "deployer",
      "endpoint-updater-role": "endpoint-updater",
      "approver-role": "approver",
      "features-offline-store-role": "feature-store",
      "features-ingestion-role": "feature-ingestion",
      ...(ofType(plan(), "aws:sagemaker/pipeline:Pipeline").length > 0
        ? {
            "training-pipeline-role": "pipeline",
            "training-snapshot-role": "snapshot",
            "training-evaluation-role": "evaluation",
            "training-scheduler-role": "pipeline-starter",
          }
        : {}),
    });
  });

  it("lets each execution role pull only this stage's images, and grant the key only to AWS services", () => {
    for (const name of ["training-execution-permissions", "hosting-execution-permissions"]) {
      const statements = json(named(name).inputs.policy).Statement;
      expect(statements.find((s: any) => s.Sid === "PullOwnImages").Resource, name).toEqual([one(plan(), T.repo).state.arn]);
      const grant = statements.find((s: any) => [s.Action].flat().includes("kms:CreateGrant"));
      expect(grant.Condition, name).toEqual({ Bool: { "kms:GrantIsForAWSResource": "true" } });
    }
  });

  it("separates duties: training writes no model, hosting writes no training output and reads no dataset", () => {
    const writes = (name: string) =>
      json(named(name).inputs.policy)
        .Statement.filter((s: any) => [s.Action].flat().includes("s3:PutObject"))
        .flatMap((s: any) => [s.Resource].flat());
    const artifacts = named("store-artifacts-bucket").state.arn;
    expect(writes("training-execution-permissions").sort()).toEqual([`${artifacts}/checkpoints/*`, `${artifacts}/training-output/*`]);
    expect(writes("hosting-execution-permissions")).toEqual([`${artifacts}/data-capture/*`]);
    const hostingReads = JSON.stringify(json(named("hosting-execution-permissions").inputs.policy));
    expect(hostingReads).not.toContain(named("store-datasets-bucket").state.arn);
  });

  it("scopes the endpoint updater to this stack's endpoint, its tagged models and configs, and the hosting role", () => {
    const statements = json(named("endpoint-updater-permissions").inputs.policy).Statement;
    const bySid = Object.fromEntries(statements.map((s: any) => [s.Sid, s]));
    expect(bySid.UpdateThisEndpoint.Resource).toBe(`arn:aws:sagemaker:eu-west-1:123456789012:endpoint/flight-delays-${stack}`);
    expect(bySid.CreateModelsOfThisStack.Condition.StringEquals).toEqual({ "aws:RequestTag/stack": stack });
    expect(bySid.PassHostingRoleToSageMaker.Resource).toBe(hostingRole().state.arn);
    // The prefixes match the names the provider gives the endpoint's Model and config.
    expect(bySid.CreateModelsOfThisStack.Resource).toBe("arn:aws:sagemaker:eu-west-1:123456789012:model/inference-model-*");
    expect(one(plan(), T.model).name).toBe("inference-model");
  });

  it("refuses overwrites of promoted models and deletions of served artifacts in the artifact bucket's policy", () => {
    const artifacts = named("store-artifacts-bucket");
    const [bucketPolicy] = forBucket(plan(), T.bucketPolicy, artifacts.name);
    const sids = json(bucketPolicy.inputs.policy).Statement.map((s: any) => s.Sid);
    expect(sids).toEqual(expect.arrayContaining(["DenyOverwritingPromotedModels", "DenyPlatformRolesDeletingServedArtifacts"]));
  });

  it("serves the Endpoint through an aws-native provider with the same region and default tags as the aws one", () => {
    const providers = Object.fromEntries(
      plan()
        .resources.filter((r) => r.type.startsWith("pulumi:providers:"))
        .map((r) => [r.type, r.inputs]),
    );
    const aws = providers["pulumi:providers:aws"];
    const native = providers["pulumi:providers:aws-native"];
    expect(native.region).toBe(aws.region);
    expect(json(native.defaultTags)).toEqual(json(aws.defaultTags));
    for (const key of REQUIRED_TAG_KEYS) expect(json(native.defaultTags).tags, key).toHaveProperty(key);
    expect(one(plan(), T.endpoint).provider).toBe("aws-native");
  });

  it("registers a model package group for the model", () => {
    expect(one(plan(), T.group).inputs.modelPackageGroupName).toBe(`flight-delays-${stack}`);
  });

  it("serves the pinned model version through the hosting role", () => {
    const model = one(plan(), T.model);
    expect(model.inputs.executionRoleArn).toBe(hostingRole().state.arn);
    expect(model.inputs.primaryContainer.modelPackageName).toMatch(new RegExp(`model-package/flight-delays-${stack}/\\d+$`));
    expect(model.dependsOn).toContain("hosting-execution-permissions");
  });

  it("tags every taggable resource through the provider's default tags", () => {
    const taggable = plan().resources.filter((r) => r.custom && isTaggable(r.type));
    expect(taggable.length).toBeGreaterThan(10);
    for (const resource of taggable) {
      expect(resource.provider, `${resource.name} must use the platform provider`).toBe("aws");
      for (const key of REQUIRED_TAG_KEYS) expect(resource.state.tagsAll, `${resource.type} ${resource.name}`).toHaveProperty(key);
      expect(resource.state.tagsAll.stack).toBe(stack);
    }
  });

  it("exports what the deploy tools need", () => {
    const outputs = plan().outputs;
    for (const key of [
      "region",
      "accountId",
      "kmsKeyArn",
      "datasetBucketName",
      "artifactBucketName",
      "executionRoleArn",
      "trainingRoleArn",
      "hostingRoleArn",
      "deployerRoleArn",
      "updaterRoleArn",
      "approverRoleArn",
      "deployerStage",
      "repositoryUrls",
      "repositoryArns",
      "modelPackageGroupName",
      "endpointName",
      "endpointDeployment",
      "datasetUri",
      "trainingOutputUri",
      "checkpointUri",
    ]) {
      expect(outputs[key], key).toBeDefined();
    }
    const arnOf = (name: string) => named(name).state.arn;
    expect(outputs).toMatchObject({
      trainingRoleArn: arnOf("training-execution-role"),
      hostingRoleArn: arnOf("hosting-execution-role"),
      // ml-deploy train still reads executionRoleArn: the training role.
      executionRoleArn: arnOf("training-execution-role"),
      updaterRoleArn: arnOf("endpoint-updater-role"),
      approverRoleArn: arnOf("approver-role"),
      repositoryArns: { "ml-core": one(plan(), T.repo).state.arn },
    });
    expect((outputs.deployerStage as any).repositoryArns).toEqual([one(plan(), T.repo).state.arn]);
    expect(outputs.endpointName).toBe(`flight-delays-${stack}`);
    expect(outputs.repositoryUrls).toEqual({ "ml-core": expect.stringMatching(/^123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\//) });
    expect(outputs.datasetUri).toMatch(/^s3:\/\/.+\/datasets\/flight-delays\/v1\/$/);
  });

  it("encrypts the endpoint's logs with the key and keeps them as long as configured", () => {
    const logGroup = ofType(plan(), T.logGroup).find((g) => g.name === "inference-logs")!;
    expect(logGroup.inputs).toMatchObject({ name: `/aws/sagemaker/Endpoints/flight-delays-${stack}`, kmsKeyId: one(plan(), T.key).state.arn });
    expect(one(plan(), T.endpoint).dependsOn).toContain(logGroup.name);
  });

  it("alarms on model 5XX errors and p99 latency, notifying the encrypted topic", () => {
    // The endpoint's own (rollback) alarms; the monitoring component's are tested in monitoring.test.ts.
    const alarms = ofType(plan(), T.alarm).filter((a) => a.parent === "inference");
    expect(alarms.map((a) => a.inputs.metricName).sort()).toEqual(["Invocation5XXErrors", "ModelLatency"]);
    const topic = one(plan(), T.topic);
    expect(topic.inputs.kmsMasterKeyId).toBe(one(plan(), T.key).state.arn);
    for (const alarm of alarms) {
      expect(alarm.inputs.dimensions).toEqual({ EndpointName: `flight-delays-${stack}`, VariantName: "primary" });
      expect(alarm.inputs.alarmActions).toEqual([topic.state.arn]);
    }
  });
});

describe("dev: serverless, cheap, disposable", () => {
  it("serves from a serverless variant that scales to zero", () => {
    const variant = one(plans.dev, T.config).inputs.productionVariants[0];
    expect(variant.serverlessConfig).toEqual({ memorySizeInMb: 2048, maxConcurrency: 5 });
    expect(variant.instanceType).toBeUndefined();
    expect(variant.serverlessConfig.provisionedConcurrency).toBeUndefined();
  });

  it("creates no autoscaling or blue/green deployment (serverless scales itself)", () => {
    expect(ofType(plans.dev, T.target)).toEqual([]);
    expect(ofType(plans.dev, T.scalingPolicy)).toEqual([]);
    expect(one(plans.dev, T.endpoint).inputs.deploymentConfig).toBeUndefined();
  });

  it("lets destroy empty the buckets and does not protect them", () => {
    for (const bucket of ofType(plans.dev, T.bucket)) {
      expect(bucket.inputs.forceDestroy).toBe(true);
      expect(bucket.protect).toBe(false);
    }
  });
});

describe.each(["staging", "prod"])("%s: instance endpoint", (stack) => {
  it("encrypts the endpoint's storage and captures traffic to the artifact bucket with the key", () => {
    const config = one(plans[stack], T.config).inputs;
    const keyArn = one(plans[stack], T.key).state.arn;
    const artifacts = plans[stack].resources.find((r) => r.name === "store-artifacts-bucket")!;
    expect(config.kmsKeyArn).toBe(keyArn);
    expect(config.dataCaptureConfig).toMatchObject({
      enableCapture: true,
      destinationS3Uri: `s3://${artifacts.state.bucket}/data-capture/`,
      kmsKeyId: keyArn,
    });
  });

  it("isolates the model container from the network", () => {
    expect(one(plans[stack], T.model).inputs.enableNetworkIsolation).toBe(true);
  });

  it("rolls a blue/green deployment back on either alarm", () => {
    const deployment = one(plans[stack], T.endpoint).inputs.deploymentConfig;
    const alarmNames = ofType(plans[stack], T.alarm)
      .filter((a) => a.parent === "inference")
      .map((a) => a.state.name)
      .sort();
    expect(deployment.autoRollbackConfiguration.alarms.map((a: any) => a.alarmName).sort()).toEqual(alarmNames);
    expect(deployment.blueGreenUpdatePolicy.trafficRoutingConfiguration.type).toBeDefined();
  });

  it("scales the variant on invocations per instance, within the configured bounds, after the endpoint exists", () => {
    const target = one(plans[stack], T.target);
    expect(target.inputs).toMatchObject({
      serviceNamespace: "sagemaker",
      resourceId: `endpoint/flight-delays-${stack}/variant/primary`,
      scalableDimension: "sagemaker:variant:DesiredInstanceCount",
    });
    const policy = one(plans[stack], T.scalingPolicy);
    expect(policy.inputs.targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType).toBe(
      "SageMakerVariantInvocationsPerInstance",
    );
    expect(policy.inputs.resourceId).toBe(target.inputs.resourceId);
  });
});

describe.each([
  ["staging", "dev"],
  ["prod", "staging"],
])("%s: promoted into from %s", (stack, source) => {
  it("reads the source stage through a stack reference and lets the deployer read, not write, it", () => {
    const references = ofType(plans[stack], "pulumi:pulumi:StackReference")
      .map((r) => r.name)
      .sort();
    // The source stage's outputs, and this stack's own previous ones (the endpoint's deployment record).
    expect(references).toEqual([`organization/mlPlatform/${source}`, `organization/mlPlatform/${stack}`].sort());
    const permissions = json(plans[stack].resources.find((r) => r.name === "deployer-permissions")!.inputs.policy).Statement;
    const readRegistries = permissions.find((s: any) => s.Sid === "ReadEarlierRegistries");
    expect(readRegistries).toMatchObject({
      Action: "sagemaker:DescribeModelPackage",
      Resource: [`arn:aws:sagemaker:eu-west-1:123456789012:model-package/flight-delays-${source}/*`],
    });
    const writes = permissions.filter((s: any) => [s.Action].flat().some((a: string) => /:(Put|Create|Update|Delete)/.test(a)));
    for (const w of writes) expect(JSON.stringify(w.Resource), w.Sid).not.toContain(`flight-delays-${source}`);
  });
});

describe.each([
  ["staging", "dev"],
  ["prod", "staging"],
])("%s: images come from %s by copy", (stack, source) => {
  it("exports the source stage's repositories for the copy, and lets the deployer read them and push only to its own", () => {
    const sourceRepo = `arn:aws:ecr:eu-west-1:123456789012:repository/images-ml-core-`;
    const sources = plans[stack].outputs.sourceRepositoryArns as string[];
    expect(sources).toHaveLength(1);
    expect(sources[0]).toMatch(new RegExp(`^${sourceRepo}[0-9a-f]{7}$`));
    const statements = json(plans[stack].resources.find((r) => r.name === "deployer-permissions")!.inputs.policy).Statement;
    expect(statements.find((s: any) => s.Sid === "ReadEarlierStagesImages").Resource).toEqual(sources);
    expect(statements.find((s: any) => s.Sid === "PushImages").Resource).toEqual([one(plans[stack], T.repo).state.arn]);
    expect(source).toBeDefined();
  });

  it("fails clearly when the source stage's outputs cannot shape a policy", async () => {
    const stage = {
      region: "eu-west-1",
      accountId: "123456789012",
      datasetBucketArn: "arn:aws:s3:::d",
      artifactBucketArn: "arn:aws:s3:::a*",
      kmsKeyArn: "x",
      modelPackageGroupName: "g",
      endpointName: "e",
      repositoryArns: [],
    };
    expect(() => parseDeployerStage(source, "deployerStage", stage)).toThrow(
      `stack ${source}: output deployerStage cannot be used in a policy:\n  deployerStage.datasetBucketArn must be an S3 bucket ARN\n  deployerStage.artifactBucketArn must be an S3 bucket ARN\n  deployerStage.kmsKeyArn must be a KMS key ARN`,
    );
  });
});

describe("the identity of a run", () => {
  const role = "arn:aws:iam::123456789012:role/endpoint-updater-role-abc1234";
  const providers = (plan: PlanResult) =>
    Object.fromEntries(plan.resources.filter((r) => r.type.startsWith("pulumi:providers:")).map((r) => [r.type, r.inputs]));

  it("makes both providers assume the role named by ML_PLATFORM_PROVIDER_ROLE_ARN (the updater, for a model change)", async () => {
    process.env[PROVIDER_ROLE_ENV] = role;
    try {
      const p = providers(await planStack("staging"));
      expect(json(p["pulumi:providers:aws"].assumeRoles)).toEqual([{ roleArn: role, sessionName: "ml-platform-staging" }]);
      expect(json(p["pulumi:providers:aws-native"].assumeRole)).toEqual({ roleArn: role, sessionName: "ml-platform-staging" });
    } finally {
      delete process.env[PROVIDER_ROLE_ENV];
    }
  });

  it("uses the ambient credentials without it (the platform admin's infrastructure run)", () => {
    const p = providers(plans.staging);
    expect(p["pulumi:providers:aws"].assumeRoles).toBeUndefined();
    expect(p["pulumi:providers:aws-native"].assumeRole).toBeUndefined();
  });

  it("fails clearly on a value that is not a role ARN", async () => {
    process.env[PROVIDER_ROLE_ENV] = "updater";
    try {
      await expect(planStack("staging")).rejects.toThrow('ML_PLATFORM_PROVIDER_ROLE_ARN ("updater") must be an IAM role ARN');
    } finally {
      delete process.env[PROVIDER_ROLE_ENV];
    }
  });
});

describe("stack files", () => {
  it("hold no placeholder ARN: no repository, principal or other ARN of the example or mock accounts", () => {
    for (const stack of ["dev", "staging", "prod"]) {
      const config = readStackConfig(stack);
      // The pinned model version is written by `ml-deploy promote`/`rollback`, and the pipeline's
      // image by `ml-deploy images`, not by hand.
      const { "mlPlatform:model": _pin, ...rest } = config;
      const { image: _image, ...pipeline } = (rest["mlPlatform:pipeline"] ?? {}) as unknown as Record<string, unknown>;
      const text = JSON.stringify({ ...rest, "mlPlatform:pipeline": pipeline });
      expect(text, stack).not.toMatch(/111122223333|123456789012|arn:aws/);
    }
  });
});

describe("dev: promoted into from nowhere", () => {
  it("has no stack reference and no read access to other stages", () => {
    expect(ofType(plans.dev, "pulumi:pulumi:StackReference")).toEqual([]);
    const permissions = json(plans.dev.resources.find((r) => r.name === "deployer-permissions")!.inputs.policy).Statement;
    expect(permissions.find((s: any) => s.Sid === "ReadEarlierRegistries")).toBeUndefined();
  });
});

describe("prod: highly available, protected", () => {
  it("runs at least two instances and never scales below two", () => {
    const variant = one(plans.prod, T.config).inputs.productionVariants[0];
    expect(variant.initialInstanceCount).toBeGreaterThanOrEqual(2);
    expect(one(plans.prod, T.target).inputs.minCapacity).toBeGreaterThanOrEqual(2);
  });

  it("shifts traffic by canary and watches it before going further", () => {
    const routing = one(plans.prod, T.endpoint).inputs.deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration;
    expect(routing).toEqual({ type: "CANARY", canarySize: { type: "CAPACITY_PERCENT", value: 10 }, waitIntervalInSeconds: 600 });
  });

  it("protects the data: buckets and key cannot be deleted and survive the stack", () => {
    for (const r of [...ofType(plans.prod, T.bucket), one(plans.prod, T.key)]) {
      expect(r.protect, r.name).toBe(true);
      expect(r.retainOnDelete, r.name).toBe(true);
    }
    for (const bucket of ofType(plans.prod, T.bucket)) expect(bucket.inputs.forceDestroy).toBe(false);
  });

  it("keeps the model registry when the stack goes", () => {
    expect(one(plans.prod, T.group).retainOnDelete).toBe(true);
  });
});

describe("invalid config", () => {
  it("fails the program before any resource is registered, listing every problem", async () => {
    const run = planStack("prod", {
      "mlPlatform:serving": {
        mode: "instances",
        instanceType: "ml.c6i.xlarge",
        instanceCount: 2,
        highAvailability: true,
        autoscaling: { min: 3, max: 2, targetInvocationsPerInstance: 100 },
      },
      "mlPlatform:logRetentionDays": 10,
    });
    await expect(run).rejects.toThrow(/prod: mlPlatform:logRetentionDays \(10\)/);
    await expect(
      planStack("prod", {
        "mlPlatform:serving": {
          mode: "instances",
          instanceType: "ml.c6i.xlarge",
          instanceCount: 2,
          autoscaling: { min: 3, max: 2, targetInvocationsPerInstance: 100 },
        },
      }),
    ).rejects.toThrow("prod: mlPlatform:serving.autoscaling.min (3) exceeds serving.autoscaling.max (2)");
  });

  it("registers nothing when the config is invalid", async () => {
    const error = await planStack("dev", { "mlPlatform:tags": { costCenter: "x" } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProgramError);
    expect((error as ProgramError).message).toContain("dev: mlPlatform:tags.owner is missing");
    expect((error as ProgramError).registeredResources).toEqual([]);
  });

  it("does register resources for a valid config (the check above can tell)", async () => {
    const plan = await planStack("dev");
    expect(plan.resources.length).toBeGreaterThan(0);
  });
});

describe("without a pinned model", () => {
  it("builds the platform but no endpoint until a version is promoted", async () => {
    const plan = await planStack("staging", { "mlPlatform:model": undefined });
    expect(ofType(plan, T.endpoint)).toEqual([]);
    expect(ofType(plan, T.model)).toEqual([]);
    expect(ofType(plan, T.bucket)).toHaveLength(3);
    expect(plan.outputs.endpointName).toBeUndefined();
  });
});
