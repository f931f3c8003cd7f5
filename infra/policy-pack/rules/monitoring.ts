// Logs, alarms and their notifications: kept for a set time, encrypted, and acted upon.
import type { PolicyResource } from "@pulumi/policy";
import { customerKeyProblem } from "../lib/documents";
import { checkov, controlTags, securityHub, validateResourceOfType, type PlatformPolicy } from "../lib/policy";
import { describe } from "../lib/resources";
import { TYPES, type LogGroupProps, type MetricAlarmProps, type SnsTopicProps } from "../lib/types";

export const logGroupRetentionAndKms: PlatformPolicy = {
  name: "cloudwatch-log-group-retention-kms",
  description: 'CloudWatch log groups expire their events after a set retention (never "forever") and are encrypted with a KMS key.',
  severity: "medium",
  controls: [
    securityHub("CloudWatch.16", "retention must be set; the minimum is configurable (minRetentionDays) where CloudWatch.16 defaults to 365 days"),
    checkov("CKV_AWS_158"),
    checkov("CKV_AWS_338", "with minRetentionDays 365"),
  ],
  configSchema: {
    properties: {
      minRetentionDays: {
        type: "integer",
        minimum: 1,
        default: 1,
        description: "Shortest retention allowed, in days (365 matches CloudWatch.16 and CKV_AWS_338).",
      },
    },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.logGroup && args.type !== "aws-native:logs:LogGroup") return args.notApplicable("not a CloudWatch log group");
    const group = args.props as LogGroupProps;
    const min = args.getConfig<{ minRetentionDays?: number }>().minRetentionDays ?? 1;
    const days = group.retentionInDays;
    if (days === undefined || days === 0)
      reportViolation(`${describe(args)}: retentionInDays is not set (events are kept forever); set one of CloudWatch Logs' retention periods`);
    else if (days < min) reportViolation(`${describe(args)}: retentionInDays is ${days}; this stack requires at least ${min}`);
    if (typeof group.kmsKeyId !== "string" || group.kmsKeyId === "")
      reportViolation(`${describe(args)}: kmsKeyId is not set; encrypt the log group with the platform key`);
    else if (customerKeyProblem(group.kmsKeyId)) reportViolation(`${describe(args)}: kmsKeyId ${customerKeyProblem(group.kmsKeyId)}`);
  },
};

export const snsTopicKms: PlatformPolicy = {
  name: "sns-topic-kms",
  description: "SNS topics encrypt messages at rest with a KMS key.",
  severity: "medium",
  controls: [checkov("CKV_AWS_26")],
  validateResource: validateResourceOfType<SnsTopicProps>(TYPES.snsTopic, (topic, args, reportViolation) => {
    if (typeof topic.kmsMasterKeyId !== "string" || topic.kmsMasterKeyId === "")
      reportViolation(`${describe(args)}: kmsMasterKeyId is not set; encrypt the topic with the platform key`);
    // The AWS managed key's policy does not let CloudWatch use it: alarms stop reaching the topic.
    else if (customerKeyProblem(topic.kmsMasterKeyId))
      reportViolation(
        `${describe(args)}: kmsMasterKeyId ${customerKeyProblem(topic.kmsMasterKeyId)} (CloudWatch alarms cannot publish to a topic under alias/aws/sns)`,
      );
  }),
};

export const alarmActions: PlatformPolicy = {
  name: "cloudwatch-alarm-actions",
  description: "CloudWatch alarms have actions configured and enabled, so an alarm reaches someone.",
  severity: "high",
  controls: [securityHub("CloudWatch.15"), securityHub("CloudWatch.17")],
  validateResource: validateResourceOfType<MetricAlarmProps>(TYPES.metricAlarm, (alarm, args, reportViolation) => {
    if ((alarm.alarmActions ?? []).length === 0) reportViolation(`${describe(args)}: alarmActions is empty; notify the stack's alarm topic`);
    if (alarm.actionsEnabled === false) reportViolation(`${describe(args)}: actionsEnabled is false; alarms must act`);
  }),
};

/** The log group SageMaker writes every training job's logs to: one per account and region, name fixed by SageMaker. */
export const TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs";
const LOG_GROUP_TYPES = ["aws:cloudwatch/logGroup:LogGroup", "aws-native:logs:LogGroup"];
/** Resources that mean the stack trains or serves with SageMaker. */
const SAGEMAKER_TYPES = [
  "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
  "aws:sagemaker/model:Model",
  "aws-native:sagemaker:ModelPackageGroup",
  "aws-native:sagemaker:Model",
];

const groupName = (r: PolicyResource): unknown => r.props.name ?? r.props.logGroupName;

export const trainingLogGroup: PlatformPolicy = {
  name: "sagemaker-training-log-group",
  description:
    "A stack that trains with SageMaker creates the /aws/sagemaker/TrainingJobs log group with a customer key and a retention (or its pack config names the stack that does).",
  severity: "medium",
  controls: [securityHub("CloudWatch.16", "the group SageMaker would otherwise create unencrypted and kept forever")],
  configSchema: {
    properties: {
      sharedTrainingLogGroup: { type: "boolean", default: false, description: "Another stack in this account and region owns /aws/sagemaker/TrainingJobs." },
    },
  },
  validateStack: (args, reportViolation) => {
    const groups = args.resources.filter((r) => LOG_GROUP_TYPES.includes(r.type) && groupName(r) === TRAINING_LOG_GROUP);
    const trains = args.resources.some((r) => SAGEMAKER_TYPES.includes(r.type));
    if (groups.length === 0) {
      if (!trains) return args.notApplicable("no SageMaker resources in the stack");
      if (args.getConfig<{ sharedTrainingLogGroup?: boolean }>().sharedTrainingLogGroup === true)
        return args.notApplicable("another stack owns the training log group");
      return reportViolation(
        `the stack uses SageMaker but creates no ${TRAINING_LOG_GROUP} log group: SageMaker would create it unencrypted, kept forever; create it with the platform key and a retention (or set sharedTrainingLogGroup where another stack of the account owns it)`,
      );
    }
    for (const g of groups) {
      const days = g.props.retentionInDays;
      if (!(Number(days) > 0)) reportViolation(`${describe(g)}: ${TRAINING_LOG_GROUP} has no retention; set retentionInDays`, g.urn);
      const key = g.props.kmsKeyId;
      const problem = customerKeyProblem(key);
      if (problem) reportViolation(`${describe(g)}: ${TRAINING_LOG_GROUP} kmsKeyId: ${problem}`, g.urn);
    }
  },
};

export const monitoringPolicies: PlatformPolicy[] = [logGroupRetentionAndKms, snsTopicKms, alarmActions, trainingLogGroup].map((p) => ({
  ...p,
  tags: controlTags(p.controls),
}));
