// The ml-platform program: load and validate the stack's config, create the components, export
// what the deploy tools need. Environments differ only in stacks/Pulumi.<stack>.yaml.
import * as aws from "@pulumi/aws";
import * as awsNative from "@pulumi/aws-native";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./config";
import { AlarmTopic } from "./components/alarm-topic";
import { DeployerRole } from "./components/deployer-role";
import { ArtifactStore } from "./components/artifact-store";
import { ExecutionRole } from "./components/execution-role";
import { ImageRepositories } from "./components/image-repositories";
import { InferenceEndpoint, parseEndpointDeployment } from "./components/inference-endpoint";
import { ModelRegistry } from "./components/model-registry";
import type { DeployerStageArgs } from "./policies/deployer-policy";
import { ARTIFACT_PREFIXES } from "./policies/execution-role-policy";
import { platformTags } from "./tags";

// Throws, listing every problem, before any resource is registered.
const config = loadConfig();

// One explicit provider carries the region and the default tags to every resource.
const provider = new aws.Provider("aws", {
  region: config.region as aws.Region,
  defaultTags: { tags: platformTags(config) },
});
const opts = { provider };
// The Endpoint is aws-native's (see InferenceEndpoint); same region, same default tags.
const nativeProvider = new awsNative.Provider("aws-native", {
  region: config.region as awsNative.Region,
  defaultTags: { tags: platformTags(config) },
});

const caller = aws.getCallerIdentityOutput({}, opts);
const partition = aws.getPartitionOutput({}, opts);
const account = { accountId: caller.accountId, partition: partition.partition, region: config.region };

const store = new ArtifactStore("store", { ...account, ...config.artifactStore }, opts);

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

// This stack's own outputs of its last deployment: the endpoint record decides whether the next
// UpdateEndpoint retains the live variant properties (InferenceEndpoint; instance endpoints only).
const self = config.model && config.serving.mode === "instances"
  ? new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`)
  : undefined;

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
      previousDeployment: self?.getOutput("endpointDeployment").apply((v) => parseEndpointDeployment(config.stack, v)),
    }, { providers: [provider, nativeProvider] })
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
/** Read back by the next deployment (retain-or-reset of the variant properties). */
export const endpointDeployment = endpoint?.deployment;
export const servedModel = config.model ?? null;
