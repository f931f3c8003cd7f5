/**
 * When @pulumi/aws (classic) replaces a resource instead of updating it: the ForceNew attributes of
 * the terraform-provider-aws schemas it bridges. Facts from /work/shared/reference/provider-semantics.md
 * §1 ("Replace-on-change (ForceNew) — @pulumi/aws (classic)", tables 1.1 and 1.2, TF v6.x line,
 * Pulumi names checked against @pulumi/aws 7.47.0's .d.ts); nothing here is inferred.
 * aws-native resources need no entry: their SDK declares `replaceOnChanges` itself.
 *
 * `forceNew`: input paths (dot-separated) whose change replaces the resource.
 * `updatableOnly`: the resource's Update handles only these inputs; any other change replaces it.
 */
export type ReplaceRule = { readonly forceNew: readonly string[] } | { readonly updatableOnly: readonly string[] };

export const CLASSIC_REPLACE_RULES: Readonly<Record<string, ReplaceRule>> = {
  // §1.1: "In-place updatable: tags only (Update function is tags-only)".
  "aws:sagemaker/model:Model": { updatableOnly: ["tags"] },
  // §1.1: "tags only ("Tags only" Update)".
  "aws:sagemaker/endpointConfiguration:EndpointConfiguration": { updatableOnly: ["tags"] },
  // §1.1: name; deployment_config.auto_rollback_configuration (incl. its alarms). Kept so the tests
  // can show what the classic Endpoint (used before the switch to aws-native) would have done.
  "aws:sagemaker/endpoint:Endpoint": { forceNew: ["name", "deploymentConfig.autoRollbackConfiguration"] },
  "aws:sagemaker/modelPackageGroup:ModelPackageGroup": { forceNew: ["modelPackageGroupName", "modelPackageGroupDescription"] },
  // §1.2.
  "aws:appautoscaling/target:Target": { forceNew: ["resourceId", "scalableDimension", "serviceNamespace"] },
  "aws:appautoscaling/policy:Policy": { forceNew: ["name", "resourceId", "scalableDimension", "serviceNamespace"] },
  "aws:cloudwatch/metricAlarm:MetricAlarm": { forceNew: ["name"] },
  "aws:cloudwatch/logGroup:LogGroup": { forceNew: ["name", "namePrefix", "logGroupClass"] },
  "aws:iam/role:Role": { forceNew: ["name", "namePrefix", "path"] },
  "aws:iam/rolePolicy:RolePolicy": { forceNew: ["name", "namePrefix", "role"] },
  "aws:sns/topic:Topic": { forceNew: ["name", "namePrefix", "fifoTopic"] },
  "aws:kms/key:Key": { forceNew: ["customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"] },
  "aws:ecr/repository:Repository": { forceNew: ["name", "encryptionConfigurations"] },
  "aws:s3/bucket:Bucket": { forceNew: ["bucket", "bucketPrefix", "objectLockEnabled"] },
  "aws:s3/bucketPolicy:BucketPolicy": { forceNew: ["bucket"] },
  // Not in the shared reference: terraform-provider-aws internal/service/events/rule.go (read at
  // commit 0cdab4ae, 2026), aws_cloudwatch_event_rule: ForceNew on event_bus_name, name, name_prefix.
  "aws:cloudwatch/eventRule:EventRule": { forceNew: ["eventBusName", "name", "namePrefix"] },
  // Same source, internal/service/cloudwatch/dashboard.go (commit 0620f2a6): ForceNew on dashboard_name.
  "aws:cloudwatch/dashboard:Dashboard": { forceNew: ["dashboardName"] },
  // The training pipeline's resources, same source (terraform-provider-aws schemas, ForceNew fields):
  // internal/service/sagemaker/pipeline.go (commit f64a965c): pipeline_name.
  "aws:sagemaker/pipeline:Pipeline": { forceNew: ["pipelineName"] },
  // internal/service/scheduler/schedule.go (commit ba293140): group_name, name, name_prefix.
  "aws:scheduler/schedule:Schedule": { forceNew: ["groupName", "name", "namePrefix"] },
  // internal/service/s3/bucket_notification.go (commit adeb8422): bucket.
  "aws:s3/bucketNotification:BucketNotification": { forceNew: ["bucket"] },
  // internal/service/events/target.go (commit bf84f8e5): event_bus_name, rule, target_id.
  "aws:cloudwatch/eventTarget:EventTarget": { forceNew: ["eventBusName", "rule", "targetId"] },
};
