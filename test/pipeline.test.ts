import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackSettings, type PipelineSettings, type PlatformSettings } from "@ml-platform/contract";
import { canonicalJson, pipelineDefinition, snapshotPrefixProblems, STEPS, type PipelineDefinitionArgs } from "../infra/pipeline/definition";
import { parsePlatformConfig } from "../infra/config";
import { pipelineRolePolicy } from "../infra/policies/pipeline-policies";
import { stackConfig } from "../contract/test/stacks";
import { pipelineDefinitionSchema } from "./data/pipeline-definition-schema";
import { json, ofType, one, planStack, type Plan } from "./helpers/platform";
import { policies } from "../infra/policy-pack/policies";
import { engineView, evaluatePack, type PolicyConfig } from "./helpers/policy-harness";

const KEY = "arn:aws:kms:eu-west-1:111122223333:key/0f0f0f0f-1111-2222-3333-444455556666";
const TRAINING_ROLE = "arn:aws:iam::111122223333:role/training";
const SNAPSHOT_ROLE = "arn:aws:iam::111122223333:role/snapshot";
/** The committed stack files leave the pipeline's image unset (no placeholder account there): tests set it. */
const IMAGE = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/images-ml-core-8d2e6b1@sha256:" + "4b1c2f7a9e0d3c5b".repeat(4);

/** The stack's own mlPlatform:pipeline block with an image set. */
function withImage(stack: string): Record<string, unknown> {
  return { "mlPlatform:pipeline": { ...(stackConfig(stack)["mlPlatform:pipeline"] as object), image: IMAGE } };
}

function settings(stack: string, overrides: Record<string, unknown> = {}): PlatformSettings {
  const result = parseStackSettings(stack, { ...stackConfig(stack), ...withImage(stack), ...overrides });
  if (!result.ok) throw new Error(result.problems.map((p) => p.text).join("\n"));
  return result.settings;
}

function args(s: PlatformSettings): PipelineDefinitionArgs {
  return {
    training: s.training,
    promotion: s.promotion,
    pipeline: s.pipeline as PipelineSettings,
    datasetBucketName: "datasets-b",
    artifactBucketName: "artifacts-b",
    kmsKeyArn: KEY,
    trainingRoleArn: TRAINING_ROLE,
    evaluationRoleArn: "arn:aws:iam::111122223333:role/evaluation",
    snapshotRoleArn: SNAPSHOT_ROLE,
    modelPackageGroupName: "flight-delays-prod",
  };
}

/** Every `{ Get: ... }` reference in a definition. */
function references(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(references);
  if (node === null || typeof node !== "object") return [];
  const o = node as Record<string, unknown>;
  return [...(typeof o.Get === "string" ? [o.Get] : []), ...Object.values(o).flatMap(references)];
}
const step = (definition: Record<string, unknown>, name: string): any => (definition.Steps as any[]).find((s) => s.Name === name);
/** The Snapshot step's record value at a JsonPath, as the later steps read it. */
const record = (path: string) => ({ "Std:JsonGet": { PropertyFile: { Get: "Steps.Snapshot.PropertyFiles.DatasetSnapshot" }, Path: path } });
function allSteps(steps: any[]): any[] {
  return steps.flatMap((s) => [s, ...allSteps([...(s.Arguments?.IfSteps ?? []), ...(s.Arguments?.ElseSteps ?? [])])]);
}

describe("the pipeline definition", () => {
  const prod = pipelineDefinition(args(settings("prod")));

  it.each(["dev", "staging", "prod"])("of %s is a valid SageMaker pipeline definition (schema-checked)", (stack) => {
    const parsed = pipelineDefinitionSchema.safeParse(JSON.parse(canonicalJson(pipelineDefinition(args(settings(stack))))));
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
  });

  it("the schema check fails on what SageMaker would refuse", () => {
    const broken = structuredClone(prod) as any;
    step(broken, STEPS.train).Arguments.ResourceConfig.InstanceTypo = "ml.m5.large";
    expect(pipelineDefinitionSchema.safeParse(broken).success).toBe(false);
  });

  it("refers only to its own parameters, steps and property files", () => {
    const steps = allSteps(prod.Steps as any[]);
    const known = new Set([
      ...(prod.Parameters as any[]).map((p) => `Parameters.${p.Name}`),
      "Execution.PipelineExecutionId",
      ...steps.filter((s) => s.Type === "Training").map((s) => `Steps.${s.Name}.ModelArtifacts.S3ModelArtifacts`),
      ...steps.flatMap((s) => (s.PropertyFiles ?? []).map((f: any) => `Steps.${s.Name}.PropertyFiles.${f.PropertyFileName}`)),
    ]);
    for (const ref of references(prod)) expect(known, ref).toContain(ref);
  });

  it("trains with the stack's settings: image, role, key, isolation, channels, hyperparameters, parameters", () => {
    const train = (prod.Steps as any[]).find((s) => s.Name === STEPS.train);
    const s = settings("prod");
    expect(train.Arguments).toMatchObject({
      AlgorithmSpecification: { TrainingImage: s.pipeline!.image },
      RoleArn: TRAINING_ROLE,
      EnableNetworkIsolation: true,
      OutputDataConfig: { S3OutputPath: "s3://artifacts-b/training-output/", KmsKeyId: KEY },
      ResourceConfig: { InstanceType: { Get: "Parameters.TrainingInstanceType" }, VolumeKmsKeyId: KEY, VolumeSizeInGB: 100 },
      StoppingCondition: { MaxRuntimeInSeconds: 14400 },
      EnableManagedSpotTraining: false,
    });
    // The run's manifest (the Snapshot step's record): ManifestFiles of content-addressed keys, and the manifest.
    expect(train.Arguments.InputDataConfig.map((c: any) => [c.ChannelName, c.DataSource.S3DataSource.S3DataType, c.DataSource.S3DataSource.S3Uri])).toEqual([
      ["train", "ManifestFile", record("channels.train")],
      ["validation", "ManifestFile", record("channels.validation")],
      ["manifest", "S3Prefix", record("manifest")],
    ]);
    // Empty by default: a start without one (the schedule, the new-data rule) trains on a fresh snapshot.
    expect(prod.Parameters).toContainEqual({ Name: "DatasetManifest", Type: "String", DefaultValue: "" });
    expect(train.Arguments.HyperParameters.num_round).toEqual({ Get: "Parameters.Hp_num_round" });
    expect(prod.Parameters).toContainEqual({ Name: "Hp_num_round", Type: "String", DefaultValue: "400" });
    expect(prod.Parameters).toContainEqual({ Name: "TrainingInstanceType", Type: "String", DefaultValue: "ml.m5.2xlarge" });
  });

  it("retries every job step and caches each but the snapshot (whose inputs change under the same arguments)", () => {
    for (const step of (prod.Steps as any[]).filter((s) => s.Type === "Training" || s.Type === "Processing")) {
      expect(step.CacheConfig, step.Name).toEqual(step.Name === STEPS.snapshot ? undefined : { Enabled: true, ExpireAfter: "P7D" });
      expect(step.RetryPolicies[0]).toMatchObject({ MaxAttempts: 3, ExceptionType: expect.arrayContaining(["SageMaker.CAPACITY_ERROR"]) });
    }
  });

  it("can be started with no parameters: every parameter has a default", () => {
    for (const stack of ["dev", "staging", "prod"])
      for (const p of pipelineDefinition(args(settings(stack))).Parameters as any[]) expect(p.DefaultValue, `${stack} ${p.Name}`).toBeDefined();
  });

  it("snapshots the dataset prefix first, in the stack's image, isolated, encrypted, as its own role", () => {
    expect((prod.Steps as any[]).map((s) => s.Name).slice(0, 3)).toEqual([STEPS.snapshot, STEPS.train, STEPS.evaluate]);
    const snapshot = step(prod, STEPS.snapshot);
    const s = settings("prod");
    expect(snapshot.Arguments).toMatchObject({
      AppSpecification: { ImageUri: s.pipeline!.image },
      RoleArn: SNAPSHOT_ROLE,
      NetworkConfig: { EnableNetworkIsolation: true, EnableInterContainerTrafficEncryption: true },
      ProcessingOutputConfig: { KmsKeyId: KEY },
      ProcessingResources: { ClusterConfig: { InstanceType: "ml.m5.xlarge", VolumeKmsKeyId: KEY, VolumeSizeInGB: 100 } },
      StoppingCondition: { MaxRuntimeInSeconds: 14400 },
    });
    expect(snapshot.Arguments.AppSpecification.ContainerArguments).toEqual([
      "snapshot",
      "--input",
      "/opt/ml/processing/input",
      "--output",
      "/opt/ml/processing/output",
      "--source",
      "s3://datasets-b/datasets/flight-delays/v1/",
      "--objects",
      "s3://datasets-b/datasets/sha256/",
      "--manifests",
      "s3://datasets-b/datasets/manifests/",
      { "Std:Join": { On: "", Values: ["--manifest=", { Get: "Parameters.DatasetManifest" }] } },
    ]);
    expect(snapshot.Arguments.ProcessingInputs.map((i: any) => [i.S3Input.S3Uri, i.S3Input.LocalPath])).toEqual([
      ["s3://datasets-b/datasets/flight-delays/v1/train/", "/opt/ml/processing/input/train"],
      ["s3://datasets-b/datasets/flight-delays/v1/validation/", "/opt/ml/processing/input/validation"],
    ]);
    expect(snapshot.Arguments.ProcessingOutputConfig.Outputs.map((o: any) => [o.OutputName, o.S3Output.S3Uri, o.S3Output.LocalPath])).toEqual([
      ["objects", "s3://datasets-b/datasets/sha256/", "/opt/ml/processing/output/objects"],
      ["manifests", "s3://datasets-b/datasets/manifests/", "/opt/ml/processing/output/manifests"],
      [
        "record",
        { "Std:Join": { On: "", Values: ["s3://datasets-b/datasets/pipeline-snapshots/", { Get: "Execution.PipelineExecutionId" }] } },
        "/opt/ml/processing/output/record",
      ],
    ]);
    expect(snapshot.PropertyFiles).toEqual([{ PropertyFileName: "DatasetSnapshot", OutputName: "record", FilePath: "snapshot.json" }]);
  });

  it("evaluates on the validation channel of the run's manifest, not on the prefix as it is later", () => {
    const input = step(prod, STEPS.evaluate).Arguments.ProcessingInputs.find((i: any) => i.InputName === "validation").S3Input;
    expect(input).toMatchObject({ S3DataType: "ManifestFile", S3Uri: record("channels.validation"), LocalPath: "/opt/ml/processing/validation" });
  });

  it.each([
    ["datasets", "must be under datasets/"],
    ["datasets/sha256", "overlaps datasets/sha256/"],
    ["datasets/manifests/x", "overlaps datasets/manifests/"],
    ["datasets/pipeline-snapshots", "overlaps datasets/pipeline-snapshots/"],
    ["raw/flight-delays", "must be under datasets/"],
  ])("refuses a dataset prefix the snapshot cannot take (%s) at config time", (prefix, message) => {
    expect(snapshotPrefixProblems(prefix).join()).toContain(message);
    const config = {
      ...stackConfig("prod"),
      ...withImage("prod"),
      "mlPlatform:training": { ...(stackConfig("prod")["mlPlatform:training"] as object), datasetPrefix: prefix },
    };
    expect(() => parsePlatformConfig("prod", config, "eu-west-1")).toThrow(`mlPlatform:training.datasetPrefix (${prefix})`);
    expect(snapshotPrefixProblems("datasets/flight-delays/v1")).toEqual([]);
  });

  it("isolates and encrypts the evaluate step", () => {
    const evaluate = (prod.Steps as any[]).find((s) => s.Name === STEPS.evaluate);
    expect(evaluate.Arguments.NetworkConfig.EnableNetworkIsolation).toBe(true);
    expect(evaluate.Arguments.ProcessingOutputConfig.KmsKeyId).toBe(KEY);
    expect(evaluate.Arguments.ProcessingResources.ClusterConfig).toMatchObject({ InstanceType: "ml.m5.xlarge", VolumeKmsKeyId: KEY });
    expect(evaluate.Arguments.AppSpecification.ContainerArguments).toEqual([
      "evaluate",
      "--model-dir",
      "/opt/ml/processing/model",
      "--data",
      "/opt/ml/processing/validation",
      "--output",
      "/opt/ml/processing/report",
    ]);
  });

  it("gates on the stack's own promotion thresholds and registers PendingManualApproval, else fails", () => {
    const gate = (prod.Steps as any[]).find((s) => s.Type === "Condition");
    expect(gate.Arguments.Conditions).toEqual([
      {
        Type: "GreaterThanOrEqualTo",
        LeftValue: { "Std:JsonGet": { PropertyFile: { Get: "Steps.Evaluate.PropertyFiles.EvaluationReport" }, Path: "validation.auc" } },
        RightValue: 0.63,
      },
      {
        Type: "LessThanOrEqualTo",
        LeftValue: { "Std:JsonGet": { PropertyFile: { Get: "Steps.Evaluate.PropertyFiles.EvaluationReport" }, Path: "validation.logloss" } },
        RightValue: 0.5,
      },
    ]);
    const [register] = gate.Arguments.IfSteps;
    expect(register.Arguments).toMatchObject({ ModelPackageGroupName: "flight-delays-prod", ModelApprovalStatus: "PendingManualApproval" });
    expect(register.Arguments.InferenceSpecification.Containers[0].ModelDataUrl).toEqual({ Get: "Steps.Train.ModelArtifacts.S3ModelArtifacts" });
    expect(gate.Arguments.ElseSteps[0]).toMatchObject({ Type: "Fail" });
    expect(gate.Arguments.ElseSteps[0].Arguments.ErrorMessage).toContain("validation:auc >= 0.63");
  });

  it("without thresholds, registers right after evaluation", () => {
    const none = pipelineDefinition(args(settings("prod", { "mlPlatform:promotion": {} })));
    expect((none.Steps as any[]).map((s) => s.Type)).toEqual(["Processing", "Training", "Processing", "RegisterModel"]);
    expect((none.Steps as any[])[3].DependsOn).toEqual([STEPS.evaluate]);
  });

  it("is byte-identical for an unchanged config, whatever the order of its keys, and changes with it", () => {
    const s = settings("prod");
    const reordered = { ...s, training: { ...s.training, hyperparameters: Object.fromEntries(Object.entries(s.training.hyperparameters).reverse()) } };
    const a = canonicalJson(pipelineDefinition(args(s)));
    expect(canonicalJson(pipelineDefinition(args(reordered)))).toBe(a);
    expect(canonicalJson(pipelineDefinition(args(settings("prod", { "mlPlatform:promotion": { minMetrics: { "validation:auc": 0.64 } } }))))).not.toBe(a);
  });
});

describe("the pipeline role's policy", () => {
  const doc = pipelineRolePolicy({
    partition: "aws",
    region: "eu-west-1",
    accountId: "111122223333",
    pipelineName: "flight-delays-prod-training",
    trainingRoleArn: TRAINING_ROLE,
    evaluationRoleArn: "arn:aws:iam::111122223333:role/evaluation",
    snapshotRoleArn: SNAPSHOT_ROLE,
    modelPackageGroupName: "flight-delays-prod",
    datasetBucketArn: "arn:aws:s3:::datasets-b",
    artifactBucketArn: "arn:aws:s3:::artifacts-b",
    kmsKeyArn: KEY,
    trainingInstanceTypes: ["ml.m5.2xlarge"],
    evaluationInstanceType: "ml.m5.xlarge",
  });
  const sid = (id: string) => doc.Statement.find((s) => s.Sid === id)!;

  it("registers in this stack's group as PendingManualApproval only", () => {
    expect(sid("RegisterPendingApprovalOnly")).toMatchObject({
      Action: "sagemaker:CreateModelPackage",
      Resource: [
        "arn:aws:sagemaker:eu-west-1:111122223333:model-package-group/flight-delays-prod",
        "arn:aws:sagemaker:eu-west-1:111122223333:model-package/flight-delays-prod/*",
      ],
      Condition: { StringEquals: { "sagemaker:ModelApprovalStatus": "PendingManualApproval" } },
    });
  });

  it("passes only the step roles, only to SageMaker, and starts only isolated jobs", () => {
    expect(sid("PassOnlyTheStepRoles")).toMatchObject({
      Resource: [TRAINING_ROLE, "arn:aws:iam::111122223333:role/evaluation", SNAPSHOT_ROLE],
      Condition: { StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" } },
    });
    expect(sid("StartIsolatedTrainingJobs").Condition).toMatchObject({
      Bool: { "sagemaker:NetworkIsolation": "true" },
      "ForAllValues:StringEquals": { "sagemaker:InstanceTypes": ["ml.m5.2xlarge"] },
    });
    expect(doc.Statement.every((s) => s.Resource !== "*")).toBe(true);
  });

  it("reads the property files its JsonGets read, and no data", () => {
    expect(sid("ReadPropertyFiles").Resource).toEqual([
      "arn:aws:s3:::datasets-b/datasets/pipeline-snapshots/*",
      "arn:aws:s3:::artifacts-b/pipeline-evaluations/*",
    ]);
    expect(doc.Statement.filter((s) => [s.Action].flat().some((a) => a.startsWith("s3:Put")))).toEqual([]);
  });
});

describe("the training pipeline under mocks", () => {
  const plans: Record<string, Plan> = {};
  beforeAll(async () => {
    for (const stack of ["dev", "staging", "prod"]) plans[stack] = await planStack(stack, withImage(stack));
    for (const stack of ["prod", "staging", "dev-k8s"]) plans[`${stack} as committed`] = await planStack(stack);
  });

  it("prod has a pipeline with a stable name, its own role and a weekly schedule that starts it", () => {
    const pipeline = one(plans.prod!, "aws:sagemaker/pipeline:Pipeline");
    expect(pipeline.inputs.pipelineName).toBe("flight-delays-prod-training");
    const definition = JSON.parse(pipeline.inputs.pipelineDefinition);
    expect(pipelineDefinitionSchema.safeParse(definition).success).toBe(true);
    const schedule = one(plans.prod!, "aws:scheduler/schedule:Schedule");
    expect(schedule.inputs).toMatchObject({
      scheduleExpression: "cron(0 3 ? * MON *)",
      scheduleExpressionTimezone: "Europe/Berlin",
      flexibleTimeWindow: { mode: "OFF" },
    });
    expect(schedule.inputs.target.arn).toBe(pipeline.state.arn);
    expect(ofType(plans.prod!, "aws:s3/bucketNotification:BucketNotification")).toEqual([]);
  });

  it("the pipeline's steps carry the stack's key and training role", () => {
    const pipeline = one(plans.prod!, "aws:sagemaker/pipeline:Pipeline");
    const key = ofType(plans.prod!, "aws:kms/key:Key")[0]!.state.arn as string;
    const trainingRole = plans.prod!.resources.find((r) => r.name === "training-execution-role")!.state.arn as string;
    const train = step(JSON.parse(pipeline.inputs.pipelineDefinition), STEPS.train);
    expect(train.Arguments.RoleArn).toBe(trainingRole);
    expect(train.Arguments.OutputDataConfig.KmsKeyId).toBe(key);
  });

  it("trusts SageMaker for this pipeline only", () => {
    const role = plans.prod!.resources.find((r) => r.name === "training-pipeline-role")!;
    const pipeline = one(plans.prod!, "aws:sagemaker/pipeline:Pipeline");
    expect(pipeline.inputs.roleArn).toBe(role.state.arn);
    const trust = json(role.inputs.assumeRolePolicy);
    expect(trust.Statement[0]).toMatchObject({
      Principal: { Service: "sagemaker.amazonaws.com" },
      Condition: { ArnLike: { "aws:SourceArn": expect.stringMatching(/:pipeline\/flight-delays-prod-training$/) } },
    });
  });

  it("dev starts on new data under the dataset prefix, on no schedule", () => {
    expect(ofType(plans.dev!, "aws:scheduler/schedule:Schedule")).toEqual([]);
    expect(one(plans.dev!, "aws:s3/bucketNotification:BucketNotification").inputs.eventbridge).toBe(true);
    const rule = plans.dev!.resources.find((r) => r.name === "training-new-data")!;
    expect(json(rule.inputs.eventPattern)).toMatchObject({
      "detail-type": ["Object Created"],
      detail: { object: { key: [{ prefix: "datasets/flight-delays/v1/" }] } },
    });
  });

  it("announces a version pending approval on the alarm topic, which lets the rule publish", () => {
    const rule = plans.prod!.resources.find((r) => r.name === "training-pending-approval")!;
    expect(json(rule.inputs.eventPattern).detail).toEqual({ ModelPackageGroupName: ["flight-delays-prod"], ModelApprovalStatus: ["PendingManualApproval"] });
    const target = plans.prod!.resources.find((r) => r.name === "training-pending-approval-notify")!;
    const topic = ofType(plans.prod!, "aws:sns/topic:Topic")[0]!;
    expect(target.inputs.arn).toBe(topic.state.arn);
    const topicPolicy = json(one(plans.prod!, "aws:sns/topicPolicy:TopicPolicy").inputs.policy);
    const events = topicPolicy.Statement.find((s: any) => s.Principal?.Service === "events.amazonaws.com");
    expect(events.Condition.ArnEquals["aws:SourceArn"]).toContain(rule.state.arn);
  });

  it("scopes the pipeline's roles: no wildcard action, '*' only where IAM cannot scope, wildcards only as a trailing key prefix", () => {
    const policies = ofType(plans.prod!, "aws:iam/rolePolicy:RolePolicy").filter(
      (p) => p.name.startsWith("training-") && p.name !== "training-execution-permissions",
    );
    expect(policies.map((p) => p.name).sort()).toEqual([
      "training-evaluation-permissions",
      "training-pipeline-permissions",
      "training-scheduler-permissions",
      "training-snapshot-permissions",
    ]);
    for (const p of policies) {
      for (const statement of json(p.inputs.policy).Statement.filter((st: any) => st.Effect === "Allow")) {
        const actions = [statement.Action].flat();
        expect(
          actions.filter((a: string) => a === "*" || a.endsWith(":*")),
          statement.Sid,
        ).toEqual([]);
        for (const resource of [statement.Resource].flat() as string[]) {
          if (resource === "*") expect(actions, statement.Sid).toEqual(["ecr:GetAuthorizationToken"]);
          else expect(resource.slice(0, -1), `${p.name} ${statement.Sid}`).not.toContain("*");
        }
      }
    }
  });

  it("lets the snapshot step read the dataset prefix and write only the copies, manifests and records", () => {
    const statements = json(plans.prod!.resources.find((r) => r.name === "training-snapshot-permissions")!.inputs.policy).Statement;
    const bucket = ofType(plans.prod!, "aws:s3/bucket:Bucket").find((b) => String(b.state.arn).includes("dataset"))?.state.arn ?? "";
    const s3 = statements.filter((st: any) => [st.Action].flat().some((a: string) => a.startsWith("s3:")));
    expect(s3.map((st: any) => [st.Sid, st.Action, st.Resource])).toEqual([
      ["ReadTheDataset", "s3:GetObject", `${bucket}/datasets/flight-delays/v1/*`],
      ["ListTheDataset", "s3:ListBucket", bucket],
      [
        "WriteSnapshots",
        ["s3:PutObject", "s3:AbortMultipartUpload"],
        [`${bucket}/datasets/sha256/*`, `${bucket}/datasets/manifests/*`, `${bucket}/datasets/pipeline-snapshots/*`],
      ],
    ]);
    const role = plans.prod!.resources.find((r) => r.name === "training-snapshot-role")!;
    expect(json(role.inputs.assumeRolePolicy).Statement[0].Condition.ArnLike["aws:SourceArn"]).toMatch(/:processing-job\/\*$/);
  });

  it("lets the evaluate step read the manifests and their copies, not the dataset prefix", () => {
    const statements = json(plans.prod!.resources.find((r) => r.name === "training-evaluation-permissions")!.inputs.policy).Statement;
    const read = statements.find((st: any) => st.Sid === "ReadTrainedModelsAndManifestData");
    expect(read.Resource.slice(1).map((r: string) => r.replace(/^.*:::[^/]+\//, ""))).toEqual(["datasets/manifests/*", "datasets/sha256/*"]);
    expect(JSON.stringify(statements)).not.toContain("flight-delays/v1");
  });

  it.each(["dev", "staging", "prod"])("%s with its pipeline passes every policy of the pack", async (stack) => {
    const config =
      stack === "prod" ? (JSON.parse(fs.readFileSync(path.join(__dirname, "..", "infra", "policy-pack", "config", "prod.json"), "utf8")) as PolicyConfig) : {};
    const { violations } = await evaluatePack(policies, engineView(plans[stack]!), config);
    expect(violations).toEqual([]);
  });

  it("writes the evaluation report where the artifact bucket's policy lets a Processing job's upload (no If-None-Match) through", () => {
    const plan = plans.prod!;
    const definition = JSON.parse(one(plan, "aws:sagemaker/pipeline:Pipeline").inputs.pipelineDefinition);
    const evaluate = definition.Steps.find((st: any) => st.Name === "Evaluate");
    const join = evaluate.Arguments.ProcessingOutputConfig.Outputs[0].S3Output.S3Uri["Std:Join"].Values;
    const reportObject = `${join[0]}exec-1/evaluation.json`.replace(/^s3:\/\//, "arn:aws:s3:::");
    const bucketPolicy = plan.resources.find((r) => r.name === "store-artifacts-tls-only")!;
    const denials = json(bucketPolicy.inputs.policy).Statement.filter((st: any) => st.Effect === "Deny" && [st.Action].flat().includes("s3:PutObject"));
    const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
    const denying = denials.filter((st: any) => [st.Resource].flat().some((r: string) => glob(r).test(reportObject)));
    // The encryption rules cover it (the step's output is KMS-encrypted with the stack key); no rule demanding If-None-Match may.
    expect(denying.length).toBeGreaterThan(0);
    expect(denying.filter((st: any) => JSON.stringify(st.Condition ?? {}).includes("s3:if-none-match")).map((st: any) => st.Sid)).toEqual([]);
  });

  it("prod as committed has its pipeline and the weekly schedule that starts it", () => {
    const plan = plans["prod as committed"]!;
    expect(ofType(plan, "aws:sagemaker/pipeline:Pipeline")).toHaveLength(1);
    expect(ofType(plan, "aws:scheduler/schedule:Schedule").map((s) => s.inputs.scheduleExpression)).toEqual(["cron(0 3 ? * MON *)"]);
  });

  it("a stack without mlPlatform:pipeline, or without its image, gets none", () => {
    for (const stack of ["staging", "dev-k8s"]) {
      const plan = plans[`${stack} as committed`]!;
      for (const type of ["aws:sagemaker/pipeline:Pipeline", "aws:scheduler/schedule:Schedule", "aws:s3/bucketNotification:BucketNotification"])
        expect(ofType(plan, type), `${stack} ${type}`).toEqual([]);
      expect(
        plan.resources.find((r) => r.name === "training-pipeline-role"),
        stack,
      ).toBeUndefined();
    }
  });
});
