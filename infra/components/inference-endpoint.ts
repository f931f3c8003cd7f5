import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as awsNative from "@pulumi/aws-native";
import * as pulumi from "@pulumi/pulumi";
import { endpointDeploymentSchema, type EndpointDeploymentRecord } from "@ml-platform/contract";
import type { AlarmSettings, DataCaptureSettings, InstanceServingSettings, PinnedModel, ServingSettings } from "../config";
import { hasLocalInstanceStorage, MODEL_LATENCY_UNITS_PER_MS } from "../limits";
import { ARTIFACT_PREFIXES } from "../policies/execution-role-policy";
import { ArtifactStore } from "./artifact-store";
import { ExecutionRole } from "./execution-role";

export type { EndpointDeploymentRecord };

/**
 * How the auto-named Model and EndpointConfiguration of an InferenceEndpoint named `name` are named:
 * the provider names them `<logical name>-<random suffix>` (pulumi-aws autonaming, provider-semantics
 * §1.1), and the endpoint updater's policy is scoped to these prefixes.
 */
export function endpointNamePrefixes(name: string): { readonly model: string; readonly endpointConfig: string } {
  return { model: `${name}-model-`, endpointConfig: `${name}-config-` };
}

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
  /** The hosting execution role the model runs as. */
  readonly role: ExecutionRole;
  readonly store: ArtifactStore;
  /** Where alarms send notifications. @default - no notifications */
  readonly alarmTopic?: aws.sns.Topic;
  /**
   * What the previous deployment of this stack recorded about the endpoint (its `endpointDeployment`
   * output, read back by the program): decides whether this update may retain the live variant
   * properties. @default - none: a first deployment, variant properties retained
   */
  readonly previousDeployment?: pulumi.Input<EndpointDeploymentRecord | undefined>;
}

/**
 * What a deployment records about the endpoint's configuration, exported as a stack output and read
 * back on the next `pulumi up` (a stack may read its own outputs through a StackReference:
 * pulumi/pulumi#3722). Fingerprints are SHA-256 of the settings, not of provider outputs, so they
 * are known at preview.
 */
/**
 * The endpoint's rollback alarms are named after it, so the hosting role (which SageMaker uses to
 * read them during a blue/green deployment) may describe exactly these alarms and no others.
 */
export function rollbackAlarmPrefix(endpointName: string): string {
  return `${endpointName}-rollback-`;
}

/**
 * Validates the `endpointDeployment` output a stack's previous deployment left (read back through
 * a StackReference): absent is a first deployment; anything malformed fails naming stack and output.
 */
export function parseEndpointDeployment(stack: string, value: unknown): EndpointDeploymentRecord | undefined {
  if (value === undefined || value === null) return undefined;
  const parsed = endpointDeploymentSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(value)"} ${i.message}`);
  throw new Error(`stack ${stack}: output endpointDeployment of its previous deployment is invalid: ${problems.join("; ")}`);
}

/** Hex SHA-256 of a value's JSON with object keys sorted (so reordered YAML changes nothing). */
function fingerprint(value: unknown): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sorted)
      : v !== null && typeof v === "object"
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash("sha256")
    .update(JSON.stringify(sorted(value)) ?? "null")
    .digest("hex");
}

/** The fingerprints of the settings that shape this stack's EndpointConfiguration. */
export function endpointFingerprints(
  args: Pick<InferenceEndpointArgs, "model" | "serving" | "dataCapture">,
): Omit<EndpointDeploymentRecord, "retainAllVariantProperties"> {
  const { model, serving, dataCapture } = args;
  const variant =
    serving.mode === "serverless"
      ? {
          mode: serving.mode,
          memorySizeMb: serving.memorySizeMb,
          maxConcurrency: serving.maxConcurrency,
          provisionedConcurrency: serving.provisionedConcurrency,
        }
      : { mode: serving.mode, instanceType: serving.instanceType, instanceCount: serving.instanceCount };
  const { previousPackageArns: _history, ...served } = model;
  return {
    configFingerprint: fingerprint({ served, variant, dataCapture }),
    dataCaptureFingerprint: fingerprint(dataCapture),
  };
}

/**
 * Whether the next UpdateEndpoint keeps the live variant properties (RetainAllVariantProperties).
 *
 * Kept (true) for a model update: otherwise SageMaker resets the instance count and weight to the
 * new config's initial values and undoes autoscaling (UpdateEndpoint API; TF issue #48990). Not
 * kept (false) when the data-capture settings change: retention keeps the data-capture config too,
 * and excluding `DataCaptureConfig` from retention is documented as not supported
 * (API_VariantProperty), so only a full update applies it; the fleet then restarts at the
 * config's `initialInstanceCount` (`serving.instanceCount`) and autoscaling takes over again.
 * When this deployment does not change the config at all, the previous value is kept, so the
 * Endpoint sees no diff and no UpdateEndpoint is sent.
 */
export function retainAllVariantProperties(
  previous: EndpointDeploymentRecord | undefined,
  current: Omit<EndpointDeploymentRecord, "retainAllVariantProperties">,
): boolean {
  if (!previous) return true;
  if (previous.configFingerprint === current.configFingerprint) return previous.retainAllVariantProperties;
  return previous.dataCaptureFingerprint === current.dataCaptureFingerprint;
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
export function deploymentConfig(
  serving: InstanceServingSettings,
  alarmNames: pulumi.Input<string>[],
): awsNative.types.input.sagemaker.EndpointDeploymentConfigArgs {
  const d = serving.deployment;
  const routing: awsNative.types.input.sagemaker.EndpointTrafficRoutingConfigArgs = {
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
 *
 * Why the Endpoint is `@pulumi/aws-native`'s (Cloud Control) and Model/EndpointConfiguration are
 * classic: the classic Endpoint replaces itself - an outage under a fixed name - when its
 * deployment config's rollback alarms change (TF ForceNew on auto_rollback_configuration) and its
 * UpdateEndpoint never sends RetainAllVariantProperties (TF endpoint.go; issue #48990), so every
 * model update reset the fleet. The aws-native Endpoint replaces only on `endpointName`
 * (its SDK's replaceOnChanges) and takes `retainAllVariantProperties`. Model and config stay
 * classic: they are immutable either way, and aws-native's EndpointConfig is not listed as Cloud
 * Control-supported upstream (provider-semantics §4).
 */
export class InferenceEndpoint extends pulumi.ComponentResource {
  readonly model: aws.sagemaker.Model;
  readonly endpointConfig: aws.sagemaker.EndpointConfiguration;
  readonly endpoint: awsNative.sagemaker.Endpoint;
  readonly alarms: aws.cloudwatch.MetricAlarm[];
  readonly scalableTarget?: aws.appautoscaling.Target;
  readonly endpointName: pulumi.Output<string>;
  /** What this deployment records for the next one (export it as `endpointDeployment`). */
  readonly deployment: pulumi.Output<EndpointDeploymentRecord>;

  constructor(name: string, args: InferenceEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:serving:InferenceEndpoint", name, {}, opts);
    const child = { parent: this };
    const { serving, endpointName, store } = args;
    const instanceBased = serving.mode === "instances";

    // Created before the endpoint so SageMaker logs into a group with our retention and key
    // (SageMaker would otherwise create it itself, unencrypted and kept forever).
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        name: `/aws/sagemaker/Endpoints/${endpointName}`,
        retentionInDays: args.logRetentionDays,
        kmsKeyId: store.key.arn,
      },
      child,
    );

    this.model = new aws.sagemaker.Model(
      `${name}-model`,
      {
        executionRoleArn: args.role.arn,
        primaryContainer: primaryContainer(args.model),
        // The container needs no network; Serverless Inference does not support isolation.
        enableNetworkIsolation: instanceBased,
      },
      {
        ...child,
        // SageMaker checks the role can read the model data: its policy must exist first.
        dependsOn: [args.role.permissions],
      },
    );

    const capture = args.dataCapture;
    this.endpointConfig = new aws.sagemaker.EndpointConfiguration(
      `${name}-config`,
      {
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
      },
      child,
    );

    this.alarms = endpointAlarms(name, endpointName, args.alarms, args.alarmTopic, child);

    const fingerprints = endpointFingerprints(args);
    this.deployment = pulumi.output(args.previousDeployment).apply((previous) => ({
      ...fingerprints,
      retainAllVariantProperties: retainAllVariantProperties(previous, fingerprints),
    }));

    this.endpoint = new awsNative.sagemaker.Endpoint(
      `${name}-endpoint`,
      {
        // A fixed, stack-unique name: clients and the log group above know it before it exists,
        // and only a change of this name replaces the Endpoint.
        endpointName,
        endpointConfigName: this.endpointConfig.name,
        deploymentConfig: instanceBased
          ? deploymentConfig(
              serving,
              this.alarms.map((a) => a.name),
            )
          : undefined,
        // Serverless variants have no instance count or weight to keep.
        retainAllVariantProperties: instanceBased ? this.deployment.retainAllVariantProperties : undefined,
      },
      { ...child, dependsOn: [logGroup] },
    );
    this.endpointName = this.endpoint.endpointName.apply((n) => n ?? endpointName);

    if (instanceBased && serving.autoscaling.enabled) {
      const scaling = serving.autoscaling;
      // The resource ID is built from the endpoint's output, so the target is registered only
      // after the endpoint exists, and it stays the same across model updates.
      this.scalableTarget = new aws.appautoscaling.Target(
        `${name}-scaling-target`,
        {
          serviceNamespace: "sagemaker",
          resourceId: pulumi.interpolate`endpoint/${this.endpointName}/variant/${VARIANT_NAME}`,
          scalableDimension: "sagemaker:variant:DesiredInstanceCount",
          minCapacity: scaling.min,
          maxCapacity: scaling.max,
        },
        child,
      );
      new aws.appautoscaling.Policy(
        `${name}-scaling-policy`,
        {
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
        },
        child,
      );
    }

    this.registerOutputs({
      endpointName: this.endpointName,
      modelName: this.model.name,
      endpointConfigName: this.endpointConfig.name,
      deployment: this.deployment,
    });
  }
}

/**
 * The endpoint's health alarms: model 5XX errors and (when configured) p99 model latency. They notify the alarm
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
  const alarms = [
    new aws.cloudwatch.MetricAlarm(
      `${name}-5xx-errors`,
      {
        ...common,
        name: `${rollbackAlarmPrefix(endpointName)}5xx-errors`,
        alarmDescription: `Model container 5XX errors on ${endpointName}; rolls back a deployment in progress`,
        metricName: "Invocation5XXErrors",
        statistic: "Sum",
        threshold: settings.invocation5xxErrors,
      },
      opts,
    ),
  ];
  if (settings.modelLatencyP99Ms !== undefined) {
    alarms.push(
      new aws.cloudwatch.MetricAlarm(
        `${name}-model-latency`,
        {
          ...common,
          name: `${rollbackAlarmPrefix(endpointName)}model-latency`,
          alarmDescription: `p99 model latency above ${settings.modelLatencyP99Ms} ms on ${endpointName}; rolls back a deployment in progress`,
          metricName: "ModelLatency",
          extendedStatistic: "p99",
          threshold: settings.modelLatencyP99Ms * MODEL_LATENCY_UNITS_PER_MS,
        },
        opts,
      ),
    );
  }
  return alarms;
}
