// SageMaker serving: encrypted endpoint storage, isolated model containers, captured traffic and
// at least two instances in production. Serverless variants are judged by what Serverless
// Inference supports: no ML storage volume to encrypt (SageMaker rejects a KmsKeyId), no network
// isolation and no data capture; Security Hub's SageMaker.4 likewise covers instance-based
// configs only.
import type { PolicyResource, ResourceValidationArgs } from "@pulumi/policy";
import { hasLocalInstanceStorage } from "../lib/instance-storage";
import { customerKeyProblem, globMatches, statementsOfKind } from "../lib/documents";
import { checkov, controlTags, securityHub, type PlatformPolicy } from "../lib/policy";
import { asArray, asRecord, describe, isProduction, PRODUCTION_CONFIG_SCHEMA, refersTo, tagsOf, type ProductionConfig, type Props } from "../lib/resources";
import { TYPES } from "../lib/types";

/** Endpoint configurations and models in both providers' spellings (same fields, camelCased). */
const ENDPOINT_CONFIGS: readonly string[] = [TYPES.sageMakerEndpointConfig, "aws-native:sagemaker:EndpointConfig"];
const MODELS: readonly string[] = [TYPES.sageMakerModel, "aws-native:sagemaker:Model"];
/** The classic provider calls the volume key `kmsKeyArn`, aws-native (CloudFormation) `kmsKeyId`. */
const volumeKeyOf = (props: Props): unknown => props.kmsKeyArn ?? props.kmsKeyId;
const SCALING_TARGET = TYPES.scalingTarget;

interface Variant {
  readonly name: string;
  readonly modelName: unknown;
  readonly instanceType?: string;
  readonly initialInstanceCount?: number;
  readonly serverless: boolean;
}

/** Production and shadow variants of an endpoint configuration. */
export function variantsOf(config: Props): Variant[] {
  return [...asArray(config.productionVariants), ...asArray(config.shadowProductionVariants)].flatMap((raw, i) => {
    const v = asRecord(raw);
    if (!v) return [];
    return [
      {
        name: typeof v.variantName === "string" ? v.variantName : `#${i + 1}`,
        modelName: v.modelName,
        instanceType: typeof v.instanceType === "string" ? v.instanceType : undefined,
        initialInstanceCount: typeof v.initialInstanceCount === "number" ? v.initialInstanceCount : undefined,
        serverless: asRecord(v.serverlessConfig) !== undefined,
      },
    ];
  });
}

const instanceBased = (v: Variant) => !v.serverless;

export const endpointConfigKms: PlatformPolicy = {
  name: "sagemaker-endpoint-config-kms",
  description: "Instance-based SageMaker endpoint configurations encrypt the ML storage volume with a KMS key (kmsKeyArn).",
  severity: "high",
  controls: [checkov("CKV_AWS_98")],
  validateResource: (args, reportViolation) => {
    if (!ENDPOINT_CONFIGS.includes(args.type)) return args.notApplicable("not a SageMaker endpoint configuration");
    const variants = variantsOf(args.props).filter(instanceBased);
    if (variants.length === 0) return args.notApplicable("serverless variants only: they have no ML storage volume and SageMaker rejects a KmsKeyId");
    // Local NVMe storage is hardware-encrypted and SageMaker rejects a key for it.
    const needKey = variants.filter((v) => v.instanceType === undefined || !hasLocalInstanceStorage(v.instanceType));
    if (needKey.length === 0) return args.notApplicable("instance types with local NVMe storage only (hardware-encrypted; SageMaker rejects a KmsKeyId)");
    const key = volumeKeyOf(args.props);
    if (typeof key !== "string" || key === "") {
      reportViolation(
        `${describe(args)}: kmsKeyArn is not set but variant${needKey.length > 1 ? "s" : ""} ${needKey.map((v) => `"${v.name}" (${v.instanceType ?? "no instance type"})`).join(", ")} run on instances; set kmsKeyArn to the platform key`,
      );
    } else if (customerKeyProblem(key)) {
      reportViolation(`${describe(args)}: the volume key ${customerKeyProblem(key)}`);
    }
  },
};

/** Reads a value that may not be known yet in a preview; undefined then. */
function known<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** The variants, across the stack's endpoint configurations, that serve `model`. */
function variantsServing(model: PolicyResource, configs: PolicyResource[]): Variant[] {
  const modelName = known(() => model.props.name ?? model.props.modelName);
  return configs.flatMap((config) => {
    const variants = known(() => variantsOf(config.props)) ?? [];
    const byName = variants.filter((v) => modelName !== undefined && known(() => v.modelName) === modelName);
    if (byName.length > 0) return byName;
    // Names not known yet (a preview of a new model): the engine still records that the variants
    // were built from this model's outputs.
    const dependsOnModel = (config.propertyDependencies?.productionVariants ?? []).some((d) => d.urn === model.urn);
    return dependsOnModel ? variants : [];
  });
}

export const modelNetworkIsolation: PlatformPolicy = {
  name: "sagemaker-model-network-isolation",
  description: "SageMaker models run with network isolation, unless they are served only by serverless variants (which do not support it).",
  severity: "medium",
  controls: [securityHub("SageMaker.5", "instance-based serving; serverless-only models are exempt"), checkov("CKV_AWS_370")],
  validateStack: (args, reportViolation) => {
    const models = args.resources.filter((r) => MODELS.includes(r.type));
    if (models.length === 0) return args.notApplicable("no SageMaker models in the stack");
    const configs = args.resources.filter((r) => ENDPOINT_CONFIGS.includes(r.type));
    for (const model of models) {
      if (model.props.enableNetworkIsolation === true) continue;
      const serving = variantsServing(model, configs);
      // A model no configuration serves yet is judged strictly: it may be served on instances next.
      if (serving.length > 0 && serving.every((v) => v.serverless)) continue;
      const where =
        serving.length === 0
          ? "no endpoint configuration in the stack serves it"
          : `it is served by instance-based variant(s) ${serving
              .filter(instanceBased)
              .map((v) => `"${v.name}"`)
              .join(", ")}`;
      reportViolation(
        `${describe(model)}: enableNetworkIsolation is ${JSON.stringify(model.props.enableNetworkIsolation ?? false)} and ${where}; set enableNetworkIsolation to true (only serverless-only models may leave it off)`,
        model.urn,
      );
    }
  },
};

export const dataCaptureKms: PlatformPolicy = {
  name: "sagemaker-data-capture-kms",
  description: "When an endpoint captures requests and responses, the captured data is encrypted with a KMS key.",
  severity: "high",
  controls: [],
  validateResource: (args, reportViolation) => {
    if (!ENDPOINT_CONFIGS.includes(args.type)) return args.notApplicable("not a SageMaker endpoint configuration");
    const capture = asRecord(args.props.dataCaptureConfig);
    if (!capture || capture.enableCapture === false) return args.notApplicable("data capture is off");
    if (typeof capture.kmsKeyId !== "string" || capture.kmsKeyId === "") {
      reportViolation(`${describe(args)}: dataCaptureConfig.kmsKeyId is not set; captured payloads are customer data: encrypt them with the platform key`);
    } else if (customerKeyProblem(capture.kmsKeyId)) {
      reportViolation(`${describe(args)}: dataCaptureConfig.kmsKeyId ${customerKeyProblem(capture.kmsKeyId)}`);
    }
  },
};

const productionConfig = (args: Pick<ResourceValidationArgs, "getConfig">) => args.getConfig<ProductionConfig & { minInstances?: number }>();

export const prodDataCapture: PlatformPolicy = {
  name: "sagemaker-prod-data-capture",
  description: "Production endpoint configurations capture requests and responses (for monitoring and audit).",
  severity: "medium",
  controls: [],
  configSchema: { properties: { ...PRODUCTION_CONFIG_SCHEMA } },
  validateResource: (args, reportViolation) => {
    if (!ENDPOINT_CONFIGS.includes(args.type)) return args.notApplicable("not a SageMaker endpoint configuration");
    if (!isProduction(productionConfig(args), tagsOf(args))) return args.notApplicable("not a production stack");
    const capture = asRecord(args.props.dataCaptureConfig);
    const serverless = variantsOf(args.props)
      .filter((v) => v.serverless)
      .map((v) => `"${v.name}"`);
    if (!capture || capture.enableCapture === false) {
      const hint = serverless.length > 0 ? ` (variant ${serverless.join(", ")} is serverless, which cannot capture data: serve production from instances)` : "";
      return reportViolation(
        `${describe(args)}: data capture is off in production${hint}; set dataCaptureConfig with enableCapture true, a destination and a KMS key`,
      );
    }
    if (!(Number(capture.initialSamplingPercentage) > 0)) {
      reportViolation(
        `${describe(args)}: dataCaptureConfig.initialSamplingPercentage is ${JSON.stringify(capture.initialSamplingPercentage ?? null)}; production must capture a share above 0`,
      );
    }
  },
};

/** SageMaker.4's "more than one instance" (Availability Zone redundancy). */
const DEFAULT_MIN_PRODUCTION_INSTANCES = 2;

export const prodHighAvailability: PlatformPolicy = {
  name: "sagemaker-prod-high-availability",
  description: "In production, instance-based variants start with at least two instances and autoscaling never goes below two.",
  severity: "medium",
  controls: [securityHub("SageMaker.4", "enforced for production only; staging runs one instance by design")],
  configSchema: {
    properties: {
      ...PRODUCTION_CONFIG_SCHEMA,
      minInstances: { type: "integer", minimum: 2, default: DEFAULT_MIN_PRODUCTION_INSTANCES, description: "Minimum instances per production variant." },
    },
  },
  validateResource: (args, reportViolation) => {
    const isScalingTarget = args.type === SCALING_TARGET && args.props.scalableDimension === "sagemaker:variant:DesiredInstanceCount";
    if (!ENDPOINT_CONFIGS.includes(args.type) && !isScalingTarget)
      return args.notApplicable("not a SageMaker endpoint configuration or variant scaling target");
    const config = productionConfig(args);
    if (!isProduction(config, tagsOf(args))) return args.notApplicable("not a production stack");
    const min = config.minInstances ?? DEFAULT_MIN_PRODUCTION_INSTANCES;
    if (isScalingTarget) {
      if (!(Number(args.props.minCapacity) >= min)) {
        reportViolation(
          `${describe(args)}: minCapacity is ${JSON.stringify(args.props.minCapacity ?? null)}; a production variant must not scale below ${min} instances`,
        );
      }
      return;
    }
    const variants = variantsOf(args.props).filter(instanceBased);
    if (variants.length === 0) return args.notApplicable("serverless variants only (SageMaker.4 covers instance-based variants)");
    for (const v of variants.filter((x) => !((x.initialInstanceCount ?? 0) >= min))) {
      reportViolation(
        `${describe(args)}: variant "${v.name}" initialInstanceCount is ${JSON.stringify(v.initialInstanceCount ?? null)}; production needs at least ${min} (SageMaker spreads them over Availability Zones)`,
      );
    }
  },
};

const ROLE_TYPES = ["aws:iam/role:Role", "aws-native:iam:Role"];
const ROLE_POLICY_TYPES = ["aws:iam/rolePolicy:RolePolicy", "aws-native:iam:RolePolicy"];
/** What only a training job writes: its log streams in SageMaker's fixed training log group. */
const TRAINING_LOG_STREAM = "log-group:/aws/sagemaker/TrainingJobs:log-stream:any-job/algo-1";

/** Whether a role's permissions (inline, or in role policies naming it) let it write training job logs. */
function writesTrainingLogs(role: PolicyResource, all: PolicyResource[]): boolean {
  const names = [role.props.name, role.props.id, role.props.roleName].filter((n) => n !== undefined);
  const documents = [
    role,
    ...all.filter((r) => ROLE_POLICY_TYPES.includes(r.type) && (refersTo(r, "role", role, names) || refersTo(r, "roleName", role, names))),
  ];
  return documents.some((r) =>
    statementsOfKind(r.type, r.props, ["identity"]).some(
      ({ statement: s }) =>
        s.effect === "Allow" &&
        s.actions.some((a) => globMatches(a, "logs:PutLogEvents")) &&
        s.resources.some((res) => res === "*" || (/^arn:[^:]+:logs:/.test(res) && globMatches(res.split(":").slice(5).join(":"), TRAINING_LOG_STREAM))),
    ),
  );
}

export const separateTrainingAndHostingRoles: PlatformPolicy = {
  name: "sagemaker-separate-training-hosting-roles",
  description: "The role SageMaker hosts models with (a Model's executionRoleArn) is not a training role: it cannot write training job logs.",
  severity: "medium",
  controls: [],
  validateStack: (args, reportViolation) => {
    const models = args.resources.filter((r) => MODELS.includes(r.type));
    if (models.length === 0) return args.notApplicable("no SageMaker models in the stack");
    const roles = args.resources.filter((r) => ROLE_TYPES.includes(r.type));
    for (const model of models) {
      const hosting = roles.filter((role) => refersTo(model, "executionRoleArn", role, [role.props.arn]));
      for (const role of hosting.filter((r) => writesTrainingLogs(r, args.resources))) {
        reportViolation(
          `${describe(model)}: is hosted with ${describe(role)}, which can also write training job logs (a training role); host with a role of its own, without training's data and output access`,
          model.urn,
        );
      }
    }
  },
};

export const sageMakerPolicies: PlatformPolicy[] = [
  endpointConfigKms,
  modelNetworkIsolation,
  dataCaptureKms,
  prodDataCapture,
  prodHighAvailability,
  separateTrainingAndHostingRoles,
].map((p) => ({ ...p, tags: controlTags(p.controls) }));
