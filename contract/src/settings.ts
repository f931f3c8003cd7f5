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
  hasDotSegment,
  matchS3Uri,
} from "./patterns";
import { ARTIFACT_PREFIXES, VALIDATION_CHANNEL } from "./layout";

/** The stack config namespace: keys are written `mlPlatform:<key>` in stacks/Pulumi.<stack>.yaml. */
export const CONFIG_NAMESPACE = "mlPlatform";

const positiveInt = z.number().int().positive();

/** A relative path the tools build keys or file names from: S3-safe segments, no `.` or `..`. */
const safeRelativePath = (what: string) =>
  z
    .string()
    .regex(S3_KEY_PREFIX, `must be ${what} of letters, digits and !-_.'() separated by single '/', without a leading or trailing '/'`)
    .refine((p) => !hasDotSegment(p), "must not contain '.' or '..' segments");
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
  repositories: z
    .array(z.string().regex(REPOSITORY_NAME, "must be an ECR repository name: lowercase letters, digits or '-', starting with a letter"))
    .min(1)
    .default(["ml-core"]),
  /** Days after which untagged images (superseded pushes) are expired. */
  untaggedExpiryDays: positiveInt.default(7),
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
    /**
     * The registry version the artifact and image were resolved from (Kubernetes stacks only, which
     * serve the artifact themselves: `ml-deploy promote` writes all three, since the program cannot
     * call DescribeModelPackage at plan time).
     */
    packageArn: z.string().regex(MODEL_PACKAGE_VERSION_ARN, "must be a model package version ARN (…:model-package/<group>/<version>)").optional(),
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

/** `serving.target`: where the pinned version is served. Every other serving key depends on it. */
export const SERVING_TARGETS = ["sagemaker", "kubernetes"] as const;
export type ServingTarget = (typeof SERVING_TARGETS)[number];

const sageMakerTarget = z.literal("sagemaker").default("sagemaker");

const serverlessServing = z.strictObject({
  target: sageMakerTarget,
  mode: z.literal("serverless"),
  memorySizeMb: z.number().refine((m) => (SERVERLESS_LIMITS.memorySizesMb as readonly number[]).includes(m), {
    message: `must be one of ${SERVERLESS_LIMITS.memorySizesMb.join(", ")}`,
  }),
  maxConcurrency: z.number().int().min(1).max(SERVERLESS_LIMITS.maxConcurrency),
  /** Keeps this many instances warm (no cold start); absent scales to zero. */
  provisionedConcurrency: z.number().int().min(1).max(SERVERLESS_LIMITS.maxConcurrency).optional(),
});

const instanceServing = z.strictObject({
  target: sageMakerTarget,
  mode: z.literal("instances"),
  instanceType: z.string().regex(SAGEMAKER_INSTANCE_TYPE, "must be a SageMaker instance type such as ml.m5.large"),
  instanceCount: positiveInt,
  /** Spread over at least two instances (SageMaker places them in different Availability Zones). */
  highAvailability: z.boolean().default(false),
  autoscaling,
  deployment: deployment.default(deployment.parse({})),
});

const sageMakerServing = z.discriminatedUnion("mode", [serverlessServing, instanceServing], {
  error: "must be one of: serverless, instances",
});

/** A Kubernetes object name (RFC 1123 label): namespaces, and the namespaces ingress is allowed from. */
const K8S_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** An image in any registry, pinned by digest: `<registry>/<path>@sha256:<64 hex>`. */
const ANY_IMAGE_BY_DIGEST = /^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$/;
/** A Kubernetes resource quantity, e.g. `500m`, `2`, `1Gi`, `512Mi`. */
const QUANTITY = /^(\d+(\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;
/** An EKS cluster name (CreateCluster API reference: 1-100 characters, starting alphanumeric). */
const EKS_CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
/** An IAM OIDC identity provider, as EKS clusters register them for IRSA. */
const OIDC_PROVIDER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/.+$/;
/** `<organization>/<project>/<stack>`: a stack of another Pulumi project (the cluster's). */
const STACK_REFERENCE = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

const kubernetesServing = z.strictObject({
  target: z.literal("kubernetes"),
  /**
   * The existing cluster to deploy to (this program creates none): exactly one of `context`, a
   * kubeconfig context, or `stackReference`, the cluster's stack, whose `kubeconfigOutput` output
   * holds the kubeconfig.
   */
  cluster: z.strictObject({
    context: z.string().min(1).optional(),
    stackReference: z.string().regex(STACK_REFERENCE, "must be <organization>/<project>/<stack>").optional(),
    kubeconfigOutput: z.string().min(1).default("kubeconfig"),
  }),
  /** The namespace the platform creates for the model. @default modelName */
  namespace: z.string().regex(K8S_LABEL, "must be a Kubernetes namespace name: lowercase letters, digits or '-', at most 63").optional(),
  /**
   * How the pods get AWS credentials to read the model: EKS Pod Identity (`podIdentity`, creating
   * the association when `eksClusterName` is set) or IRSA (`irsa`, with the cluster's `oidcProviderArn`).
   */
  identity: z.strictObject({
    mode: z.enum(["podIdentity", "irsa"]).default("podIdentity"),
    eksClusterName: z.string().regex(EKS_CLUSTER_NAME, "must be an EKS cluster name").optional(),
    oidcProviderArn: z.string().regex(OIDC_PROVIDER_ARN, "must be an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/<issuer>)").optional(),
  }),
  /** Per pod; requests equal limits (Guaranteed QoS: no CPU throttling surprises, no eviction first). */
  resources: z.strictObject({
    cpu: z.string().regex(QUANTITY, "must be a Kubernetes CPU quantity such as 500m or 2"),
    memory: z.string().regex(QUANTITY, "must be a Kubernetes memory quantity such as 512Mi or 2Gi"),
  }),
  autoscaling: z.strictObject({
    minReplicas: positiveInt,
    maxReplicas: positiveInt,
    /** Target average CPU utilisation of the requests, in percent. */
    targetCpuUtilizationPercent: z.number().int().min(1).max(100).default(70),
    /**
     * Scale on in-flight requests per pod instead of CPU, where a metrics adapter (e.g. the
     * Prometheus adapter) serves this per-pod custom metric.
     */
    inFlightRequests: z
      .strictObject({ metricName: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, "must be a metric name"), targetPerPod: z.number().positive() })
      .optional(),
  }),
  /** PodDisruptionBudget minAvailable. @default autoscaling.minReplicas */
  minAvailable: positiveInt.optional(),
  /** Spread pods across zones: `required` refuses to schedule a skewed pod, `preferred` only tries. */
  zoneSpread: z.enum(["required", "preferred"]).default("preferred"),
  /** Namespaces whose pods may call the model (the NetworkPolicy denies all other ingress). */
  allowIngressFromNamespaces: z.array(z.string().regex(K8S_LABEL, "must be a Kubernetes namespace name")).default([]),
  /** CIDRs the pods may reach on 443 (S3, STS) to fetch the model; narrow it to the S3 endpoint's ranges where known. */
  egressHttpsCidrs: z.array(z.cidrv4()).min(1).default(["0.0.0.0/0"]),
  /** The image that fetches and unpacks the model (an AWS CLI image), pinned by digest. */
  fetcherImage: z.string().regex(ANY_IMAGE_BY_DIGEST, "must be an image pinned by digest (<registry>/<repository>@sha256:<64 hex>)"),
  /** The ml-core image's unprivileged user and group (`node`, uid 1000). @default 1000 */
  runAsUser: z.number().int().min(1).default(1000),
  /** Seconds a terminating pod keeps serving while endpoints and load balancers drop it (preStop sleep). */
  preStopSeconds: z.number().int().min(0).max(60).default(5),
  /** Seconds ml-core takes at most to drain in-flight requests after SIGTERM (its default drain timeout). */
  drainSeconds: positiveInt.default(25),
});

// `target` may be left out (SageMaker, as before it existed): filled in before dispatching on it, so
// a bad value of any other key is reported against its own target's schema.
const serving = z.preprocess(
  (value) => (value !== null && typeof value === "object" && !Array.isArray(value) && !("target" in value) ? { ...value, target: "sagemaker" } : value),
  z.discriminatedUnion("target", [sageMakerServing, kubernetesServing], { error: `must be one of: ${SERVING_TARGETS.join(", ")}` }),
);

/** The serving keys of each target, to name the target a misplaced key belongs to. */
const SERVING_KEYS: Record<ServingTarget, ReadonlySet<string>> = {
  sagemaker: new Set([...Object.keys(serverlessServing.shape), ...Object.keys(instanceServing.shape)]),
  kubernetes: new Set(Object.keys(kubernetesServing.shape)),
};

/** Top-level keys that configure SageMaker hosting only (Kubernetes stacks have no endpoint, capture or endpoint alarms). */
const SAGEMAKER_ONLY_KEYS = ["dataCapture", "alarms"] as const;

const dataCapture = z.strictObject({
  enabled: z.boolean(),
  samplingPercent: z.number().int().min(0).max(100).default(100),
});

const alarms = z.strictObject({
  /** Model (container) 5XX responses per period that trip the alarm and roll a deployment back. */
  invocation5xxErrors: nonNegativeInt,
  /** p99 model latency, in milliseconds, that trips the latency alarm; absent: no latency alarm. */
  modelLatencyP99Ms: z.number().positive().optional(),
  periodSeconds: z.number().int().min(10).default(60),
  evaluationPeriods: positiveInt.default(3),
  /** E-mail addresses subscribed to the stack's alarm topic. */
  notifyEmails: z.array(z.email()).default([]),
});

/**
 * SageMaker built-in XGBoost container versions `training.xgboostVersion` may name: those whose
 * artifact ml-core can serve. The container saves `xgboost-model` with `Booster.save_model` and no
 * extension (sagemaker-xgboost-container, algorithm_mode/train.py); XGBoost writes that as UBJSON
 * from 2.1 on ("Introduction to Model IO", XGBoost docs), in its legacy binary format before.
 * 3.0-5 runs XGBoost 3.0.5 (its docker/3.0-5 Dockerfile); 1.7-1 and older write the legacy format.
 */
export const XGBOOST_VERSIONS = ["3.0-5"] as const;

const training = z.strictObject({
  /**
   * Who trains: ml-core's own container (one instance per model), or SageMaker's built-in XGBoost,
   * which trains one model across instanceCount instances (each reads its shard of the training
   * channel). ml-core's image serves either model.
   */
  algorithm: z.enum(["ml-core", "xgboost"]).default("ml-core"),
  /** With algorithm xgboost: the built-in container's version. @default "3.0-5" */
  xgboostVersion: z.enum(XGBOOST_VERSIONS, { message: `must be one of ${XGBOOST_VERSIONS.join(", ")} (versions whose model ml-core can serve)` }).optional(),
  instanceType: z.string().regex(SAGEMAKER_INSTANCE_TYPE, "must be a SageMaker instance type such as ml.m5.xlarge"),
  instanceCount: positiveInt.default(1),
  /** Instance types the deployer may start training jobs on; absent: only instanceType. */
  allowedInstanceTypes: z.array(z.string().regex(SAGEMAKER_INSTANCE_TYPE, "must be a SageMaker instance type such as ml.m5.xlarge")).min(1).optional(),
  volumeSizeGb: positiveInt.default(30),
  maxRuntimeSeconds: positiveInt.default(3600),
  /** Managed spot training: cheaper, may be interrupted and resumed from a checkpoint. */
  spot: z.boolean().default(false),
  /** With spot: total time including waiting for capacity; at least maxRuntimeSeconds. */
  maxWaitSeconds: positiveInt.optional(),
  /** Where the channels live under the dataset bucket: <prefix>/train/ and <prefix>/validation/. */
  datasetPrefix: safeRelativePath("an S3 key prefix"),
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

const principalArns = z.array(z.string().regex(ACCOUNT_ARN, "must be an IAM principal ARN")).default([]);

const deployer = z.strictObject({
  /** Principals (e.g. the CI runner's role) allowed to assume the deployer role; none by default. */
  trustedPrincipalArns: principalArns,
  /** The stack versions are promoted from into this one (staging: dev; prod: staging); the deployer may read it. */
  promotesFrom: z
    .string()
    .regex(STACK_NAME, "must be a stack name")
    .refine((s) => !s.includes(".."), "must not contain '..'")
    .optional(),
  /**
   * Promotions and rollbacks into this stack need `--yes` or an interactive confirmation: a person
   * says "yes" before customers are served another version.
   */
  requireConfirmation: z.boolean().default(false),
});

const approver = z.strictObject({
  /** Principals (the people or review system deciding on versions) allowed to assume the approver role; none by default. */
  trustedPrincipalArns: principalArns,
});

const updater = z.strictObject({
  /** Principals besides this stage's deployer role allowed to assume the endpoint-updater role; none by default. */
  trustedPrincipalArns: principalArns,
});

const policyPack = z.strictObject({
  /** `ml-deploy` runs the platform's policy pack (infra/policy-pack) on every preview and update of this stack. */
  required: z.boolean().default(false),
  /** The pack's config for this stack (`--policy-pack-config`), relative to the repository root; absent: every policy mandatory. */
  config: safeRelativePath("a file path")
    .refine((p) => p.endsWith(".json"), "must name a .json file")
    .optional(),
});

/**
 * What the stack is expected to do in a month, for the cost estimate (`npm run plan`) and the
 * budget rule. The estimate's low and high cases scale the traffic figures by 1 ∓ `variation`.
 */
const usage = z.strictObject({
  /** Endpoint invocations per month. */
  requestsPerMonth: z.number().nonnegative().default(0),
  /** Mean time the model takes per request, in milliseconds (serverless bills this duration). */
  meanDurationMs: z.number().positive().default(100),
  /** Mean size of a request plus its response, in KB (data processed, data captured). */
  payloadKb: z.number().nonnegative().default(1),
  /** Hours a month the endpoint exists and bills (730 = always on; a month averages 730 hours). */
  activeHoursPerMonth: z.number().min(0).max(744).default(730),
  /** Training jobs per month. */
  trainingRunsPerMonth: z.number().nonnegative().default(0),
  /** Mean wall-clock minutes of one training job (the high case bills training.maxRuntimeSeconds). */
  trainingMinutesPerRun: z.number().positive().default(30),
  /** Data kept in the dataset and artifact buckets, in GB. */
  storedGb: z.number().nonnegative().default(10),
  /** Container images kept in ECR, in GB. */
  imageGb: z.number().nonnegative().default(1),
  /** Requests to the platform key per month (S3 bucket keys keep this low). */
  kmsRequestsPerMonth: z.number().nonnegative().default(10000),
  /** Log events ingested into CloudWatch Logs per month, in GB. */
  logGbPerMonth: z.number().nonnegative().default(1),
  /** Feature Store write request units per month (priced only where a feature group exists). */
  featureStoreWritesPerMonth: z.number().nonnegative().default(0),
  /** Feature Store online-store read request units per month. */
  featureStoreReadsPerMonth: z.number().nonnegative().default(0),
  /** Data kept in Feature Store online stores, in GB. */
  featureStoreOnlineGb: z.number().nonnegative().default(0),
  /** Share by which the low and high estimates scale the traffic figures down and up (0.5: ×0.5 and ×1.5). */
  variation: z.number().min(0).max(1).default(0.5),
});

const budget = z.strictObject({
  /** The stack's expected monthly cost may not exceed this, in USD (the policy pack enforces it). */
  monthlyUsd: z.number().positive(),
});

/**
 * The operational alarms and dashboard (the monitoring component); the rollback alarms that
 * blue/green deployments watch stay under `alarms`.
 */
const monitoring = z.strictObject({
  /** Client (4XX) errors as a share of invocations, in percent, that trips the 4XX alarm. */
  invocation4xxRatePercent: z.number().positive().max(100).default(5),
  /** Minutes without a single invocation that trip the no-traffic alarm; absent: no such alarm. */
  noInvocationsMinutes: positiveInt.optional(),
  /** Minutes at the autoscaling maximum that trip the at-max alarm. */
  atMaxCapacityMinutes: positiveInt.default(15),
  /**
   * CPU utilisation that trips the CPU alarm, in percent as SageMaker reports it: summed over the
   * instance's vCPUs (an instance with 4 vCPUs reaches 400).
   */
  cpuUtilizationPercent: z.number().positive().default(80),
  /** Memory utilisation (0-100) that trips the memory alarm. */
  memoryUtilizationPercent: z.number().positive().max(100).default(85),
  periodSeconds: z.number().int().min(60).default(300),
  evaluationPeriods: positiveInt.default(3),
  /** Notify the alarm topic when a training job of this stack fails. */
  trainingFailures: z.boolean().default(true),
  /** Notify the alarm topic when a SageMaker pipeline execution fails. */
  pipelineFailures: z.boolean().default(true),
});

/**
 * EventBridge Scheduler schedule expressions (EventBridge Scheduler User Guide, "Schedule types"):
 * `rate(<n> <unit>)` or a six-field `cron(...)`; `at(...)` one-time schedules are not for retraining.
 */
const SCHEDULE_EXPRESSION = /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(\S+ \S+ \S+ \S+ \S+ \S+\))$/;
/** An ISO 8601 duration as SageMaker Pipelines' CacheConfig.ExpireAfter takes it (e.g. P30D, PT12H). */
const ISO_DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/;
/** An SNS topic ARN. */
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

/**
 * The stack's training pipeline (a SageMaker Pipeline: train, evaluate, gate on the promotion
 * thresholds, register PendingManualApproval). Absent: no pipeline.
 */
const pipeline = z.strictObject({
  /**
   * The ml-core image the steps run and the version registers, pinned by digest: one of this stack's
   * repositories (the execution roles pull from no other). Absent: no pipeline yet; it exists only
   * once an image has been pushed to the stack's registry and set here (`pulumi config set`).
   */
  image: z.string().regex(IMAGE_BY_DIGEST, "must be an ECR image pinned by digest (<repo URI>@sha256:<64 hex>)").optional(),
  /** EventBridge Scheduler expression that starts the pipeline, e.g. cron(0 3 ? * MON *); absent: no schedule. */
  schedule: z.string().regex(SCHEDULE_EXPRESSION, "must be rate(<n> <minutes|hours|days>) or cron(<6 fields>)").optional(),
  /** Time zone the schedule's cron is read in (IANA name). */
  scheduleTimezone: z.string().min(1).default("UTC"),
  /** Also start the pipeline when an object is created under training.datasetPrefix. */
  onNewData: z.boolean().default(false),
  /** Instance type of the evaluate (Processing) step. */
  evaluationInstanceType: z.string().regex(SAGEMAKER_INSTANCE_TYPE, "must be a SageMaker instance type such as ml.m5.large").default("ml.m5.large"),
  /** How long a step's cached result is reused for the same inputs (ISO 8601 duration). */
  cacheExpireAfter: z.string().regex(ISO_DURATION, "must be an ISO 8601 duration such as P30D or PT12H").default("P30D"),
  /** Attempts of a step on SageMaker capacity or internal errors (1: no retry). */
  maxAttempts: z.number().int().min(1).max(20).default(3),
  /** Where a new version pending approval is announced; absent: the stack's alarm topic. */
  notifyTopicArn: z.string().regex(TOPIC_ARN, "must be an SNS topic ARN").optional(),
});

/** Units of an online store's TtlDuration (SageMaker API reference, TtlDuration.Unit). */
export const FEATURE_TTL_UNITS = ["Seconds", "Minutes", "Hours", "Days", "Weeks"] as const;

/**
 * The stack's SageMaker Feature Store (infra's FeatureStore component): one feature group per
 * feature-set file, its offline store on the dataset bucket under the stack's key, and an online
 * store where enabled. Absent: no feature store.
 */
const featureStore = z.strictObject({
  /** Feature-set definition files (YAML), relative to the repository root: one feature group each. */
  featureSets: z
    .array(safeRelativePath("a file path").refine((p) => /\.ya?ml$/.test(p), "must name a .yaml file"))
    .min(1)
    .refine((files) => new Set(files).size === files.length, "must not list a file twice"),
  offlineStore: z
    .strictObject({
      /** `Iceberg` (compaction, snapshots, Athena reads the latest state cheaply) or `Glue` (the plain Hive layout). */
      tableFormat: z.enum(["Iceberg", "Glue"]).default("Iceberg"),
    })
    .default({ tableFormat: "Iceberg" }),
  onlineStore: z
    .strictObject({
      /** Serve the latest record per identifier at low latency (GetRecord); billed per read and write and per GB. */
      enabled: z.boolean().default(false),
      /** Records expire this long after their event time (`ExpiresAt = EventTime + TtlDuration`); absent: kept until overwritten. */
      ttl: z.strictObject({ value: positiveInt, unit: z.enum(FEATURE_TTL_UNITS) }).optional(),
    })
    .default({ enabled: false }),
  ingestion: z
    .strictObject({
      /** The deployer role runs `ml-deploy features ingest` (PutRecord on this stack's groups). */
      byDeployer: z.boolean().default(true),
      /** Principals (e.g. a data pipeline's role) allowed to assume the ingestion role; none by default. */
      trustedPrincipalArns: principalArns,
    })
    .default({ byDeployer: true, trustedPrincipalArns: [] }),
});

/** Every key a stack may set, with its schema; anything else under `mlPlatform:` is a typo. */
export const platformSettingsSchema = z.strictObject({
  modelName: z.string().regex(MODEL_NAME, "must be 2-32 lowercase letters, digits or '-', starting with a letter"),
  tags,
  artifactStore: artifactStore.default(artifactStore.parse({})),
  logRetentionDays: z.number().refine((d) => (CLOUDWATCH_LOG_RETENTION_DAYS as readonly number[]).includes(d), {
    message: `must be one of CloudWatch Logs' retention periods: ${CLOUDWATCH_LOG_RETENTION_DAYS.join(", ")}`,
  }),
  images: images.default(images.parse({})),
  /** Absent (or empty) until the first promotion pins a version: no endpoint yet. */
  model: pinnedModel.nullish().transform((m) => m ?? undefined),
  serving,
  /** SageMaker stacks only (required there). */
  dataCapture: dataCapture.optional(),
  /** SageMaker stacks only (required there). */
  alarms: alarms.optional(),
  training,
  promotion: promotion.default(promotion.parse({})),
  deployer: deployer.default(deployer.parse({})),
  approver: approver.default(approver.parse({})),
  updater: updater.default(updater.parse({})),
  policyPack: policyPack.default(policyPack.parse({})),
  usage: usage.default(usage.parse({})),
  /** Absent: no budget is enforced. */
  budget: budget.optional(),
  monitoring: monitoring.default(monitoring.parse({})),
  /** Absent: no training pipeline. */
  pipeline: pipeline.optional(),
  /** Absent: no feature store. */
  featureStore: featureStore.optional(),
});

export type PlatformSettings = z.infer<typeof platformSettingsSchema>;
/** The serving settings of a SageMaker stack (`serving.target` sagemaker). */
export type ServingSettings = Extract<PlatformSettings["serving"], { target: "sagemaker" }>;
/** The serving settings of a Kubernetes stack (`serving.target` kubernetes). */
export type KubernetesServingSettings = Extract<PlatformSettings["serving"], { target: "kubernetes" }>;
export type InstanceServingSettings = Extract<ServingSettings, { mode: "instances" }>;
export type DataCaptureSettings = z.infer<typeof dataCapture>;
export type AlarmSettings = z.infer<typeof alarms>;
/** Validated settings of a SageMaker stack: its serving, data capture and alarms are all set. */
export type SageMakerStackSettings = PlatformSettings & { serving: ServingSettings; dataCapture: DataCaptureSettings; alarms: AlarmSettings };
/** Validated settings of a Kubernetes stack: the pin, when present, carries the artifact and image. */
export type KubernetesStackSettings = PlatformSettings & { serving: KubernetesServingSettings; model?: Extract<PinnedModel, { artifactUri: string }> };

/** Narrows validated settings to a Kubernetes stack (the validation guarantees the rest of the shape). */
export function isKubernetesStack(s: PlatformSettings): s is KubernetesStackSettings {
  return s.serving.target === "kubernetes";
}

/**
 * Where a Kubernetes stack serves: its namespace (`serving.namespace`, default the model name) and
 * the name of its Deployment, Service and ServiceAccount (the model name). The tools reach the
 * model at `<name>.<namespace>.svc:8080`.
 */
export function kubernetesServingNames(s: KubernetesStackSettings): { readonly namespace: string; readonly name: string } {
  return { namespace: s.serving.namespace ?? s.modelName, name: s.modelName };
}

/** Narrows validated settings to a SageMaker stack. */
export function isSageMakerStack(s: PlatformSettings): s is SageMakerStackSettings {
  return s.serving.target === "sagemaker" && s.dataCapture !== undefined && s.alarms !== undefined;
}
export type PinnedModel = NonNullable<PlatformSettings["model"]>;
export type TrainingSettings = PlatformSettings["training"];
export type PromotionSettings = PlatformSettings["promotion"];
export type DeployerSettings = PlatformSettings["deployer"];
export type UsageSettings = PlatformSettings["usage"];
export type MonitoringSettings = PlatformSettings["monitoring"];
export type PolicyPackSettings = PlatformSettings["policyPack"];
export type FeatureStoreSettings = NonNullable<PlatformSettings["featureStore"]>;
/** The settings of a pipeline that exists: its image is set. */
export type PipelineSettings = NonNullable<PlatformSettings["pipeline"]> & { readonly image: string };

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

export type SettingsResult = { readonly ok: true; readonly settings: PlatformSettings } | { readonly ok: false; readonly problems: readonly SettingsProblem[] };

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
    problems.push([
      "artifactStore.forceDestroy",
      "(true) conflicts with artifactStore.protect/retainOnDelete: data cannot be both protected and force-destroyed",
    ]);
  }
  const online = s.featureStore?.onlineStore;
  if (online && !online.enabled && online.ttl) {
    problems.push(["featureStore.onlineStore.ttl", "is set but featureStore.onlineStore.enabled is false: only an online store expires records"]);
  }
  if (s.serving.target === "kubernetes") return [...problems, ...kubernetesProblems(s, s.serving), ...trainingProblems(s)];
  for (const key of SAGEMAKER_ONLY_KEYS) {
    if (s[key] === undefined) problems.push([key, "is missing (required with serving.target sagemaker)"]);
  }
  if (s.model && "artifactUri" in s.model && s.model.packageArn !== undefined) {
    problems.push(["model.packageArn", "cannot be set together with model.artifactUri on a SageMaker stack: pin either the package or the artifact + image"]);
  }
  if (s.serving.mode === "serverless") {
    const { provisionedConcurrency: provisioned, maxConcurrency } = s.serving;
    if (provisioned !== undefined && provisioned > maxConcurrency) {
      problems.push(["serving.provisionedConcurrency", `(${provisioned}) exceeds serving.maxConcurrency (${maxConcurrency})`]);
    }
    if (s.dataCapture?.enabled) {
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
  return [...problems, ...trainingProblems(s)];
}

function trainingProblems(s: PlatformSettings): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  const allowed = s.training.allowedInstanceTypes;
  if (allowed && !allowed.includes(s.training.instanceType)) {
    problems.push(["training.allowedInstanceTypes", `(${JSON.stringify(allowed)}) does not include training.instanceType (${s.training.instanceType})`]);
  }
  if (s.pipeline) problems.push(...pipelineProblems(s));
  if (s.training.xgboostVersion !== undefined && s.training.algorithm !== "xgboost") {
    problems.push(["training.xgboostVersion", `(${s.training.xgboostVersion}) is only used with training.algorithm xgboost (it is ${s.training.algorithm})`]);
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

function pipelineProblems(s: PlatformSettings): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  // The evaluate step reports the validation channel only; a gate on another channel could never pass.
  for (const [bound, gates] of [
    ["minMetrics", s.promotion.minMetrics],
    ["maxMetrics", s.promotion.maxMetrics],
  ] as const) {
    for (const name of Object.keys(gates)) {
      if (!name.startsWith(`${VALIDATION_CHANNEL}:`))
        problems.push([
          `promotion.${bound}`,
          `(${JSON.stringify(name)}) is not a ${VALIDATION_CHANNEL}: metric: the pipeline's evaluate step reports ${VALIDATION_CHANNEL} metrics only`,
        ]);
    }
  }
  return problems;
}

function kubernetesProblems(s: PlatformSettings, k: KubernetesServingSettings): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  for (const key of SAGEMAKER_ONLY_KEYS) {
    if (s[key] !== undefined) problems.push([key, "is a SageMaker setting: not used with serving.target kubernetes (remove it)"]);
  }
  if (s.model && !("artifactUri" in s.model)) {
    problems.push([
      "model.artifactUri",
      "is missing: a Kubernetes stack fetches the artifact itself, so it pins artifactUri and image (with packageArn for the record; `ml-deploy promote` writes all three)",
    ]);
  } else if (s.model && !matchS3Uri(s.model.artifactUri)?.key.startsWith(`${ARTIFACT_PREFIXES.models}/`)) {
    problems.push([
      "model.artifactUri",
      `(${JSON.stringify(s.model.artifactUri)}) must lie under the artifact bucket's ${ARTIFACT_PREFIXES.models}/ prefix (promoted copies): the pods may read nothing else`,
    ]);
  }
  const { context, stackReference } = k.cluster;
  if ((context === undefined) === (stackReference === undefined)) {
    problems.push([
      "serving.cluster",
      "must set exactly one of serving.cluster.context (a kubeconfig context) or serving.cluster.stackReference (the cluster's stack)",
    ]);
  }
  const { mode, eksClusterName, oidcProviderArn } = k.identity;
  if (mode === "irsa" && oidcProviderArn === undefined) problems.push(["serving.identity.oidcProviderArn", "is required when serving.identity.mode is irsa"]);
  if (mode === "irsa" && eksClusterName !== undefined)
    problems.push([
      "serving.identity.eksClusterName",
      "is for serving.identity.mode podIdentity (the association); IRSA uses serving.identity.oidcProviderArn",
    ]);
  if (mode === "podIdentity" && oidcProviderArn !== undefined)
    problems.push(["serving.identity.oidcProviderArn", "is for serving.identity.mode irsa; Pod Identity needs no OIDC provider"]);
  const { minReplicas, maxReplicas } = k.autoscaling;
  if (minReplicas > maxReplicas)
    problems.push(["serving.autoscaling.minReplicas", `(${minReplicas}) exceeds serving.autoscaling.maxReplicas (${maxReplicas})`]);
  if (k.minAvailable !== undefined && k.minAvailable > minReplicas) {
    // A budget above the floor would block every voluntary eviction (node drains) at minimum scale.
    problems.push([
      "serving.minAvailable",
      `(${k.minAvailable}) exceeds serving.autoscaling.minReplicas (${minReplicas}): node drains would block at minimum scale`,
    ]);
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
        for (const unknown of issue.keys) add([...issue.path, unknown], unknownKeyMessage(raw, issue.path, unknown));
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
  if (!result.ok)
    throw new ConfigError(
      stack,
      result.problems.map((p) => p.text),
    );
  return result.settings;
}

/** "is not a known setting", or, for a serving key of the other target, which target it belongs to. */
function unknownKeyMessage(raw: Record<string, unknown>, path: readonly PropertyKey[], key: string): string {
  if (path.length === 1 && path[0] === "serving") {
    const target = (valueAt(raw, ["serving", "target"]) ?? "sagemaker") as string;
    const owner = SERVING_TARGETS.find((t) => t !== target && SERVING_KEYS[t].has(key));
    if (owner) return `is a ${owner === "sagemaker" ? "SageMaker" : "Kubernetes"} setting: not used with serving.target ${target} (remove it)`;
  }
  return "is not a known setting";
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
