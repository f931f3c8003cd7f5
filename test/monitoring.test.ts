import { beforeAll, describe, expect, it } from "vitest";
import { alarmTopicPolicy, dashboardBody, failedTrainingJobPattern } from "../infra/components/monitoring";
import type { PlanResult } from "../infra/offline/mock-run";
import { ofType, one, planStack } from "./helpers/platform";

const plans: Record<string, PlanResult> = {};
// Running the program once per stack takes seconds; more on a loaded machine than the default 10 s.
beforeAll(async () => {
  for (const stack of ["dev", "staging", "prod"]) plans[stack] = await planStack(stack);
}, 120_000);

const monitoringAlarms = (stack: string) => ofType(plans[stack], "aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.parent === "monitoring");
const alarmNamed = (stack: string, suffix: string) => monitoringAlarms(stack).find((a) => a.name === `monitoring-${suffix}`);

/** Every metric array of a dashboard body, with its widget's title. */
function metricsOf(body: { widgets: Array<Record<string, any>> }): Array<{ title: string; metric: unknown[] }> {
  return body.widgets.flatMap((w) => (w.properties.metrics as unknown[][]).map((metric) => ({ title: w.properties.title as string, metric })));
}

describe("dashboard body", () => {
  const body = dashboardBody({
    region: "eu-west-1",
    endpointName: "churn-prod",
    variantName: "primary",
    instances: { min: 2, max: 8 },
    failureRuleNames: ["rule-a", "rule-b"],
  });

  it("is a CloudWatch dashboard body: metric widgets placed on the 24-column grid, each with a region", () => {
    expect(JSON.parse(JSON.stringify(body))).toEqual(body);
    for (const w of body.widgets) {
      expect(w).toMatchObject({ type: "metric", x: expect.any(Number), y: expect.any(Number), width: expect.any(Number), height: expect.any(Number) });
      expect((w.x as number) + (w.width as number)).toBeLessThanOrEqual(24);
      expect(w.properties).toMatchObject({ region: "eu-west-1", title: expect.any(String), metrics: expect.any(Array) });
    }
  });

  it("names this stack's endpoint and variant in every endpoint metric", () => {
    const endpointMetrics = metricsOf(body).filter(({ metric }) => typeof metric[0] === "string" && metric[0] !== "AWS/Events");
    expect(endpointMetrics.length).toBeGreaterThan(5);
    for (const { title, metric } of endpointMetrics) {
      expect(metric.slice(2, 6), title).toEqual(["EndpointName", "churn-prod", "VariantName", "primary"]);
    }
  });

  it("shows invocations, errors, latency percentiles, instances against the bounds, CPU and memory, and failures", () => {
    const names = metricsOf(body).map(({ metric }) => (typeof metric[0] === "string" ? metric[1] : (metric[0] as { expression: string }).expression));
    expect(names).toEqual(
      expect.arrayContaining([
        "Invocations",
        "Invocation4XXErrors",
        "Invocation5XXErrors",
        "ModelLatency",
        "InvocationsPerInstance",
        "invocations / perInstance",
        "CPUUtilization",
        "MemoryUtilization",
        "MatchedEvents",
      ]),
    );
    const latency = metricsOf(body)
      .filter(({ metric }) => metric[1] === "ModelLatency")
      .map(({ metric }) => (metric[6] as { stat: string }).stat);
    expect(latency).toEqual(["p50", "p90", "p99"]);
    const widgets = body.widgets as Array<Record<string, any>>;
    const instances = widgets.find((w) => String(w.properties.title).startsWith("Instances"))!;
    expect(instances.properties.annotations.horizontal.map((h: { value: number }) => h.value)).toEqual([2, 8]);
    const failures = metricsOf(body)
      .filter(({ metric }) => metric[0] === "AWS/Events")
      .map(({ metric }) => metric[3]);
    expect(failures).toEqual(["rule-a", "rule-b"]);
  });

  it("has no instance, CPU or memory widgets for a serverless endpoint", () => {
    const serverless = dashboardBody({ region: "eu-west-1", endpointName: "churn-dev", variantName: "primary" });
    expect(metricsOf(serverless).map(({ metric }) => metric[1])).not.toContain("CPUUtilization");
    expect(serverless.widgets).toHaveLength(3);
  });
});

describe.each(["dev", "staging", "prod"])("stack %s", (stack) => {
  it("has a dashboard of its endpoint and variant", () => {
    const dashboard = one(plans[stack], "aws:cloudwatch/dashboard:Dashboard");
    const body = JSON.parse(dashboard.inputs.dashboardBody);
    for (const { metric } of metricsOf(body).filter(({ metric }) => metric[0] === "AWS/SageMaker")) {
      expect(metric.slice(2, 6)).toEqual(["EndpointName", `flight-delays-${stack}`, "VariantName", "primary"]);
    }
  });

  it("alarms on the 4XX rate, notifying the stack's alarm topic", () => {
    const topic = one(plans[stack], "aws:sns/topic:Topic");
    const rate = alarmNamed(stack, "4xx-rate")!;
    expect(rate.inputs.threshold).toBe(5);
    expect(rate.inputs.metricQueries[0]).toMatchObject({ expression: "100 * errors / invocations", returnData: true });
    for (const alarm of monitoringAlarms(stack)) expect(alarm.inputs.alarmActions, alarm.name).toEqual([topic.state.arn]);
  });

  it("sends failed training jobs and pipeline runs to the alarm topic, which admits only those rules", () => {
    const rules = ofType(plans[stack], "aws:cloudwatch/eventRule:EventRule");
    // A stack with a training pipeline also tells the topic of each version pending approval.
    const withPipeline = ofType(plans[stack], "aws:sagemaker/pipeline:Pipeline").length > 0;
    expect(rules.map((r) => JSON.parse(r.inputs.eventPattern)["detail-type"][0]).sort()).toEqual([
      "SageMaker Model Building Pipeline Execution Status Change",
      ...(withPipeline ? ["SageMaker Model Package State Change"] : []),
      "SageMaker Training Job State Change",
    ]);
    const topic = one(plans[stack], "aws:sns/topic:Topic");
    for (const target of ofType(plans[stack], "aws:cloudwatch/eventTarget:EventTarget")) expect(target.inputs.arn).toBe(topic.state.arn);
    const statement = JSON.parse(one(plans[stack], "aws:sns/topicPolicy:TopicPolicy").inputs.policy).Statement.find(
      (s: any) => s.Sid === "FailureRulesPublish",
    );
    expect(statement.Condition.ArnEquals["aws:SourceArn"].sort()).toEqual(rules.map((r) => r.state.arn).sort());
  });
});

describe("alarms that depend on the stack's config", () => {
  it("watches for no traffic in prod only (where monitoring.noInvocationsMinutes is set), missing data counting as none", () => {
    expect(alarmNamed("prod", "no-invocations")!.inputs).toMatchObject({
      metricName: "Invocations",
      period: 60,
      evaluationPeriods: 30,
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
    });
    expect(alarmNamed("staging", "no-invocations")).toBeUndefined();
    expect(alarmNamed("dev", "no-invocations")).toBeUndefined();
  });

  it("alarms when autoscaling is pinned at its maximum (prod 8, staging 3)", () => {
    expect(alarmNamed("prod", "at-max-capacity")!.inputs).toMatchObject({
      threshold: 8,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      evaluationPeriods: 15,
    });
    expect(alarmNamed("staging", "at-max-capacity")!.inputs.threshold).toBe(3);
    expect(alarmNamed("dev", "at-max-capacity")).toBeUndefined();
  });

  it("alarms on CPU and memory of instance endpoints, not serverless ones", () => {
    expect(alarmNamed("prod", "cpu-high")!.inputs).toMatchObject({ namespace: "/aws/sagemaker/Endpoints", metricName: "CPUUtilization", threshold: 80 });
    expect(alarmNamed("prod", "memory-high")!.inputs).toMatchObject({ metricName: "MemoryUtilization", threshold: 85 });
    expect(alarmNamed("dev", "cpu-high")).toBeUndefined();
  });

  it("takes its thresholds from config", async () => {
    const plan = await planStack("staging", {
      "mlPlatform:monitoring": { invocation4xxRatePercent: 2, cpuUtilizationPercent: 150, noInvocationsMinutes: 10, trainingFailures: false },
    });
    const alarm = (suffix: string) => plan.resources.find((r) => r.name === `monitoring-${suffix}`)!;
    expect(alarm("4xx-rate").inputs.threshold).toBe(2);
    expect(alarm("cpu-high").inputs.threshold).toBe(150);
    expect(alarm("no-invocations").inputs.evaluationPeriods).toBe(10);
    expect(ofType(plan, "aws:cloudwatch/eventRule:EventRule").map((r) => r.name)).toEqual(["monitoring-pipeline-failed"]);
  });
});

describe("pure pieces", () => {
  it("matches failed training jobs of this stack only", () => {
    expect(failedTrainingJobPattern("churn-prod")).toEqual({
      source: ["aws.sagemaker"],
      "detail-type": ["SageMaker Training Job State Change"],
      detail: { TrainingJobStatus: ["Failed"], TrainingJobName: [{ prefix: "churn-prod" }] },
    });
  });

  it("lets CloudWatch alarms of this account publish, and no rule when there is none", () => {
    const doc = alarmTopicPolicy({
      topicArn: "arn:aws:sns:eu-west-1:123456789012:t",
      accountId: "123456789012",
      partition: "aws",
      region: "eu-west-1",
      ruleArns: [],
    });
    expect(doc.Statement.map((s) => s.Sid)).toEqual(["AccountAdministersTopic", "CloudWatchAlarmsPublish"]);
    expect(doc.Statement[1].Condition).toEqual({
      StringEquals: { "aws:SourceAccount": "123456789012" },
      ArnLike: { "aws:SourceArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:*" },
    });
  });
});
