// Training jobs are not Pulumi resources here: `ml-deploy train` builds a CreateTrainingJob request
// and sends it. These rules validate such a request as data, so the deploy tool (or CI) can refuse
// one that breaks them, and the pack's tests hold the deploy tool's real request builder to them.
import { hasLocalInstanceStorage } from "./lib/instance-storage";
import { checkov, securityHub, type ControlRef } from "./lib/policy";

/** The fields of a CreateTrainingJob request (AWS SDK v3 `CreateTrainingJobCommandInput`) these rules read. */
export interface TrainingJobRequest {
  TrainingJobName?: string;
  EnableInterContainerTrafficEncryption?: boolean;
  EnableNetworkIsolation?: boolean;
  EnableManagedSpotTraining?: boolean;
  StoppingCondition?: { MaxRuntimeInSeconds?: number; MaxWaitTimeInSeconds?: number; MaxPendingTimeInSeconds?: number };
  ResourceConfig?: {
    InstanceType?: string;
    InstanceCount?: number;
    VolumeKmsKeyId?: string;
    InstanceGroups?: Array<{ InstanceType?: string; InstanceCount?: number }>;
  };
  OutputDataConfig?: { KmsKeyId?: string; S3OutputPath?: string };
}

/** CreateTrainingJob's ceiling for `StoppingCondition.MaxRuntimeInSeconds`: 28 days (StoppingCondition API reference). */
export const MAX_TRAINING_RUNTIME_SECONDS = 28 * 24 * 60 * 60;

export interface TrainingJobRule {
  readonly name: string;
  readonly description: string;
  readonly controls: readonly ControlRef[];
  /** The problems with `request`, each a sentence naming the field, its value and what is allowed. */
  readonly check: (request: TrainingJobRequest) => string[];
}

const show = (value: unknown) => JSON.stringify(value ?? null);

/** Instance types the job runs on (single type or heterogeneous instance groups). */
function instanceTypes(request: TrainingJobRequest): string[] {
  const rc = request.ResourceConfig ?? {};
  const types = [rc.InstanceType, ...(rc.InstanceGroups ?? []).map((g) => g.InstanceType)];
  return types.filter((t): t is string => typeof t === "string");
}

export const TRAINING_JOB_RULES: readonly TrainingJobRule[] = [
  {
    name: "training-inter-container-encryption",
    description: "Training jobs encrypt traffic between their containers.",
    // No control targets training jobs; these are the same setting on SageMaker's other job types.
    controls: [
      securityHub("SageMaker.9", "analogous: SageMaker.9/.10/.13/.15/.22 check this setting on model monitoring job definitions and schedules"),
      checkov("CKV_AWS_369", "analogous: data quality job definitions"),
    ],
    check: (r) =>
      // Required on every job, not only distributed ones: it costs nothing on one instance (AWS:
      // "doesn't affect training jobs with a single compute instance"), and a job scaled out later
      // through another path is then still encrypted.
      r.EnableInterContainerTrafficEncryption === true
        ? []
        : [
            `EnableInterContainerTrafficEncryption is ${show(r.EnableInterContainerTrafficEncryption)}; set it to true (free on a single instance, required once the job is distributed)`,
          ],
  },
  {
    name: "training-stopping-condition",
    description: "Training jobs have a stopping condition: a bounded runtime and, with spot, a wait time that covers it.",
    controls: [],
    check: (r) => {
      const problems: string[] = [];
      const runtime = r.StoppingCondition?.MaxRuntimeInSeconds;
      if (!(typeof runtime === "number" && Number.isInteger(runtime) && runtime > 0 && runtime <= MAX_TRAINING_RUNTIME_SECONDS)) {
        problems.push(
          `StoppingCondition.MaxRuntimeInSeconds is ${show(runtime)}; set a whole number of seconds from 1 to ${MAX_TRAINING_RUNTIME_SECONDS} (28 days)`,
        );
      }
      if (r.EnableManagedSpotTraining === true) {
        const wait = r.StoppingCondition?.MaxWaitTimeInSeconds;
        if (!(typeof wait === "number" && typeof runtime === "number" && wait >= runtime)) {
          problems.push(
            `StoppingCondition.MaxWaitTimeInSeconds is ${show(wait)}; managed spot training needs it set and at least MaxRuntimeInSeconds (${show(runtime)})`,
          );
        }
      }
      return problems;
    },
  },
  {
    name: "training-volume-kms",
    description:
      "Training jobs encrypt the ML storage volume with a KMS key, unless every instance uses local NVMe storage (hardware-encrypted; SageMaker rejects a key).",
    controls: [checkov("CKV_AWS_368", "analogous: data quality job definitions' volume KMS key")],
    check: (r) => {
      const types = instanceTypes(r);
      if (types.length > 0 && types.every(hasLocalInstanceStorage)) return [];
      const key = r.ResourceConfig?.VolumeKmsKeyId;
      return typeof key === "string" && key !== ""
        ? []
        : [`ResourceConfig.VolumeKmsKeyId is not set for ${types.join(", ") || "an unknown instance type"}; set it to the platform key`];
    },
  },
  {
    name: "training-output-kms",
    description: "Training jobs encrypt their output (model artifacts) with a KMS key.",
    controls: [checkov("CKV_AWS_367", "analogous: data quality job definitions' output KMS key")],
    check: (r) => {
      const key = r.OutputDataConfig?.KmsKeyId;
      return typeof key === "string" && key !== "" ? [] : ["OutputDataConfig.KmsKeyId is not set; set it to the platform key"];
    },
  },
  {
    name: "training-network-isolation",
    description: "Training containers run without network access (the platform's training image needs none).",
    controls: [securityHub("SageMaker.11", "analogous: SageMaker.11/.12/.14/.20/.25 check this setting on model monitoring job definitions and schedules")],
    check: (r) => (r.EnableNetworkIsolation === true ? [] : [`EnableNetworkIsolation is ${show(r.EnableNetworkIsolation)}; set it to true`]),
  },
];

export interface TrainingJobViolation {
  readonly rule: string;
  readonly message: string;
}

/** Every rule's problems with a CreateTrainingJob request; empty when it passes them all. */
export function validateTrainingJobRequest(request: TrainingJobRequest): TrainingJobViolation[] {
  return TRAINING_JOB_RULES.flatMap((rule) => rule.check(request).map((message) => ({ rule: rule.name, message })));
}
