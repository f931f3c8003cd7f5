// The SageMaker Pipeline definition format (Version 2020-12-01) for the step types the platform
// generates, as a zod schema. Source: the published "SageMaker Model Building Pipeline Definition
// JSON Schema" (github.com/aws-sagemaker-mlops/sagemaker-model-building-pipeline-definition-JSON-schema,
// schema/pipeline-definition.schema.json, commit b4012b0): its definitions StepName, ParameterName,
// StringParameter, GetFunction, CacheConfig, RetryPolicy, TrainingStep, ProcessingStep (ProcessingArgs),
// ConditionStep, BinaryCondition, RegisterModelStep and FailStep, strict (additionalProperties false)
// where it is. That schema predates four constructs SageMaker accepts and the SageMaker Python SDK
// emits; they are added here, each from the SDK (sagemaker/workflow): `PropertyFiles` on a step
// (properties.py PropertyFile.expr), `Std:JsonGet` (functions.py JsonGet.expr), `Std:Join` with `On`
// (functions.py Join.expr), `ModelApprovalStatus` of RegisterModel (step_collections.py), and
// RetryPolicy.ExceptionType as a list (retry.py). A `Std:JsonGet` may stand for a string argument
// (the SDK's JsonGet is a PipelineVariable; its doc, amazon_sagemaker_model_building_pipeline.rst
// "JsonGet", passes one from a property file to a later step's arguments). The published file is
// not committed (it is not ours).
import { z } from "zod";

const name = z.string().regex(/^[A-Za-z0-9\-_]{1,64}$/);
const get = z.strictObject({ Get: z.string().regex(/^(Parameters|Steps|Execution)\./) });
const join = z.strictObject({ "Std:Join": z.strictObject({ On: z.string(), Values: z.array(z.union([z.string(), get])) }) });
const jsonGet = z.strictObject({ "Std:JsonGet": z.strictObject({ PropertyFile: get, Path: z.string().min(1) }) });
const str = z.union([z.string(), get, join, jsonGet]);
const int = z.union([z.number().int(), get]);
const bool = z.union([z.boolean(), get]);
const num = z.union([z.number(), get, jsonGet]);

const cacheConfig = z.strictObject({ Enabled: z.boolean(), ExpireAfter: z.string().regex(/^P/).optional() });
const retryPolicy = z.strictObject({
  ExceptionType: z
    .array(z.enum(["Step.SERVICE_FAULT", "Step.THROTTLING", "SageMaker.JOB_INTERNAL_ERROR", "SageMaker.CAPACITY_ERROR", "SageMaker.RESOURCE_LIMIT"]))
    .min(1),
  IntervalSeconds: z.number().int().optional(),
  BackoffRate: z.number().optional(),
  ExpireAfterMin: z.number().int().optional(),
  MaxAttempts: z.number().int().optional(),
});
const stepCommon = {
  Name: name,
  DependsOn: z.array(name).optional(),
  DisplayName: name.optional(),
  Description: z.string().max(4096).optional(),
};
const propertyFile = z.strictObject({ PropertyFileName: name, OutputName: z.string(), FilePath: z.string() });

const trainingStep = z.strictObject({
  ...stepCommon,
  Type: z.literal("Training"),
  CacheConfig: cacheConfig.optional(),
  RetryPolicies: z.array(retryPolicy).optional(),
  PropertyFiles: z.array(propertyFile).optional(),
  Arguments: z.strictObject({
    AlgorithmSpecification: z.strictObject({
      TrainingImage: str,
      TrainingInputMode: str,
      MetricDefinitions: z
        .array(z.strictObject({ Name: str, Regex: str }))
        .max(40)
        .optional(),
    }),
    HyperParameters: z.record(z.string(), str).optional(),
    InputDataConfig: z.array(
      z.strictObject({
        ChannelName: str,
        ContentType: str.optional(),
        DataSource: z.strictObject({ S3DataSource: z.strictObject({ S3DataType: str, S3Uri: str, S3DataDistributionType: str.optional() }) }),
      }),
    ),
    OutputDataConfig: z.strictObject({ S3OutputPath: str, KmsKeyId: str.optional() }),
    ResourceConfig: z.strictObject({ InstanceCount: int, InstanceType: str, VolumeSizeInGB: int, VolumeKmsKeyId: str.optional() }),
    RoleArn: str,
    StoppingCondition: z.strictObject({ MaxRuntimeInSeconds: int, MaxWaitTimeInSeconds: int.optional() }),
    EnableManagedSpotTraining: bool.optional(),
    CheckpointConfig: z.strictObject({ S3Uri: str, LocalPath: str.optional() }).optional(),
    EnableNetworkIsolation: bool.optional(),
    EnableInterContainerTrafficEncryption: bool.optional(),
  }),
});

const processingStep = z.strictObject({
  ...stepCommon,
  Type: z.literal("Processing"),
  CacheConfig: cacheConfig.optional(),
  RetryPolicies: z.array(retryPolicy).optional(),
  PropertyFiles: z.array(propertyFile).optional(),
  Arguments: z.strictObject({
    AppSpecification: z.strictObject({ ImageUri: str, ContainerArguments: z.array(str).optional(), ContainerEntrypoint: z.array(str).optional() }),
    ProcessingInputs: z
      .array(
        z.strictObject({
          InputName: str,
          S3Input: z.strictObject({
            S3Uri: str,
            LocalPath: str,
            S3DataType: str,
            S3InputMode: str,
            S3DataDistributionType: str.optional(),
            S3CompressionType: str.optional(),
          }),
        }),
      )
      .optional(),
    ProcessingOutputConfig: z
      .strictObject({
        KmsKeyId: str.optional(),
        Outputs: z.array(z.strictObject({ OutputName: str, S3Output: z.strictObject({ S3Uri: str, LocalPath: str, S3UploadMode: str }) })),
      })
      .optional(),
    ProcessingResources: z.strictObject({
      ClusterConfig: z.strictObject({ InstanceCount: int, InstanceType: str, VolumeSizeInGB: int, VolumeKmsKeyId: str.optional() }),
    }),
    NetworkConfig: z.strictObject({ EnableNetworkIsolation: bool.optional(), EnableInterContainerTrafficEncryption: bool.optional() }).optional(),
    RoleArn: str,
    StoppingCondition: z.strictObject({ MaxRuntimeInSeconds: int }).optional(),
  }),
});

const registerStep = z.strictObject({
  ...stepCommon,
  Type: z.literal("RegisterModel"),
  RetryPolicies: z.array(retryPolicy).optional(),
  Arguments: z.strictObject({
    ModelPackageGroupName: str,
    ModelApprovalStatus: z.enum(["Approved", "Rejected", "PendingManualApproval"]).optional(),
    ModelPackageDescription: str.optional(),
    InferenceSpecification: z.strictObject({
      Containers: z.array(z.strictObject({ Image: str, ModelDataUrl: str.optional() })).min(1),
      SupportedContentTypes: z.array(str),
      SupportedResponseMIMETypes: z.array(str),
    }),
    ModelMetrics: z.strictObject({ ModelQuality: z.strictObject({ Statistics: z.strictObject({ ContentType: str, S3Uri: str }) }) }).optional(),
  }),
});

const failStep = z.strictObject({ ...stepCommon, Type: z.literal("Fail"), Arguments: z.strictObject({ ErrorMessage: str }) });

const binaryCondition = z.strictObject({
  Type: z.enum(["GreaterThan", "LessThan", "LessThanOrEqualTo", "GreaterThanOrEqualTo", "Equals", "NotEquals"]),
  LeftValue: num,
  RightValue: num,
});

const conditionStep = z.strictObject({
  ...stepCommon,
  Type: z.literal("Condition"),
  Arguments: z.strictObject({
    Conditions: z.array(binaryCondition).min(1),
    IfSteps: z.array(z.union([trainingStep, processingStep, registerStep, failStep])).optional(),
    ElseSteps: z.array(z.union([trainingStep, processingStep, registerStep, failStep])).optional(),
  }),
});

const parameter = z.strictObject({
  Name: name,
  Type: z.enum(["String", "Integer", "Float", "Boolean"]),
  DefaultValue: z.union([z.string().max(4096), z.number(), z.boolean()]).optional(),
});

export const pipelineDefinitionSchema = z.strictObject({
  Version: z.literal("2020-12-01"),
  Metadata: z.record(z.string().regex(/^[A-Za-z0-9\-_]{1,128}$/), z.string().max(1024)).optional(),
  Parameters: z.array(parameter).optional(),
  Steps: z.array(z.discriminatedUnion("Type", [trainingStep, processingStep, registerStep, failStep, conditionStep])).min(1),
});
