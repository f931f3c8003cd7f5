import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PipelineSettings, PromotionSettings, TrainingSettings } from "@ml-platform/contract";
import { serviceTrustPolicy } from "../policies/documents";
import { DUTY_TAG, type Duty } from "../policies/duties";
import {
  evaluationRolePolicy,
  newDataPattern,
  pendingApprovalPattern,
  pipelineRolePolicy,
  snapshotRolePolicy,
  startPipelinePolicy,
} from "../policies/pipeline-policies";
import { trainingGuardrails } from "../policies/training";
import { canonicalJson, pipelineDefinition } from "../pipeline/definition";
import type { ArtifactStore } from "./artifact-store";

export interface TrainingPipelineArgs {
  readonly accountId: pulumi.Input<string>;
  readonly partition: pulumi.Input<string>;
  readonly region: string;
  /**
   * The pipeline's name: fixed per stack (the roles' trust and permissions name its ARN before it
   * exists, and the monitoring's failure rule matches it by prefix). At most 256 of [a-zA-Z0-9-].
   */
  readonly pipelineName: string;
  readonly settings: PipelineSettings;
  readonly training: TrainingSettings;
  readonly promotion: Pick<PromotionSettings, "minMetrics" | "maxMetrics">;
  readonly store: ArtifactStore;
  /** The stack's training execution role: the training step runs as it. */
  readonly trainingRoleArn: pulumi.Input<string>;
  /** This stage's repositories, which the snapshot and evaluate steps may pull from. */
  readonly repositoryArns: pulumi.Input<pulumi.Input<string>[]>;
  readonly modelPackageGroupName: pulumi.Input<string>;
  /** Where a new version pending approval is announced (its policy must let EventBridge publish). */
  readonly notifyTopicArn: pulumi.Input<string>;
}

/**
 * The stack's training pipeline (a SageMaker Pipeline generated from the config: snapshot the
 * dataset unless a manifest is given, train, evaluate, gate on the promotion thresholds, register
 * PendingManualApproval), what starts it (an EventBridge Scheduler schedule; a rule on new data:
 * both start it without parameters, so on a fresh snapshot) and the rule that announces a version
 * pending approval.
 */
export class TrainingPipeline extends pulumi.ComponentResource {
  readonly pipeline: aws.sagemaker.Pipeline;
  readonly pipelineArn: pulumi.Output<string>;
  readonly pipelineName: pulumi.Output<string>;
  /** The rule announcing versions pending approval: it publishes to the notify topic. */
  readonly pendingApprovalRule: aws.cloudwatch.EventRule;
  readonly schedule?: aws.scheduler.Schedule;

  constructor(name: string, args: TrainingPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:training:TrainingPipeline", name, {}, opts);
    const child = { parent: this };
    const s = args.settings;
    const store = args.store;
    const account = pulumi.all([args.partition, args.accountId]);
    const pipelineArn = account.apply(
      ([partition, accountId]) => `arn:${partition}:sagemaker:${args.region}:${accountId}:pipeline/${args.pipelineName.toLowerCase()}`,
    );

    const serviceRole = (id: string, duty: Duty, description: string, service: string, sourceArn: pulumi.Input<string>) =>
      new aws.iam.Role(
        `${name}-${id}-role`,
        {
          description,
          assumeRolePolicy: pulumi.all([args.accountId, sourceArn]).apply(([accountId, arn]) => JSON.stringify(serviceTrustPolicy(service, accountId, arn))),
          maxSessionDuration: 3600,
          tags: { [DUTY_TAG]: duty },
        },
        child,
      );

    const processingJobs = account.apply(([partition, accountId]) => `arn:${partition}:sagemaker:${args.region}:${accountId}:processing-job/*`);
    const stepPermissions = (id: string, role: aws.iam.Role, document: (a: Parameters<typeof snapshotRolePolicy>[0]) => object) =>
      new aws.iam.RolePolicy(
        `${name}-${id}-permissions`,
        {
          role: role.id,
          policy: pulumi
            .all([args.partition, args.accountId, store.datasets.arn, store.artifacts.arn, store.key.arn, args.repositoryArns])
            .apply(([partition, accountId, datasetBucketArn, artifactBucketArn, kmsKeyArn, repositoryArns]) =>
              JSON.stringify(
                document({
                  partition,
                  region: args.region,
                  accountId,
                  datasetBucketArn,
                  datasetPrefix: args.training.datasetPrefix,
                  artifactBucketArn,
                  kmsKeyArn,
                  repositoryArns,
                }),
              ),
            ),
        },
        child,
      );
    const evaluationRole = serviceRole(
      "evaluation",
      "evaluation",
      "SageMaker execution role of the ml-platform for the training pipeline's evaluate step",
      "sagemaker.amazonaws.com",
      processingJobs,
    );
    const evaluationPermissions = stepPermissions("evaluation", evaluationRole, evaluationRolePolicy);
    const snapshotRole = serviceRole(
      "snapshot",
      "snapshot",
      "SageMaker execution role of the ml-platform for the training pipeline's dataset snapshot step",
      "sagemaker.amazonaws.com",
      processingJobs,
    );
    const snapshotPermissions = stepPermissions("snapshot", snapshotRole, snapshotRolePolicy);

    const pipelineRole = serviceRole(
      "pipeline",
      "pipeline",
      "SageMaker Pipelines execution role of the ml-platform's training pipeline",
      "sagemaker.amazonaws.com",
      pipelineArn,
    );
    const guardrails = trainingGuardrails(args.training);
    const pipelinePermissions = new aws.iam.RolePolicy(
      `${name}-pipeline-permissions`,
      {
        role: pipelineRole.id,
        policy: pulumi
          .all([
            args.partition,
            args.accountId,
            pulumi.all([args.trainingRoleArn, evaluationRole.arn, snapshotRole.arn]),
            args.modelPackageGroupName,
            store.datasets.arn,
            store.artifacts.arn,
            store.key.arn,
          ])
          .apply(
            ([
              partition,
              accountId,
              [trainingRoleArn, evaluationRoleArn, snapshotRoleArn],
              modelPackageGroupName,
              datasetBucketArn,
              artifactBucketArn,
              kmsKeyArn,
            ]) =>
              JSON.stringify(
                pipelineRolePolicy({
                  partition,
                  accountId,
                  trainingRoleArn,
                  evaluationRoleArn,
                  snapshotRoleArn,
                  modelPackageGroupName,
                  datasetBucketArn,
                  artifactBucketArn,
                  kmsKeyArn,
                  region: args.region,
                  pipelineName: args.pipelineName,
                  trainingInstanceTypes: guardrails.instanceTypes,
                  evaluationInstanceType: s.evaluationInstanceType,
                }),
              ),
          ),
      },
      child,
    );

    const definition = pulumi
      .all([store.datasets.name, store.artifacts.name, store.key.arn, args.trainingRoleArn, evaluationRole.arn, snapshotRole.arn, args.modelPackageGroupName])
      .apply(([datasetBucketName, artifactBucketName, kmsKeyArn, trainingRoleArn, evaluationRoleArn, snapshotRoleArn, modelPackageGroupName]) =>
        canonicalJson(
          pipelineDefinition({
            training: args.training,
            promotion: args.promotion,
            pipeline: s,
            datasetBucketName,
            artifactBucketName,
            kmsKeyArn,
            trainingRoleArn,
            evaluationRoleArn,
            snapshotRoleArn,
            modelPackageGroupName,
          }),
        ),
      );

    // A changed definition is an UpdatePipeline in place (only pipeline_name forces a replacement).
    // The roles' permissions must exist before the first execution validates them.
    this.pipeline = new aws.sagemaker.Pipeline(
      `${name}-pipeline`,
      {
        pipelineName: args.pipelineName,
        pipelineDisplayName: args.pipelineName,
        pipelineDescription: "Snapshot the dataset, train, evaluate, gate on the stack's promotion thresholds, register PendingManualApproval (ml-platform)",
        roleArn: pipelineRole.arn,
        pipelineDefinition: definition,
      },
      { ...child, dependsOn: [pipelinePermissions, evaluationPermissions, snapshotPermissions] },
    );
    this.pipelineArn = this.pipeline.arn;
    this.pipelineName = this.pipeline.pipelineName;

    const starter = (id: string, service: string, sourceArn: pulumi.Input<string>) => {
      const role = serviceRole(id, "pipeline-starter", `Starts the ml-platform training pipeline ${args.pipelineName} (${id})`, service, sourceArn);
      const permissions = new aws.iam.RolePolicy(
        `${name}-${id}-permissions`,
        { role: role.id, policy: this.pipeline.arn.apply((arn) => JSON.stringify(startPipelinePolicy(arn))) },
        child,
      );
      return { role, permissions };
    };

    if (s.schedule) {
      const scheduleName = `${args.pipelineName}-schedule`;
      const { role, permissions } = starter(
        "scheduler",
        "scheduler.amazonaws.com",
        account.apply(([partition, accountId]) => `arn:${partition}:scheduler:${args.region}:${accountId}:schedule/default/${scheduleName}`),
      );
      this.schedule = new aws.scheduler.Schedule(
        `${name}-schedule`,
        {
          // Named, not auto-named: the starter role's trust names the schedule's ARN.
          name: scheduleName,
          description: `Retrains ${args.pipelineName} (${s.schedule} ${s.scheduleTimezone})`,
          scheduleExpression: s.schedule,
          scheduleExpressionTimezone: s.scheduleTimezone,
          flexibleTimeWindow: { mode: "OFF" },
          target: { arn: this.pipeline.arn, roleArn: role.arn, retryPolicy: { maximumRetryAttempts: 3 } },
        },
        { ...child, dependsOn: [permissions] },
      );
    }

    if (s.onNewData) {
      // S3 sends its events to EventBridge only when the bucket says so; one notification resource
      // per bucket (it owns the bucket's whole notification configuration).
      const notification = new aws.s3.BucketNotification(`${name}-dataset-events`, { bucket: store.datasets.name, eventbridge: true }, child);
      const rule = new aws.cloudwatch.EventRule(
        `${name}-new-data`,
        {
          description: `New data under ${args.training.datasetPrefix}/ starts ${args.pipelineName}`,
          eventPattern: store.datasets.name.apply((bucket) => JSON.stringify(newDataPattern(bucket, args.training.datasetPrefix))),
        },
        { ...child, dependsOn: [notification] },
      );
      const { role, permissions } = starter("new-data", "events.amazonaws.com", rule.arn);
      new aws.cloudwatch.EventTarget(
        `${name}-new-data-start`,
        { rule: rule.name, arn: this.pipeline.arn, roleArn: role.arn },
        { ...child, dependsOn: [permissions] },
      );
    }

    this.pendingApprovalRule = new aws.cloudwatch.EventRule(
      `${name}-pending-approval`,
      {
        description: `A new version of ${args.pipelineName} awaits approval`,
        eventPattern: pulumi.output(args.modelPackageGroupName).apply((group) => JSON.stringify(pendingApprovalPattern(group))),
      },
      child,
    );
    new aws.cloudwatch.EventTarget(`${name}-pending-approval-notify`, { rule: this.pendingApprovalRule.name, arn: args.notifyTopicArn }, child);

    this.registerOutputs({ pipelineArn: this.pipelineArn, pipelineName: this.pipelineName, scheduleArn: this.schedule?.arn });
  }
}
