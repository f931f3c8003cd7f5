// Logs, alarms and their notifications: kept for a set time, encrypted, and acted upon.
import { checkov, controlTags, securityHub, validateResourceOfType, type PlatformPolicy } from "../lib/policy";
import { describe } from "../lib/resources";
import { TYPES, type LogGroupProps, type MetricAlarmProps, type SnsTopicProps } from "../lib/types";

export const logGroupRetentionAndKms: PlatformPolicy = {
  name: "cloudwatch-log-group-retention-kms",
  description: "CloudWatch log groups expire their events after a set retention (never \"forever\") and are encrypted with a KMS key.",
  severity: "medium",
  controls: [
    securityHub("CloudWatch.16", "retention must be set; the minimum is configurable (minRetentionDays) where CloudWatch.16 defaults to 365 days"),
    checkov("CKV_AWS_158"),
    checkov("CKV_AWS_338", "with minRetentionDays 365"),
  ],
  configSchema: {
    properties: { minRetentionDays: { type: "integer", minimum: 1, default: 1, description: "Shortest retention allowed, in days (365 matches CloudWatch.16 and CKV_AWS_338)." } },
  },
  validateResource: validateResourceOfType<LogGroupProps>(TYPES.logGroup, (group, args, reportViolation) => {
    const min = args.getConfig<{ minRetentionDays?: number }>().minRetentionDays ?? 1;
    const days = group.retentionInDays;
    if (days === undefined || days === 0) reportViolation(`${describe(args)}: retentionInDays is not set (events are kept forever); set one of CloudWatch Logs' retention periods`);
    else if (days < min) reportViolation(`${describe(args)}: retentionInDays is ${days}; this stack requires at least ${min}`);
    if (typeof group.kmsKeyId !== "string" || group.kmsKeyId === "") reportViolation(`${describe(args)}: kmsKeyId is not set; encrypt the log group with the platform key`);
  }),
};

export const snsTopicKms: PlatformPolicy = {
  name: "sns-topic-kms",
  description: "SNS topics encrypt messages at rest with a KMS key.",
  severity: "medium",
  controls: [checkov("CKV_AWS_26")],
  validateResource: validateResourceOfType<SnsTopicProps>(TYPES.snsTopic, (topic, args, reportViolation) => {
    if (typeof topic.kmsMasterKeyId !== "string" || topic.kmsMasterKeyId === "") reportViolation(`${describe(args)}: kmsMasterKeyId is not set; encrypt the topic with the platform key`);
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

export const monitoringPolicies: PlatformPolicy[] = [logGroupRetentionAndKms, snsTopicKms, alarmActions]
  .map((p) => ({ ...p, tags: controlTags(p.controls) }));
