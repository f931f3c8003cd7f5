// The one schema of a stack's settings (`mlPlatform:*` in stacks/Pulumi.<stack>.yaml): every key,
// its default, the rules that span keys and the wording of every problem. `pulumi up` (infra) and
// `ml-deploy` (deploy-scripts) both validate a stack file with it, so a typo fails the same way in
// both, naming the stack and the key.
import { z } from "zod";
import { BLUE_GREEN_LIMITS, CLOUDWATCH_LOG_RETENTION_DAYS, SERVERLESS_LIMITS, TAGS } from "./limits";
import {
  ACCOUNT_ARN,
  IMAGE_BY_DIGEST,
  METRIC_NAME,
  MODEL_ARTIFACT_URI,
  MODEL_NAME,
  MODEL_PACKAGE_VERSION_ARN,
  REPOSITORY_NAME,
  S3_KEY_PREFIX,
  SAGEMAKER_INSTANCE_TYPE,
  STACK_NAME,
} from "./patterns";

/** The stack config namespace: keys are written `mlPlatform:<key>` in stacks/Pulumi.<stack>.yaml. */
export const CONFIG_NAMESPACE = "mlPlatform";

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const tagValue = z.string().min(1).max(TAGS.maxValueLength);

const tags = z
  .object({
    owner: tagValue.describe("team or person accountable for the stack"),
    costCenter: tagValue.describe("cost centre that pays for it"),
  })
  .catchall(tagValue);

const artifactStore = z.strictObject({
  /** Keep the buckets and key in the account when the stack is destroyed or they leave the program. */
  retainOnDelete: z.boolean().default(false),
  /** Pulumi `protect`: refuse to delete the buckets and key at all until unprotected. */
  protect: z.boolean().default(false),
  /** Let `pulumi destroy` empty non-empty buckets (dev only; conflicts with `protect`). */
  forceDestroy: z.boolean().default(false),
  /** Days a replaced or deleted object version is kept. */
  noncurrentVersionExpirationDays: positiveInt.default(30),
  /** Days spot-training checkpoints are kept (useless once a job has ended). */
  checkpointExpirationDays: positiveInt.default(14),
  /**
   * Days training outputs are kept; absent keeps them. Registered versions point at their training
   * output, so set this only where versions are served from promoted copies (`models/`).
   */
  trainingOutputExpirationDays: positiveInt.optional(),
  /** Days captured endpoint requests and responses are kept. */
  dataCaptureExpirationDays: positiveInt.default(90),
  /** Days before an unfinished multipart upload is aborted. */
  abortIncompleteMultipartUploadDays: positiveInt.default(7),
  /**
   * Own the account's `/aws/sagemaker/TrainingJobs` log group (one per account and region): true in
   * exactly one of the stacks that share an account and region, false in the others.
   */
  trainingLogGroup: z.boolean().default(true),
});

const images = z.strictObject({
  /** ECR repositories to create, one per container image. */
  repositories: z.array(z.string().regex(REPOSITORY_NAME, "must be an ECR repository name: lowercase letters, digits or '-', starting with a letter")).min(1).default(["ml-core"]),
  /** Days after which untagged images (superseded pushes) are expired. */
  untaggedExpiryDays: positiveInt.default(7),
  /** Repositories of earlier stages whose images this stack's models may run (promotion pins by digest). */
  pullFromRepositoryArns: z.array(z.string().regex(ACCOUNT_ARN, "must be an ECR repository ARN")).default([]),
});

const pinnedModel = z.union([
  z.strictObject({
    /** A model package version in a SageMaker model registry: immutable, approved, promoted. */
    packageArn: z.string().regex(MODEL_PACKAGE_VERSION_ARN, "must be a model package version ARN (…:model-package/<group>/<version>)"),
    previousPackageArns: z.array(z.string().regex(MODEL_PACKAGE_VERSION_ARN)).default([]),
  }),
  z.strictObject({
    /** The model artifact (model.tar.gz) in S3, for teams not using the registry. */
    artifactUri: z.string().regex(MODEL_ARTIFACT_URI, "must be an s3://bucket/key.tar.gz URI"),
    /** The serving image, pinned by digest so the served bits cannot change under the same config. */
    image: z.string().regex(IMAGE_BY_DIGEST, "must be an ECR image pinned by digest (<repo URI>@sha256:<64 hex>)"),
    previousPackageArns: z.array(z.string().regex(MODEL_PACKAGE_VERSION_ARN)).default([]),
  }),
]);

const autoscaling = z.strictObject({
  enabled: z.boolean().default(true),
  min: positiveInt,
  max: positiveInt,
  /** Target of the target-tracking policy on SageMakerVariantInvocationsPerInstance (per minute). */
  targetInvocationsPerInstance: z.number().positive(),
  scaleInCooldownSeconds: nonNegativeInt.default(300),
  scaleOutCooldownSeconds: nonNegativeInt.default(60),
});

const deployment = z.strictObject({
  trafficRouting: z.enum(["ALL_AT_ONCE", "CANARY", "LINEAR"]).default("CANARY"),
  /** CANARY: share of capacity that takes traffic first. */
  canaryPercent: z.number().int().min(1).max(BLUE_GREEN_LIMITS.maxCanaryPercent).default(10),
  /** LINEAR: share of capacity shifted per step. */
  linearStepPercent: z.number().int().min(BLUE_GREEN_LIMITS.minLinearStepPercent).max(BLUE_GREEN_LIMITS.maxLinearStepPercent).default(25),
  /** Baking time between traffic shifts, watched by the rollback alarms. */
  waitIntervalSeconds: z.number().int().min(0).max(BLUE_GREEN_LIMITS.maxWaitIntervalSeconds).default(300),
  /** How long the old (blue) fleet is kept after the shift completes, for a fast rollback. */
  terminationWaitSeconds: z.number().int().min(0).max(BLUE_GREEN_LIMITS.maxTerminationWaitSeconds).default(300),
  maximumExecutionTimeoutSeconds: z
    .number()
    .int()
    .min(BLUE_GREEN_LIMITS.minExecutionTimeoutSeconds)
    .max(BLUE_GREEN_LIMITS.maxExecutionTimeoutSeconds)
    .default(3600),
});

const serverlessServing = z.strictObject({
  mode: z.literal("serverless"),
  memorySizeMb: z.number().refine((m) => (SERVERLESS_LIMITS.memorySizesMb as readonly number[]).includes(m), {
    message: `must be one of ${SERVERLESS_LIMITS.memorySizesMb.join(", ")}`,
  }),
  maxConcurrency: z.number().int().min(1).max(SERVERLESS_LIMITS.maxConcurrency),
  /** Keeps this many instances warm (no cold start); absent scales to zero. */
  provisionedConcurrency: z.number().int().min(1).max(SERVERLESS_LIMITS.maxConcurrency).optional(),
});

const instanceServing = z.strictObject({
  mode: z.literal("instances"),
  instanceType: z.string().regex(SAGEMAKER_INSTANCE_TYPE, "must be a SageMaker instance type such as ml.m5.large"),
  instanceCount: positiveInt,
  /** Spread over at least two instances (SageMaker places them in different Availability Zones). */
  highAvailability: z.boolean().default(false),
  autoscaling,
  deployment: deployment.default(deployment.parse({})),
});

const serving = z.discriminatedUnion("mode", [serverlessServing, instanceServing], {
  error: "must be one of: serverless, instances",
});

const dataCapture = z.strictObject({
  enabled: z.boolean(),
  samplingPercent: z.number().int().min(0).max(100).default(100),
});

const alarms = z.strictObject({
  /** Model (container) 5XX responses per period that trip the alarm and roll a deployment back. */
  invocation5xxErrors: nonNegativeInt,
  /** p99 model latency, in milliseconds, that trips the latency alarm. */
  modelLatencyP99Ms: z.number().positive(),
  periodSeconds: z.number().int().min(10).default(60),
  evaluationPeriods: positiveInt.default(3),
  /** E-mail addresses subscribed to the stack's alarm topic. */
  notifyEmails: z.array(z.email()).default([]),
});

const training = z.strictObject({
  instanceType: z.string().regex(SAGEMAKER_INSTANCE_TYPE, "must be a SageMaker instance type such as ml.m5.xlarge"),
  instanceCount: positiveInt.default(1),
  volumeSizeGb: positiveInt.default(30),
  maxRuntimeSeconds: positiveInt.default(3600),
  /** Managed spot training: cheaper, may be interrupted and resumed from a checkpoint. */
  spot: z.boolean().default(false),
  /** With spot: total time including waiting for capacity; at least maxRuntimeSeconds. */
  maxWaitSeconds: positiveInt.optional(),
  /** Where the channels live under the dataset bucket: <prefix>/train/ and <prefix>/validation/. */
  datasetPrefix: z.string().regex(S3_KEY_PREFIX, "must be an S3 key prefix of letters, digits and !_.*'()- separated by single '/', without a leading or trailing '/'"),
  hyperparameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
});

const metricName = z.string().regex(METRIC_NAME, "metric names look like <channel>:<metric>, e.g. validation:auc");

const promotion = z.strictObject({
  requireApproval: z.boolean().default(true),
  /** Gate: a registered metric must be at least this (e.g. "validation:auc": 0.8). */
  minMetrics: z.record(metricName, z.number()).default({}),
  /** Gate: a registered metric must be at most this (e.g. "validation:logloss": 0.6). */
  maxMetrics: z.record(metricName, z.number()).default({}),
  smokeMaxLatencyMs: z.number().positive().default(1000),
});

const deployer = z.strictObject({
  /** Principals (e.g. the CI runner's role) allowed to assume the deployer role. */
  trustedPrincipalArns: z.array(z.string().regex(ACCOUNT_ARN, "must be an IAM principal ARN")).default([]),
  /** The stack versions are promoted from into this one (staging: dev; prod: staging); the deployer may read it. */
  promotesFrom: z.string().regex(STACK_NAME, "must be a stack name").optional(),
  /**
   * Promotions and rollbacks into this stack need `--yes` or an interactive confirmation: a person
   * says "yes" before customers are served another version.
   */
  requireConfirmation: z.boolean().default(false),
});

const policyPack = z.strictObject({
  /** `ml-deploy` runs the platform's policy pack (infra/policy-pack) with every preview and update of this stack. */
  required: z.boolean().default(false),
  /** The pack's config for this stack (`--policy-pack-config`), a .json file relative to the repository root; absent: every policy mandatory. */
  config: z
    .string()
    .regex(S3_KEY_PREFIX, "must be a path relative to the repository root, segments separated by single '/'")
    .refine((p) => !p.split("/").some((s) => s === "." || s === ".."), "must not contain '.' or '..' segments")
    .refine((p) => p.endsWith(".json"), "must name a .json file")
    .optional(),
});

/** Every key a stack may set, with its schema; anything else under `mlPlatform:` is a typo. */
export const platformSettingsSchema = z.strictObject({
  modelName: z.string().regex(MODEL_NAME, "must be 2-32 lowercase letters, digits or '-', starting with a letter"),
  tags,
  artifactStore: artifactStore.default(artifactStore.parse({})),
  logRetentionDays: z
    .number()
    .refine((d) => (CLOUDWATCH_LOG_RETENTION_DAYS as readonly number[]).includes(d), {
      message: `must be one of CloudWatch Logs' retention periods: ${CLOUDWATCH_LOG_RETENTION_DAYS.join(", ")}`,
    }),
  images: images.default(images.parse({})),
  /** Absent (or empty) until the first promotion pins a version: no endpoint yet. */
  model: pinnedModel.nullish().transform((m) => m ?? undefined),
  serving,
  dataCapture,
  alarms,
  training,
  promotion: promotion.default(promotion.parse({})),
  deployer: deployer.default(deployer.parse({})),
  policyPack: policyPack.default(policyPack.parse({})),
});

export type PlatformSettings = z.infer<typeof platformSettingsSchema>;
export type ServingSettings = PlatformSettings["serving"];
export type InstanceServingSettings = Extract<ServingSettings, { mode: "instances" }>;
export type PinnedModel = NonNullable<PlatformSettings["model"]>;
export type TrainingSettings = PlatformSettings["training"];
export type PromotionSettings = PlatformSettings["promotion"];
export type DeployerSettings = PlatformSettings["deployer"];
export type PolicyPackSettings = PlatformSettings["policyPack"];

/** One thing wrong with a stack's settings. */
export interface SettingsProblem {
  /** Where, below the namespace: `["serving", "instanceCount"]`. */
  readonly path: readonly (string | number)[];
  /** The full key: `mlPlatform:serving.instanceCount`. */
  readonly key: string;
  /** What is wrong, led by the value where there is one: `(5) is outside serving.autoscaling bounds [1, 3]`. */
  readonly message: string;
  /** The whole line: `<stack>: mlPlatform:<key> (<value>) <what is wrong>`. */
  readonly text: string;
}

export type SettingsResult =
  | { readonly ok: true; readonly settings: PlatformSettings }
  | { readonly ok: false; readonly problems: readonly SettingsProblem[] };

/** A stack's settings were rejected; the message lists every problem, one a line. */
export class ConfigError extends Error {
  constructor(
    readonly stackName: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid configuration for stack "${stackName}" (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

/** Rules that involve more than one key; each returns problems as [key path, message]. */
function crossFieldProblems(s: PlatformSettings): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  const store = s.artifactStore;
  if (store.forceDestroy && (store.protect || store.retainOnDelete)) {
    problems.push(["artifactStore.forceDestroy", "(true) conflicts with artifactStore.protect/retainOnDelete: data cannot be both protected and force-destroyed"]);
  }
  if (s.serving.mode === "serverless") {
    const { provisionedConcurrency: provisioned, maxConcurrency } = s.serving;
    if (provisioned !== undefined && provisioned > maxConcurrency) {
      problems.push(["serving.provisionedConcurrency", `(${provisioned}) exceeds serving.maxConcurrency (${maxConcurrency})`]);
    }
    if (s.dataCapture.enabled) {
      problems.push(["dataCapture.enabled", "(true) is not supported with serving.mode serverless: SageMaker Serverless Inference has no data capture"]);
    }
  } else {
    const { autoscaling: scaling, instanceCount, highAvailability } = s.serving;
    if (scaling.min > scaling.max) {
      problems.push(["serving.autoscaling.min", `(${scaling.min}) exceeds serving.autoscaling.max (${scaling.max})`]);
    }
    if (scaling.enabled && scaling.min <= scaling.max && (instanceCount < scaling.min || instanceCount > scaling.max)) {
      problems.push(["serving.instanceCount", `(${instanceCount}) is outside serving.autoscaling bounds [${scaling.min}, ${scaling.max}]`]);
    }
    if (highAvailability && instanceCount < 2) {
      problems.push(["serving.instanceCount", `(${instanceCount}) must be at least 2 when serving.highAvailability is true`]);
    }
    if (highAvailability && scaling.enabled && scaling.min < 2) {
      problems.push(["serving.autoscaling.min", `(${scaling.min}) must be at least 2 when serving.highAvailability is true`]);
    }
  }
  if (s.training.spot) {
    const wait = s.training.maxWaitSeconds;
    if (wait === undefined) {
      problems.push(["training.maxWaitSeconds", "is required when training.spot is true"]);
    } else if (wait < s.training.maxRuntimeSeconds) {
      problems.push(["training.maxWaitSeconds", `(${wait}) is less than training.maxRuntimeSeconds (${s.training.maxRuntimeSeconds})`]);
    }
  }
  return problems;
}

/** The `mlPlatform:` keys of a stack's flat config (`ns:key` → value), without the namespace. */
export function namespacedSettings(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
  }
  return raw;
}

/**
 * Validates one stack's settings. `config` is the stack's flat `config:` map as values (YAML as
 * parsed, or Pulumi's strings decoded): `mlPlatform:*` keys are read, other namespaces ignored.
 * Every problem is collected; rules that span keys run once every key is valid on its own.
 */
export function parseStackSettings(stack: string, config: Readonly<Record<string, unknown>>): SettingsResult {
  const raw = namespacedSettings(config);
  const problems: SettingsProblem[] = [];
  const add = (path: readonly PropertyKey[], message: string) => {
    const key = `${CONFIG_NAMESPACE}:${path.map(String).join(".")}`;
    problems.push({ path: path.map((p) => (typeof p === "number" ? p : String(p))), key, message, text: `${stack}: ${key} ${message}` });
  };

  const parsed = platformSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === "unrecognized_keys") {
        for (const unknown of issue.keys) add([...issue.path, unknown], "is not a known setting");
      } else if (issue.code === "invalid_key") {
        add(issue.path, `is not a valid key: ${issue.issues[0]?.message ?? issue.message}`);
      } else {
        // The value at the key itself (for a union, zod reports the enclosing object as input).
        const value = valueAt(raw, issue.path);
        add(issue.path, value === undefined ? "is missing" : `(${describeValue(value)}) ${issue.message}`);
      }
    }
    return { ok: false, problems };
  }
  for (const [path, message] of crossFieldProblems(parsed.data)) add(path.split("."), message);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, settings: parsed.data };
}

/** `parseStackSettings`, throwing a `ConfigError` that lists every problem. */
export function stackSettings(stack: string, config: Readonly<Record<string, unknown>>): PlatformSettings {
  const result = parseStackSettings(stack, config);
  if (!result.ok) throw new ConfigError(stack, result.problems.map((p) => p.text));
  return result.settings;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = root;
  for (const step of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[step];
  }
  return node;
}

function describeValue(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
