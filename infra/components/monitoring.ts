import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { MonitoringSettings } from "@ml-platform/contract";
import { policy, type PolicyDocument } from "../policies/documents";

// Metric names, namespaces and the EndpointName/VariantName dimensions are SageMaker's own
// (SageMaker Developer Guide, "Amazon SageMaker AI metrics in Amazon CloudWatch",
// https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html: Invocations,
// Invocation4XXErrors, Invocation5XXErrors, InvocationsPerInstance, ModelLatency in AWS/SageMaker;
// CPUUtilization, MemoryUtilization in /aws/sagemaker/Endpoints). The event detail types are those
// SageMaker sends to EventBridge (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-sagemaker.html).

/** The endpoint's invocation metrics (per endpoint and variant). */
const INVOCATION_NAMESPACE = "AWS/SageMaker";
/** The endpoint instances' utilisation metrics. */
const INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints";

/** The EventBridge detail types of the SageMaker events the failure rules match. */
export const SAGEMAKER_EVENTS = {
  trainingJob: "SageMaker Training Job State Change",
  pipelineExecution: "SageMaker Model Building Pipeline Execution Status Change",
} as const;

export interface DashboardArgs {
  readonly region: string;
  readonly endpointName: string;
  readonly variantName: string;
  /** Instance endpoints: the autoscaling bounds the instance count is drawn against. @default - serverless: no instance widgets */
  readonly instances?: { readonly min: number; readonly max: number };
  /** Names of the EventBridge rules that match failed training jobs and pipeline runs. @default - none */
  readonly failureRuleNames?: readonly string[];
}

type Metric = readonly unknown[];

/**
 * The CloudWatch dashboard body (the `DashboardBody` JSON of PutDashboard): invocations, errors,
 * latency percentiles, instances against the autoscaling bounds, CPU and memory, and failed
 * training jobs and pipeline runs. Every endpoint metric names this endpoint and variant.
 */
export function dashboardBody(args: DashboardArgs): { widgets: Array<Record<string, unknown>> } {
  const dims = ["EndpointName", args.endpointName, "VariantName", args.variantName] as const;
  const invocation = (name: string, options: Record<string, unknown> = {}): Metric => [INVOCATION_NAMESPACE, name, ...dims, options];
  const widget = (title: string, metrics: Metric[], extra: Record<string, unknown> = {}) => ({
    type: "metric",
    width: 12,
    height: 6,
    properties: { title, region: args.region, view: "timeSeries", stat: "Sum", period: 60, metrics, ...extra },
  });
  const widgets: Array<Record<string, unknown>> = [
    widget("Invocations", [invocation("Invocations")]),
    widget("Errors", [invocation("Invocation4XXErrors"), invocation("Invocation5XXErrors")]),
    widget(
      "Model latency (microseconds)",
      ["p50", "p90", "p99"].map((stat) => invocation("ModelLatency", { stat, label: stat })),
    ),
  ];
  if (args.instances) {
    widgets.push(
      widget(
        "Instances (invocations ÷ invocations per instance) against the autoscaling bounds",
        [
          [{ expression: "invocations / perInstance", id: "instances", label: "instances" }],
          invocation("Invocations", { id: "invocations", visible: false }),
          invocation("InvocationsPerInstance", { id: "perInstance", visible: false }),
        ],
        {
          annotations: {
            horizontal: [
              { label: "autoscaling min", value: args.instances.min },
              { label: "autoscaling max", value: args.instances.max },
            ],
          },
          yAxis: { left: { min: 0 } },
        },
      ),
      widget(
        "CPU and memory utilisation (CPU summed over vCPUs)",
        [
          [INSTANCE_NAMESPACE, "CPUUtilization", ...dims, { stat: "Average" }],
          [INSTANCE_NAMESPACE, "MemoryUtilization", ...dims, { stat: "Average" }],
        ],
        { stat: "Average" },
      ),
    );
  }
  if (args.failureRuleNames?.length) {
    widgets.push(
      widget(
        "Failed training jobs and pipeline runs",
        args.failureRuleNames.map((rule): Metric => ["AWS/Events", "MatchedEvents", "RuleName", rule]),
      ),
    );
  }
  // Two columns, in order.
  widgets.forEach((w, i) => Object.assign(w, { x: (i % 2) * 12, y: Math.floor(i / 2) * 6 }));
  return { widgets };
}

/** The EventBridge event pattern of failed training jobs whose names start with `prefix`. */
export function failedTrainingJobPattern(prefix: string): Record<string, unknown> {
  return { source: ["aws.sagemaker"], "detail-type": [SAGEMAKER_EVENTS.trainingJob], detail: { TrainingJobStatus: ["Failed"], TrainingJobName: [{ prefix }] } };
}

/** The EventBridge event pattern of failed pipeline executions in this account and region. */
export function failedPipelinePattern(pipelineArnPrefix: string): Record<string, unknown> {
  return {
    source: ["aws.sagemaker"],
    "detail-type": [SAGEMAKER_EVENTS.pipelineExecution],
    detail: { currentPipelineExecutionStatus: ["Failed"], pipelineArn: [{ prefix: pipelineArnPrefix }] },
  };
}

export interface TopicPolicyArgs {
  readonly topicArn: string;
  readonly accountId: string;
  readonly partition: string;
  readonly region: string;
  /** Rules allowed to publish. */
  readonly ruleArns: readonly string[];
}

/**
 * The alarm topic's policy: the account administers it; CloudWatch alarms of this account and the
 * stack's EventBridge rules (only those) publish to it. Setting a policy replaces SNS's default, so
 * the alarms' grant is stated here too.
 */
export function alarmTopicPolicy(a: TopicPolicyArgs): PolicyDocument {
  return policy(
    {
      Sid: "AccountAdministersTopic",
      Effect: "Allow",
      Principal: { AWS: `arn:${a.partition}:iam::${a.accountId}:root` },
      Action: [
        "sns:GetTopicAttributes",
        "sns:SetTopicAttributes",
        "sns:AddPermission",
        "sns:RemovePermission",
        "sns:DeleteTopic",
        "sns:Subscribe",
        "sns:ListSubscriptionsByTopic",
        "sns:Publish",
      ],
      Resource: a.topicArn,
    },
    {
      Sid: "CloudWatchAlarmsPublish",
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: ["sns:Publish"],
      Resource: a.topicArn,
      Condition: {
        StringEquals: { "aws:SourceAccount": a.accountId },
        ArnLike: { "aws:SourceArn": `arn:${a.partition}:cloudwatch:${a.region}:${a.accountId}:alarm:*` },
      },
    },
    ...(a.ruleArns.length
      ? [
          {
            Sid: "FailureRulesPublish",
            Effect: "Allow" as const,
            Principal: { Service: "events.amazonaws.com" },
            Action: ["sns:Publish"],
            Resource: a.topicArn,
            Condition: { StringEquals: { "aws:SourceAccount": a.accountId }, ArnEquals: { "aws:SourceArn": [...a.ruleArns] } },
          },
        ]
      : []),
  );
}

export interface EndpointMonitoringArgs {
  readonly accountId: pulumi.Input<string>;
  readonly partition: pulumi.Input<string>;
  readonly region: string;
  /** The endpoint's (planned, fixed) name. @default - no endpoint yet: only the training and pipeline rules */
  readonly endpointName?: string;
  readonly variantName: string;
  /**
   * Instance endpoints: the instance bounds (a fixed count: min = max) and whether autoscaling moves
   * between them (then the at-max alarm watches it). @default - serverless: no instance, CPU or memory widgets and alarms
   */
  readonly instances?: { readonly min: number; readonly max: number; readonly autoscaled: boolean };
  readonly settings: MonitoringSettings;
  /** Where every alarm and failure rule notifies. */
  readonly alarmTopic: aws.sns.Topic;
  /** Training jobs of this stack are named with this prefix (ml-deploy names them so). */
  readonly trainingJobNamePrefix: string;
  /** Pipelines of this stack are named with this prefix. */
  readonly pipelineNamePrefix: string;
  /** Other EventBridge rules of this stack that publish to the alarm topic (the pipeline's approval rule). @default - none */
  readonly publisherRuleArns?: pulumi.Input<string>[];
}

/**
 * The stack's dashboard and its operational alarms beside the endpoint's rollback alarms: 4XX
 * rate, no traffic, autoscaling at its maximum, CPU and memory, and failed training jobs and
 * pipeline runs (EventBridge rules that publish to the alarm topic).
 */
export class EndpointMonitoring extends pulumi.ComponentResource {
  readonly alarms: aws.cloudwatch.MetricAlarm[] = [];
  readonly rules: aws.cloudwatch.EventRule[] = [];
  readonly dashboard?: aws.cloudwatch.Dashboard;
  readonly dashboardName?: pulumi.Output<string>;

  constructor(name: string, args: EndpointMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:monitoring:EndpointMonitoring", name, {}, opts);
    const child = { parent: this };
    const s = args.settings;
    const topicArn = args.alarmTopic.arn;
    const actions = [topicArn];

    const rule = (id: string, description: string, pattern: pulumi.Input<Record<string, unknown>>) => {
      const r = new aws.cloudwatch.EventRule(`${name}-${id}`, { description, eventPattern: pulumi.output(pattern).apply((p) => JSON.stringify(p)) }, child);
      new aws.cloudwatch.EventTarget(`${name}-${id}-notify`, { rule: r.name, arn: topicArn }, child);
      this.rules.push(r);
      return r;
    };
    if (s.trainingFailures)
      rule("training-failed", `A training job of ${args.trainingJobNamePrefix} failed`, failedTrainingJobPattern(args.trainingJobNamePrefix));
    if (s.pipelineFailures) {
      const prefix = pulumi.interpolate`arn:${args.partition}:sagemaker:${args.region}:${args.accountId}:pipeline/${args.pipelineNamePrefix}`;
      rule("pipeline-failed", `A pipeline run of ${args.pipelineNamePrefix} failed`, prefix.apply(failedPipelinePattern));
    }
    // EventBridge publishes only where the topic's policy lets these rules do so.
    new aws.sns.TopicPolicy(
      `${name}-topic-policy`,
      {
        arn: topicArn,
        policy: pulumi
          .all([topicArn, args.accountId, args.partition, [...this.rules.map((r) => r.arn), ...(args.publisherRuleArns ?? [])]])
          .apply(([arn, accountId, partition, ruleArns]) =>
            JSON.stringify(alarmTopicPolicy({ topicArn: arn, accountId, partition, region: args.region, ruleArns })),
          ),
      },
      child,
    );

    if (args.endpointName) {
      const endpointName = args.endpointName;
      const dimensions = { EndpointName: endpointName, VariantName: args.variantName };
      const common = { alarmActions: actions, okActions: actions };
      const stat = (namespace: string, metricName: string, statName: string, period: number) => ({
        metric: { namespace, metricName, dimensions, period, stat: statName },
      });

      this.alarms.push(
        new aws.cloudwatch.MetricAlarm(
          `${name}-4xx-rate`,
          {
            ...common,
            alarmDescription: `Client (4XX) errors above ${s.invocation4xxRatePercent}% of invocations on ${endpointName}`,
            comparisonOperator: "GreaterThanThreshold",
            threshold: s.invocation4xxRatePercent,
            evaluationPeriods: s.evaluationPeriods,
            treatMissingData: "notBreaching",
            metricQueries: [
              { id: "rate", expression: "100 * errors / invocations", label: "4XX rate (%)", returnData: true },
              { id: "errors", ...stat(INVOCATION_NAMESPACE, "Invocation4XXErrors", "Sum", s.periodSeconds) },
              { id: "invocations", ...stat(INVOCATION_NAMESPACE, "Invocations", "Sum", s.periodSeconds) },
            ],
          },
          child,
        ),
      );

      if (s.noInvocationsMinutes !== undefined) {
        this.alarms.push(
          new aws.cloudwatch.MetricAlarm(
            `${name}-no-invocations`,
            {
              ...common,
              alarmDescription: `No invocation of ${endpointName} for ${s.noInvocationsMinutes} minutes`,
              namespace: INVOCATION_NAMESPACE,
              metricName: "Invocations",
              dimensions,
              statistic: "Sum",
              period: 60,
              evaluationPeriods: s.noInvocationsMinutes,
              comparisonOperator: "LessThanThreshold",
              threshold: 1,
              // SageMaker publishes no Invocations datapoint for a minute without any: missing is zero.
              treatMissingData: "breaching",
            },
            child,
          ),
        );
      }

      if (args.instances?.autoscaled) {
        this.alarms.push(
          new aws.cloudwatch.MetricAlarm(
            `${name}-at-max-capacity`,
            {
              ...common,
              alarmDescription: `${endpointName} has run at its autoscaling maximum (${args.instances.max}) for ${s.atMaxCapacityMinutes} minutes: it cannot scale out further`,
              comparisonOperator: "GreaterThanOrEqualToThreshold",
              threshold: args.instances.max,
              evaluationPeriods: s.atMaxCapacityMinutes,
              treatMissingData: "notBreaching",
              metricQueries: [
                // InvocationsPerInstance is Invocations divided by the variant's instance count.
                { id: "instances", expression: "invocations / perInstance", label: "instances", returnData: true },
                { id: "invocations", ...stat(INVOCATION_NAMESPACE, "Invocations", "Sum", 60) },
                { id: "perInstance", ...stat(INVOCATION_NAMESPACE, "InvocationsPerInstance", "Sum", 60) },
              ],
            },
            child,
          ),
        );
      }

      if (args.instances) {
        const utilisation = (id: string, metricName: string, threshold: number, what: string) =>
          new aws.cloudwatch.MetricAlarm(
            `${name}-${id}`,
            {
              ...common,
              alarmDescription: `${what} above ${threshold}% on ${endpointName}`,
              namespace: INSTANCE_NAMESPACE,
              metricName,
              dimensions,
              statistic: "Average",
              period: s.periodSeconds,
              evaluationPeriods: s.evaluationPeriods,
              comparisonOperator: "GreaterThanThreshold",
              threshold,
              treatMissingData: "notBreaching",
            },
            child,
          );
        this.alarms.push(
          utilisation("cpu-high", "CPUUtilization", s.cpuUtilizationPercent, "CPU utilisation (summed over vCPUs)"),
          utilisation("memory-high", "MemoryUtilization", s.memoryUtilizationPercent, "Memory utilisation"),
        );
      }

      const body = pulumi.all(this.rules.map((r) => r.name)).apply((failureRuleNames) =>
        JSON.stringify(
          dashboardBody({
            region: args.region,
            endpointName,
            variantName: args.variantName,
            instances: args.instances,
            failureRuleNames,
          }),
        ),
      );
      this.dashboard = new aws.cloudwatch.Dashboard(
        `${name}-dashboard`,
        {
          // Required by the provider. Dashboards are global to the account: the region keeps two regions' apart.
          dashboardName: `${endpointName}-${args.region}`,
          dashboardBody: body,
        },
        child,
      );
      this.dashboardName = this.dashboard.dashboardName;
    }

    this.registerOutputs({ dashboardName: this.dashboardName, alarmNames: this.alarms.map((a) => a.name) });
  }
}
