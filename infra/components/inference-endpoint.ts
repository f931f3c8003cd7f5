import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AlarmSettings, DataCaptureSettings, InstanceServingSettings, PinnedModel, ServingSettings } from "../config";
import { hasLocalInstanceStorage, MODEL_LATENCY_UNITS_PER_MS } from "../limits";
import { ARTIFACT_PREFIXES } from "../policies/execution-role-policy";
import { ArtifactStore } from "./artifact-store";
import { ExecutionRole } from "./execution-role";

/** The one production variant's name. Blue/green updates require it to stay the same across configs. */
export const VARIANT_NAME = "primary";

export interface InferenceEndpointArgs {
  /** The endpoint's name: stable for clients across model updates (the Endpoint is never replaced). */
  readonly endpointName: string;
  /** The pinned model version to serve. */
  readonly model: PinnedModel;
  readonly serving: ServingSettings;
  readonly dataCapture: DataCaptureSettings;
  readonly alarms: AlarmSettings;
  /** Retention of the endpoint's log group, in days. */
  readonly logRetentionDays: number;
  readonly role: ExecutionRole;
  readonly store: ArtifactStore;
  /** Where alarms send notifications. @default - no notifications */
  readonly alarmTopic?: aws.sns.Topic;
}

/** The container definition of the pinned version: a registry version, or an artifact + image digest. */
export function primaryContainer(model: PinnedModel): aws.types.input.sagemaker.ModelPrimaryContainer {
  if ("packageArn" in model) return { modelPackageName: model.packageArn };
  return { image: model.image, modelDataUrl: model.artifactUri, mode: "SingleModel" };
}

/** The production variant for the serving mode. */
export function productionVariant(serving: ServingSettings, modelName: pulumi.Input<string>): aws.types.input.sagemaker.EndpointConfigurationProductionVariant {
  if (serving.mode === "serverless") {
    return {
      variantName: VARIANT_NAME,
      modelName,
      serverlessConfig: {
        memorySizeInMb: serving.memorySizeMb,
        maxConcurrency: serving.maxConcurrency,
        provisionedConcurrency: serving.provisionedConcurrency,
      },
    };
  }
  return {
    variantName: VARIANT_NAME,
    modelName,
    instanceType: serving.instanceType,
    initialInstanceCount: serving.instanceCount,
    initialVariantWeight: 1,
  };
}

/** Blue/green traffic shifting for instance endpoints, rolled back automatically by the alarms. */
export function deploymentConfig(serving: InstanceServingSettings, alarmNames: pulumi.Input<string>[]): aws.types.input.sagemaker.EndpointDeploymentConfig {
  const d = serving.deployment;
  const routing: aws.types.input.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfiguration = {
    type: d.trafficRouting,
    waitIntervalInSeconds: d.waitIntervalSeconds,
  };
  if (d.trafficRouting === "CANARY") routing.canarySize = { type: "CAPACITY_PERCENT", value: d.canaryPercent };
  if (d.trafficRouting === "LINEAR") routing.linearStepSize = { type: "CAPACITY_PERCENT", value: d.linearStepPercent };
  return {
    blueGreenUpdatePolicy: {
      trafficRoutingConfiguration: routing,
      terminationWaitInSeconds: d.terminationWaitSeconds,
      maximumExecutionTimeoutInSeconds: d.maximumExecutionTimeoutSeconds,
    },
    autoRollbackConfiguration: { alarms: alarmNames.map((alarmName) => ({ alarmName })) },
  };
}

/**
 * A SageMaker endpoint serving one pinned model version, updated safely.
 *
 * How an update flows when the pinned version changes: Model and EndpointConfiguration are
 * immutable in SageMaker, so Pulumi replaces them; they carry no fixed names, so the replacements
 * are created first under new names (no clash), the Endpoint (whose name is stable) is updated in
 * place to the new config - a blue/green deployment that the alarms can roll back - and only then
 * are the old config and model deleted. The scalable target names the endpoint and variant, which
 * do not change, so it and its min/max survive the update untouched.
 */
export class InferenceEndpoint extends pulumi.ComponentResource {
  readonly model: aws.sagemaker.Model;
  readonly endpointConfig: aws.sagemaker.EndpointConfiguration;
  readonly endpoint: aws.sagemaker.Endpoint;
  readonly alarms: aws.cloudwatch.MetricAlarm[];
  readonly scalableTarget?: aws.appautoscaling.Target;
  readonly endpointName: pulumi.Output<string>;

  constructor(name: string, args: InferenceEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:serving:InferenceEndpoint", name, {}, opts);
    const child = { parent: this };
    const { serving, endpointName, store } = args;
    const instanceBased = serving.mode === "instances";

    // Created before the endpoint so SageMaker logs into a group with our retention and key
    // (SageMaker would otherwise create it itself, unencrypted and kept forever).
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, {
      name: `/aws/sagemaker/Endpoints/${endpointName}`,
      retentionInDays: args.logRetentionDays,
      kmsKeyId: store.key.arn,
    }, child);

    this.model = new aws.sagemaker.Model(`${name}-model`, {
      executionRoleArn: args.role.arn,
      primaryContainer: primaryContainer(args.model),
      // The container needs no network; Serverless Inference does not support isolation.
      enableNetworkIsolation: instanceBased,
    }, {
      ...child,
      // SageMaker checks the role can read the model data: its policy must exist first.
      dependsOn: [args.role.permissions],
    });

    const capture = args.dataCapture;
    this.endpointConfig = new aws.sagemaker.EndpointConfiguration(`${name}-config`, {
      productionVariants: [productionVariant(serving, this.model.name)],
      // Serverless variants and instances with local NVMe storage (encrypted by the hardware) have
      // no volume for the key, and SageMaker rejects one there.
      kmsKeyArn: instanceBased && !hasLocalInstanceStorage(serving.instanceType) ? store.key.arn : undefined,
      dataCaptureConfig: capture.enabled
        ? {
            enableCapture: true,
            initialSamplingPercentage: capture.samplingPercent,
            destinationS3Uri: pulumi.interpolate`s3://${store.artifacts.name}/${ARTIFACT_PREFIXES.dataCapture}/`,
            kmsKeyId: store.key.arn,
            captureOptions: [{ captureMode: "Input" }, { captureMode: "Output" }],
            captureContentTypeHeader: {
              csvContentTypes: ["text/csv"],
              jsonContentTypes: ["application/json", "application/jsonlines"],
            },
          }
        : undefined,
    }, child);

    this.alarms = endpointAlarms(name, endpointName, args.alarms, args.alarmTopic, child);

    this.endpoint = new aws.sagemaker.Endpoint(`${name}-endpoint`, {
      // A fixed, stack-unique name: clients and the log group above know it before it exists,
      // and nothing in the update path replaces the Endpoint.
      name: endpointName,
      endpointConfigName: this.endpointConfig.name,
      deploymentConfig: instanceBased ? deploymentConfig(serving, this.alarms.map((a) => a.name)) : undefined,
    }, { ...child, dependsOn: [logGroup] });
    this.endpointName = this.endpoint.name;

    if (instanceBased && serving.autoscaling.enabled) {
      const scaling = serving.autoscaling;
      // The resource ID is built from the endpoint's output, so the target is registered only
      // after the endpoint exists, and it stays the same across model updates.
      this.scalableTarget = new aws.appautoscaling.Target(`${name}-scaling-target`, {
        serviceNamespace: "sagemaker",
        resourceId: pulumi.interpolate`endpoint/${this.endpoint.name}/variant/${VARIANT_NAME}`,
        scalableDimension: "sagemaker:variant:DesiredInstanceCount",
        minCapacity: scaling.min,
        maxCapacity: scaling.max,
      }, child);
      new aws.appautoscaling.Policy(`${name}-scaling-policy`, {
        policyType: "TargetTrackingScaling",
        serviceNamespace: this.scalableTarget.serviceNamespace,
        resourceId: this.scalableTarget.resourceId,
        scalableDimension: this.scalableTarget.scalableDimension,
        targetTrackingScalingPolicyConfiguration: {
          predefinedMetricSpecification: { predefinedMetricType: "SageMakerVariantInvocationsPerInstance" },
          targetValue: scaling.targetInvocationsPerInstance,
          scaleInCooldown: scaling.scaleInCooldownSeconds,
          scaleOutCooldown: scaling.scaleOutCooldownSeconds,
        },
      }, child);
    }

    this.registerOutputs({ endpointName: this.endpointName, modelName: this.model.name, endpointConfigName: this.endpointConfig.name });
  }
}

/**
 * The endpoint's health alarms: model 5XX errors and p99 model latency. They notify the alarm
 * topic and are the alarms a blue/green deployment watches to roll itself back.
 */
function endpointAlarms(
  name: string,
  endpointName: string,
  settings: AlarmSettings,
  topic: aws.sns.Topic | undefined,
  opts: pulumi.CustomResourceOptions,
): aws.cloudwatch.MetricAlarm[] {
  const dimensions = { EndpointName: endpointName, VariantName: VARIANT_NAME };
  const actions = topic ? [topic.arn] : [];
  const common = {
    namespace: "AWS/SageMaker",
    dimensions,
    period: settings.periodSeconds,
    evaluationPeriods: settings.evaluationPeriods,
    comparisonOperator: "GreaterThanThreshold",
    // No traffic is not an outage (a serverless endpoint at zero reports nothing).
    treatMissingData: "notBreaching",
    alarmActions: actions,
    okActions: actions,
  };
  return [
    new aws.cloudwatch.MetricAlarm(`${name}-5xx-errors`, {
      ...common,
      alarmDescription: `Model container 5XX errors on ${endpointName}; rolls back a deployment in progress`,
      metricName: "Invocation5XXErrors",
      statistic: "Sum",
      threshold: settings.invocation5xxErrors,
    }, opts),
    new aws.cloudwatch.MetricAlarm(`${name}-model-latency`, {
      ...common,
      alarmDescription: `p99 model latency above ${settings.modelLatencyP99Ms} ms on ${endpointName}; rolls back a deployment in progress`,
      metricName: "ModelLatency",
      extendedStatistic: "p99",
      threshold: settings.modelLatencyP99Ms * MODEL_LATENCY_UNITS_PER_MS,
    }, opts),
  ];
}
