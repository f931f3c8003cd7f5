// The ml-platform program: load and validate the stack's config, create the components, export
// what the deploy tools need. Environments differ only in stacks/Pulumi.<stack>.yaml.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./config";
import { AlarmTopic } from "./components/alarm-topic";
import { DeployerRole } from "./components/deployer-role";
import { ArtifactStore } from "./components/artifact-store";
import { ExecutionRole } from "./components/execution-role";
import { ImageRepositories } from "./components/image-repositories";
import { InferenceEndpoint } from "./components/inference-endpoint";
import { ModelRegistry } from "./components/model-registry";
import type { DeployerStageArgs } from "./policies/deployer-policy";
import { ARTIFACT_PREFIXES } from "./policies/execution-role-policy";
import { platformTags } from "./tags";
import type { StackOutputs } from "@ml-platform/contract";

// Throws, listing every problem, before any resource is registered.
const config = loadConfig();

// One explicit provider carries the region and the default tags to every resource.
const provider = new aws.Provider("aws", {
  region: config.region as aws.Region,
  defaultTags: { tags: platformTags(config) },
});
const opts = { provider };

const caller = aws.getCallerIdentityOutput({}, opts);
const partition = aws.getPartitionOutput({}, opts);
const account = { accountId: caller.accountId, partition: partition.partition, region: config.region };

const store = new ArtifactStore("store", { ...account, ...config.artifactStore, logRetentionDays: config.logRetentionDays }, opts);

const images = new ImageRepositories("images", {
  names: config.images.repositories,
  kmsKey: store.key,
  untaggedExpiryDays: config.images.untaggedExpiryDays,
}, opts);

const role = new ExecutionRole("sagemaker-execution", {
  ...account,
  store,
  repositoryArns: images.arns.apply((arns) => [...arns, ...config.images.pullFromRepositoryArns]),
}, opts);

const registry = new ModelRegistry("registry", { modelName: config.modelName }, { ...opts, retainOnDelete: config.artifactStore.retainOnDelete });

const alarmTopic = new AlarmTopic("alarms", { kmsKey: store.key, emails: config.alarms.notifyEmails }, opts);

// Fixed per stack: clients, alarms, the log group and the deployer's policy know it before it exists.
const plannedEndpointName = `${config.modelName}-${config.stack}`;

// Nothing to serve until a version is pinned (the first `ml-deploy` promotion writes it).
const endpoint = config.model
  ? new InferenceEndpoint("inference", {
      endpointName: plannedEndpointName,
      model: config.model,
      serving: config.serving,
      dataCapture: config.dataCapture,
      alarms: config.alarms,
      logRetentionDays: config.logRetentionDays,
      role,
      store,
      alarmTopic: alarmTopic.topic,
    }, opts)
  : undefined;

/** This stack's resources as the deployer role of the next stage (and this one's) sees them. */
const deployerStage: pulumi.Output<DeployerStageArgs> = pulumi.output({
  region: config.region,
  accountId: caller.accountId,
  datasetBucketArn: store.datasets.arn,
  artifactBucketArn: store.artifacts.arn,
  kmsKeyArn: store.key.arn,
  modelPackageGroupName: registry.groupName,
  endpointName: plannedEndpointName,
});

// The stage versions come from: read through its stack outputs, so no ARN is copied by hand.
const source = config.deployer.promotesFrom
  ? new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${config.deployer.promotesFrom}`)
  : undefined;

const deployer = new DeployerRole("deployer", {
  ...account,
  stage: deployerStage,
  executionRoleArn: role.arn,
  trainingJobNamePrefix: plannedEndpointName,
  repositoryArns: images.arns,
  sources: source ? source.requireOutput("deployerStage").apply((stage) => [stage as DeployerStageArgs]) : [],
  trustedPrincipalArns: config.deployer.trustedPrincipalArns,
}, opts);

export const region = config.region;
export const accountId = caller.accountId;
export const kmsKeyArn = store.key.arn;
export const datasetBucketName = store.datasets.name;
export const artifactBucketName = store.artifacts.name;
export const datasetUri = pulumi.interpolate`s3://${store.datasets.name}/${config.training.datasetPrefix}/`;
export const trainingOutputUri = pulumi.interpolate`s3://${store.artifacts.name}/${ARTIFACT_PREFIXES.trainingOutput}/`;
export const checkpointUri = pulumi.interpolate`s3://${store.artifacts.name}/${ARTIFACT_PREFIXES.checkpoints}/`;
export const promotedModelsUri = pulumi.interpolate`s3://${store.artifacts.name}/${ARTIFACT_PREFIXES.models}/`;
export const executionRoleArn = role.arn;
export const deployerRoleArn = deployer.arn;
export { deployerStage };
export const repositoryUrls = images.urls;
export const modelPackageGroupName = registry.groupName;
export const alarmTopicArn = alarmTopic.topic.arn;
export const endpointName = endpoint?.endpointName;
/** What the endpoint should run after this update: ml-deploy compares it with DescribeEndpoint (a SageMaker rollback keeps the old one). */
export const endpointConfigName = endpoint?.endpointConfig.name;
// The endpoint-updater role is the infra side of issue 13 (another branch); until it lands this
// program has none, and ml-deploy refuses a model change with a message naming the output.
export const updaterRoleArn: string | undefined = undefined;
export const servedModel = config.model ?? null;

/**
 * Compile-time check of the outputs against the contract the tools parse them with
 * (`@ml-platform/contract` outputs.ts): every declared output is exported here with its declared
 * type, and nothing is exported that the contract does not declare.
 */
export type CheckedOutputs = ExactOutputs<Omit<typeof import("./index"), "CheckedOutputs">>;
type ExactOutputs<T extends DeclaredOutputs & Record<Exclude<keyof T, keyof StackOutputs>, never>> = T;
// Over `Extract<keyof ...>` rather than `keyof`: such a mapped type keeps no `?`, so every output is required.
type DeclaredOutputs = { [K in Extract<keyof StackOutputs, string>]: pulumi.Input<Exclude<StackOutputs[K], undefined>> | (K extends OptionalOutput ? undefined : never) };
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- `{}` matches exactly the optional keys
type OptionalOutput = { [K in keyof StackOutputs]-?: {} extends Pick<StackOutputs, K> ? K : never }[keyof StackOutputs];
