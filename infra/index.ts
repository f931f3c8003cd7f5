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
import { endpointNamePrefixes, InferenceEndpoint, parseEndpointDeployment, rollbackAlarmPrefix, VARIANT_NAME } from "./components/inference-endpoint";
import { ModelRegistry } from "./components/model-registry";
import { ApproverRole } from "./components/approver-role";
import { EndpointUpdaterRole } from "./components/endpoint-updater-role";
import { trainingGuardrails } from "./policies/training";
import { providerRoleArn } from "./policies/duties";
import { parseDeployerStage, type DeployerStageArgs } from "./policies/stage";
import { clusterProvider, KubernetesServing } from "./components/kubernetes-serving";
import { PodIdentity } from "./components/pod-identity";
import { EndpointMonitoring } from "./components/monitoring";
import { TrainingPipeline } from "./components/training-pipeline";
import { ARTIFACT_PREFIXES } from "./policies/execution-role-policy";
import { platformTags } from "./tags";
import { FeatureStore } from "./components/feature-store";
import { loadFeatureSets, REPOSITORY_ROOT } from "./feature-sets";
import { isKubernetesStack, isSageMakerStack, kubernetesServingNames, type StackOutputs } from "@ml-platform/contract";

// Throws, listing every problem, before any resource is registered.
const config = loadConfig();

// Who the providers act as: unset, the ambient credentials (the platform admin's `pulumi up` of
// infrastructure); `ml-deploy` sets it to the endpoint-updater role for a model change.
const actAs = providerRoleArn(process.env);
const sessionName = `ml-platform-${config.stack}`;

// One explicit provider carries the region and the default tags to every resource.
const provider = new aws.Provider("aws", {
  region: config.region as aws.Region,
  defaultTags: { tags: platformTags(config) },
  assumeRoles: actAs ? [{ roleArn: actAs, sessionName }] : undefined,
});
const opts = { provider };
// The Endpoint is aws-native's (see InferenceEndpoint); same region, same default tags, same identity.
const nativeProvider = new awsNative.Provider("aws-native", {
  region: config.region as awsNative.Region,
  defaultTags: { tags: platformTags(config) },
  assumeRole: actAs ? { roleArn: actAs, sessionName } : undefined,
});

const caller = aws.getCallerIdentityOutput({}, opts);
const partition = aws.getPartitionOutput({}, opts);
const account = { accountId: caller.accountId, partition: partition.partition, region: config.region };

const store = new ArtifactStore("store", { ...account, ...config.artifactStore, logRetentionDays: config.logRetentionDays }, opts);

const images = new ImageRepositories(
  "images",
  {
    names: config.images.repositories,
    kmsKey: store.key,
    untaggedExpiryDays: config.images.untaggedExpiryDays,
  },
  opts,
);

// Separate duties: training jobs write training output, the endpoint's model reads models and
// writes captured traffic. Each pulls only this stage's images (promotion copies images in).
const executionRoleArgs = { ...account, store, repositoryArns: images.arns };
const trainingRole = new ExecutionRole("training-execution", { ...executionRoleArgs, duty: "training" }, opts);
// Fixed per stack: clients, alarms, the log group and the roles' policies know it before it exists.
const plannedEndpointName = `${config.modelName}-${config.stack}`;
// The hosting role and the endpoint-updater exist only where SageMaker serves; a Kubernetes stack's
// pods have their own identity (PodIdentity) and its `pulumi up` changes a Deployment.
const servesOnSageMaker = config.serving.target === "sagemaker";
const hostingRole = servesOnSageMaker
  ? new ExecutionRole("hosting-execution", { ...executionRoleArgs, duty: "hosting", rollbackAlarmPrefix: rollbackAlarmPrefix(plannedEndpointName) }, opts)
  : undefined;

const registry = new ModelRegistry("registry", { modelName: config.modelName }, { ...opts, retainOnDelete: config.artifactStore.retainOnDelete });

const alarmTopic = new AlarmTopic("alarms", { kmsKey: store.key, emails: config.alarms?.notifyEmails ?? [] }, opts);

const ENDPOINT = "inference";

// This stack's own outputs of its last deployment: the endpoint record decides whether the next
// UpdateEndpoint retains the live variant properties (InferenceEndpoint; instance endpoints only).
const self =
  config.model && config.serving.target === "sagemaker" && config.serving.mode === "instances"
    ? new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`)
    : undefined;

// Nothing to serve until a version is pinned (the first `ml-deploy` promotion writes it). Where it
// is served is `serving.target`: a SageMaker endpoint, or an existing Kubernetes cluster.
const endpoint =
  config.model && isSageMakerStack(config) && hostingRole
    ? new InferenceEndpoint(
        ENDPOINT,
        {
          endpointName: plannedEndpointName,
          model: config.model,
          serving: config.serving,
          dataCapture: config.dataCapture,
          alarms: config.alarms,
          logRetentionDays: config.logRetentionDays,
          role: hostingRole,
          store,
          alarmTopic: alarmTopic.topic,
          previousDeployment: self?.getOutput("endpointDeployment").apply((v) => parseEndpointDeployment(config.stack, v)),
        },
        { providers: [provider, nativeProvider] },
      )
    : undefined;

if (config.model && isKubernetesStack(config)) {
  const { namespace, name } = kubernetesServingNames(config);
  const identity = new PodIdentity("serving-identity", { ...account, identity: config.serving.identity, namespace, serviceAccount: name, store }, opts);
  new KubernetesServing("kubernetes", {
    serving: config.serving,
    model: config.model,
    region: config.region,
    namespace,
    name,
    identity,
    provider: clusterProvider("kubernetes", config.serving.cluster),
  });
}

// The training pipeline (mlPlatform:pipeline): named after the endpoint, so the monitoring's
// pipeline-failure rule (by name prefix) covers it. Only once its image is set.
const pipelineImage = config.pipeline?.image;
const trainingPipeline =
  config.pipeline && pipelineImage
    ? new TrainingPipeline(
        "training",
        {
          ...account,
          pipelineName: `${plannedEndpointName}-training`,
          settings: { ...config.pipeline, image: pipelineImage },
          training: config.training,
          promotion: config.promotion,
          store,
          trainingRoleArn: trainingRole.arn,
          repositoryArns: images.arns,
          modelPackageGroupName: registry.groupName,
          notifyTopicArn: config.pipeline.notifyTopicArn ?? alarmTopic.topic.arn,
        },
        opts,
      )
    : undefined;

// The dashboard and operational alarms; without an endpoint, only the training and pipeline rules.
const serving = config.serving;
new EndpointMonitoring(
  "monitoring",
  {
    ...account,
    endpointName: endpoint ? plannedEndpointName : undefined,
    variantName: VARIANT_NAME,
    instances:
      serving.target === "sagemaker" && serving.mode === "instances"
        ? serving.autoscaling.enabled
          ? { min: serving.autoscaling.min, max: serving.autoscaling.max, autoscaled: true }
          : { min: serving.instanceCount, max: serving.instanceCount, autoscaled: false }
        : undefined,
    settings: config.monitoring,
    alarmTopic: alarmTopic.topic,
    trainingJobNamePrefix: plannedEndpointName,
    pipelineNamePrefix: plannedEndpointName,
    // The approval rule publishes to the alarm topic unless the pipeline names its own topic.
    publisherRuleArns: trainingPipeline && !config.pipeline?.notifyTopicArn ? [trainingPipeline.pendingApprovalRule.arn] : [],
  },
  opts,
);

// The feature store (mlPlatform:featureStore): its feature sets are read and validated here, before
// any of them shapes a resource.
const featureStoreSettings = config.featureStore;
const featureStore = featureStoreSettings
  ? new FeatureStore(
      "features",
      {
        ...account,
        stack: config.stack,
        featureSets: loadFeatureSets(config.stack, featureStoreSettings.featureSets, REPOSITORY_ROOT),
        store,
        tableFormat: featureStoreSettings.offlineStore.tableFormat,
        onlineStore: featureStoreSettings.onlineStore,
        ingestionTrustedPrincipalArns: featureStoreSettings.ingestion.trustedPrincipalArns,
        forceDestroy: config.artifactStore.forceDestroy,
      },
      opts,
    )
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
  repositoryArns: images.arns,
});

// The stage versions come from: read through its stack outputs, so no ARN is copied by hand, and
// validated before any of it shapes a policy.
const sourceStack = config.deployer.promotesFrom;
const source = sourceStack ? new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${sourceStack}`) : undefined;
const sourceStage =
  source && sourceStack ? source.requireOutput("deployerStage").apply((value) => parseDeployerStage(sourceStack, "deployerStage", value)) : undefined;

const deployerArgs = {
  partition: partition.partition,
  stage: deployerStage,
  trainingRoleArn: trainingRole.arn,
  training: trainingGuardrails(config.training),
  trainingJobNamePrefix: plannedEndpointName,
  servingNamePrefixes: endpointNamePrefixes(ENDPOINT),
  sources: sourceStage ? sourceStage.apply((stage) => [stage]) : [],
  trustedPrincipalArns: config.deployer.trustedPrincipalArns,
  // `ml-deploy features ingest` runs as the deployer where the stack says so.
  featureIngestion:
    featureStore && featureStoreSettings?.ingestion.byDeployer
      ? { featureGroupNames: featureStore.groupNames, onlineStoreKmsKeyArn: featureStoreSettings.onlineStore.enabled ? store.key.arn : undefined }
      : undefined,
  // `ml-deploy features dataset` builds training sets from the offline store through its workgroup.
  featureQueries: featureStore ? { workgroupName: featureStore.workgroup.name } : undefined,
};
const deployer = new DeployerRole("deployer", deployerArgs, opts);

// `pulumi up` of a model change runs as this role (assumed by the deployer), never as the deployer
// or an administrator.
const updater = hostingRole
  ? new EndpointUpdaterRole(
      "endpoint-updater",
      {
        ...account,
        // The `stack` default tag (platformTags) tells this stack's Models and configs from other stacks'.
        stackTag: { key: "stack", value: platformTags(config).stack! },
        endpointName: plannedEndpointName,
        namePrefixes: endpointNamePrefixes(ENDPOINT),
        hostingRoleArn: hostingRole.arn,
        kmsKeyArn: store.key.arn,
        requireNetworkIsolation: config.serving.target === "sagemaker" && config.serving.mode === "instances",
        deployerRoleArn: deployer.arn,
        trustedPrincipalArns: config.updater.trustedPrincipalArns,
      },
      opts,
    )
  : undefined;
if (updater) deployer.attachPermissions(updater.arn);

const approver = new ApproverRole(
  "approver",
  {
    ...account,
    modelPackageGroupName: registry.groupName,
    trustedPrincipalArns: config.approver.trustedPrincipalArns,
  },
  opts,
);

export const region = config.region;
export const accountId = caller.accountId;
export const kmsKeyArn = store.key.arn;
export const datasetBucketName = store.datasets.name;
export const artifactBucketName = store.artifacts.name;
export const datasetUri = pulumi.interpolate`s3://${store.datasets.name}/${config.training.datasetPrefix}/`;
export const trainingOutputUri = pulumi.interpolate`s3://${store.artifacts.name}/${ARTIFACT_PREFIXES.trainingOutput}/`;
export const checkpointUri = pulumi.interpolate`s3://${store.artifacts.name}/${ARTIFACT_PREFIXES.checkpoints}/`;
export const promotedModelsUri = pulumi.interpolate`s3://${store.artifacts.name}/${ARTIFACT_PREFIXES.models}/`;
/** The role training jobs run as (`ml-deploy train` passes it). */
export const trainingRoleArn = trainingRole.arn;
/** The role the endpoint's model runs as. */
export const hostingRoleArn = hostingRole?.arn;
/** @deprecated Same as trainingRoleArn; kept while `ml-deploy train` reads this name. */
export const executionRoleArn = trainingRole.arn;
export const deployerRoleArn = deployer.arn;
/** The identity of `pulumi up` of a model change: run it with ML_PLATFORM_PROVIDER_ROLE_ARN set to this (PROVIDER_ROLE_ENV). */
export const updaterRoleArn = updater?.arn;
/** The role that approves or rejects this stage's versions. */
export const approverRoleArn = approver.arn;
export { deployerStage };
export const repositoryUrls = images.urls;
/** This stage's repositories by image name (ARNs): where promotion copies images to. */
export const repositoryArns = images.arnsByImage;
/** The source stage's repositories (validated), where promotion copies images from; null without promotesFrom. */
export const sourceRepositoryArns = sourceStage ? sourceStage.apply((stage) => stage.repositoryArns) : null;
export const modelPackageGroupName = registry.groupName;
export const alarmTopicArn = alarmTopic.topic.arn;
export const endpointName = endpoint?.endpointName;
/** Read back by the next deployment (retain-or-reset of the variant properties). */
export const endpointDeployment = endpoint?.deployment;
/** What the endpoint should run after this update: ml-deploy compares it with DescribeEndpoint (a SageMaker rollback keeps the old one). */
export const endpointConfigName = endpoint?.endpointConfig.name;
export const servedModel = config.model ?? null;
export const featureGroups = featureStore?.outputs;
export const featureOfflineStoreUri = featureStore?.offlineStoreUri;
export const featureQueryWorkgroup = featureStore?.workgroup.name;
export const featureIngestionRoleArn = featureStore?.ingestionRole.arn;

/**
 * Compile-time check of the outputs against the contract the tools parse them with
 * (`@ml-platform/contract` outputs.ts): every declared output is exported here with its declared
 * type, and nothing is exported that the contract does not declare.
 */
export type CheckedOutputs = ExactOutputs<Omit<typeof import("./index"), "CheckedOutputs">>;
type ExactOutputs<T extends DeclaredOutputs & Record<Exclude<keyof T, keyof StackOutputs>, never>> = T;
// Over `Extract<keyof ...>` rather than `keyof`: such a mapped type keeps no `?`, so every output is required.
type DeclaredOutputs = {
  [K in Extract<keyof StackOutputs, string>]: pulumi.Input<Exclude<StackOutputs[K], undefined>> | (K extends OptionalOutput ? undefined : never);
};
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- `{}` matches exactly the optional keys
type OptionalOutput = { [K in keyof StackOutputs]-?: {} extends Pick<StackOutputs, K> ? K : never }[keyof StackOutputs];
