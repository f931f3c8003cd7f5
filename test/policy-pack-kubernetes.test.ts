// The Kubernetes rules: each with a workload that passes and one that violates it (message
// included), on resources in the shape `@pulumi/kubernetes` registers them; and the real dev-k8s
// stack, under the mocked provider, passing the whole pack.
import { beforeAll, describe, expect, it } from "vitest";
import type { PlanResult } from "../infra/offline/mock-run";
import { policies } from "../infra/policy-pack/policies";
import { engineView, evaluatePack, runResourcePolicy, runStackPolicy, type FakeResource } from "./helpers/policy-harness";
import { planStack } from "./helpers/platform";

const policy = (name: string) => {
  const p = policies.find((x) => x.name === name);
  if (!p) throw new Error(`no policy ${name}`);
  return p;
};

const IMAGE = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/ml-core@sha256:" + "a".repeat(64);
const LABELS = { "app.kubernetes.io/name": "ml-core", "app.kubernetes.io/instance": "model" };
const RESOURCES = { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } };
const SECURE = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};
const probe = (path: string) => ({ httpGet: { path, port: "http" }, periodSeconds: 5 });

const container = (over: Record<string, unknown> = {}) => ({
  name: "ml-core",
  image: IMAGE,
  resources: RESOURCES,
  securityContext: SECURE,
  startupProbe: probe("/v2/health/ready"),
  readinessProbe: probe("/v2/health/ready"),
  livenessProbe: probe("/v2/health/live"),
  ...over,
});
const podSpec = (over: Record<string, unknown> = {}) => ({
  securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
  initContainers: [{ name: "fetch-model", image: IMAGE, resources: RESOURCES, securityContext: SECURE }],
  containers: [container()],
  ...over,
});
const deployment = (spec: Record<string, unknown> = {}, pod: Record<string, unknown> = {}, namespace = "models"): FakeResource => ({
  type: "kubernetes:apps/v1:Deployment",
  name: "serving-deployment",
  props: {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "model", namespace, labels: LABELS },
    spec: {
      selector: { matchLabels: LABELS },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: { metadata: { labels: LABELS }, spec: podSpec(pod) },
      ...spec,
    },
  },
});
const withContainer = (over: Record<string, unknown>) => deployment({}, { containers: [container(over)] });
const pdb = (matchLabels: Record<string, string> = LABELS, namespace = "models"): FakeResource => ({
  type: "kubernetes:policy/v1:PodDisruptionBudget",
  name: "serving-disruption-budget",
  props: { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "model", namespace }, spec: { minAvailable: 2, selector: { matchLabels } } },
});
const networkPolicy = (spec: Record<string, unknown>, namespace = "models"): FakeResource => ({
  type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  name: "serving-default-deny",
  props: { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "default-deny", namespace }, spec },
});
const DENY_ALL = { podSelector: {}, policyTypes: ["Ingress", "Egress"] };
const namespace = (labels: Record<string, string>): FakeResource => ({
  type: "kubernetes:core/v1:Namespace",
  name: "serving-namespace",
  props: { apiVersion: "v1", kind: "Namespace", metadata: { name: "models", labels } },
});

const RESOURCE_RULES = [
  "kubernetes-restricted-pod-security",
  "kubernetes-read-only-root-filesystem",
  "kubernetes-image-digest",
  "kubernetes-requests-equal-limits",
  "kubernetes-probes",
  "kubernetes-rolling-update-keeps-capacity",
];

describe("the workload rules", () => {
  it.each(RESOURCE_RULES)("%s: passes the hardened Deployment", async (name) => {
    const outcome = await runResourcePolicy(policy(name), deployment());
    expect(outcome).toEqual({ violations: [] });
  });

  it.each(RESOURCE_RULES)("%s: does not apply to a Service", async (name) => {
    const outcome = await runResourcePolicy(policy(name), { type: "kubernetes:core/v1:Service", props: { spec: {} } });
    expect(outcome.notApplicable).toBeDefined();
  });

  const D = 'Deployment "serving-deployment"';
  it.each([
    [
      "kubernetes-restricted-pod-security",
      withContainer({ securityContext: { ...SECURE, allowPrivilegeEscalation: true } }),
      [`${D}: container "ml-core": allowPrivilegeEscalation is true; set it to false`],
    ],
    [
      "kubernetes-restricted-pod-security",
      deployment({}, { securityContext: {}, containers: [container({ securityContext: { ...SECURE, runAsNonRoot: undefined, seccompProfile: undefined } })] }),
      [
        // The init container sets both itself; the serving container relied on the pod's.
        `${D}: container "ml-core": runAsNonRoot is not true (container or pod securityContext)`,
        `${D}: container "ml-core": seccompProfile.type is null; set "RuntimeDefault" (container or pod securityContext)`,
      ],
    ],
    [
      "kubernetes-restricted-pod-security",
      withContainer({ securityContext: { ...SECURE, capabilities: { drop: ["NET_RAW"], add: ["SYS_ADMIN"] } } }),
      [
        `${D}: container "ml-core": capabilities.drop does not include "ALL"`,
        `${D}: container "ml-core": capabilities.add has SYS_ADMIN; only NET_BIND_SERVICE may be added`,
      ],
    ],
    [
      "kubernetes-restricted-pod-security",
      withContainer({ securityContext: { ...SECURE, runAsUser: 0, privileged: true } }),
      [`${D}: container "ml-core": runAsUser is 0 (root)`, `${D}: container "ml-core": privileged is true`],
    ],
    [
      "kubernetes-restricted-pod-security",
      deployment({}, { hostNetwork: true }),
      [`${D}: hostNetwork is true; the restricted standard forbids host namespaces`],
    ],
    [
      "kubernetes-read-only-root-filesystem",
      deployment(
        {},
        { initContainers: [{ name: "fetch-model", image: IMAGE, resources: RESOURCES, securityContext: { ...SECURE, readOnlyRootFilesystem: false } }] },
      ),
      [`${D}: init container "fetch-model": readOnlyRootFilesystem is false; set it to true and mount an emptyDir where it writes`],
    ],
    [
      "kubernetes-image-digest",
      withContainer({ image: "ml-core:1.2.3" }),
      [`${D}: container "ml-core": image "ml-core:1.2.3" is not pinned by digest (<repository>@sha256:<digest>)`],
    ],
    [
      "kubernetes-requests-equal-limits",
      withContainer({ resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "1" } } }),
      [`${D}: container "ml-core": resources.requests.cpu (500m) differs from limits.cpu (1)`, `${D}: container "ml-core": resources.limits.memory is not set`],
    ],
    [
      "kubernetes-probes",
      withContainer({ startupProbe: undefined, livenessProbe: undefined }),
      [`${D}: container "ml-core": startupProbe is not set`, `${D}: container "ml-core": livenessProbe is not set`],
    ],
    [
      "kubernetes-rolling-update-keeps-capacity",
      deployment({ strategy: { type: "RollingUpdate" } }),
      [`${D}: strategy.rollingUpdate.maxUnavailable is "25%"; set it to 0 (and maxSurge ≥ 1)`],
    ],
    [
      "kubernetes-rolling-update-keeps-capacity",
      deployment({ strategy: { type: "Recreate" } }),
      [`${D}: strategy.type is "Recreate"; use "RollingUpdate" (Recreate stops every pod first)`],
    ],
  ] as const)("%s: reports a violating Deployment", async (name, resource, messages) => {
    const outcome = await runResourcePolicy(policy(name), resource);
    expect(outcome.violations.map((v) => v.message)).toEqual(messages);
  });

  it("judges a bare Pod, a Job and a CronJob by the same container rules, and does not ask a Job for probes", async () => {
    const bad = { containers: [{ name: "batch", image: "busybox:latest", securityContext: {} }] };
    const pod: FakeResource = { type: "kubernetes:core/v1:Pod", name: "pod", props: { spec: bad } };
    const job: FakeResource = { type: "kubernetes:batch/v1:Job", name: "job", props: { spec: { template: { spec: bad } } } };
    const cron: FakeResource = { type: "kubernetes:batch/v1:CronJob", name: "cron", props: { spec: { jobTemplate: { spec: { template: { spec: bad } } } } } };
    for (const r of [pod, job, cron]) {
      expect((await runResourcePolicy(policy("kubernetes-image-digest"), r)).violations, r.type).toHaveLength(1);
      expect((await runResourcePolicy(policy("kubernetes-restricted-pod-security"), r)).violations.length, r.type).toBeGreaterThanOrEqual(4);
    }
    expect((await runResourcePolicy(policy("kubernetes-probes"), pod)).violations).toHaveLength(3);
    expect((await runResourcePolicy(policy("kubernetes-probes"), job)).notApplicable).toBeDefined();
  });

  it("kubernetes-namespace-restricted: passes an enforcing namespace and reports one that only warns", async () => {
    expect(await runResourcePolicy(policy("kubernetes-namespace-restricted"), namespace({ "pod-security.kubernetes.io/enforce": "restricted" }))).toEqual({
      violations: [],
    });
    const outcome = await runResourcePolicy(policy("kubernetes-namespace-restricted"), namespace({ "pod-security.kubernetes.io/warn": "restricted" }));
    expect(outcome.violations.map((v) => v.message)).toEqual([
      'Namespace "serving-namespace": label pod-security.kubernetes.io/enforce is null; set it to "restricted"',
    ]);
  });
});

describe("the stack rules", () => {
  it("kubernetes-disruption-budget: passes a Deployment with a budget selecting its pods", async () => {
    expect(await runStackPolicy(policy("kubernetes-disruption-budget"), [deployment(), pdb()])).toEqual({ violations: [] });
  });

  it.each([
    ["no budget", [deployment()]],
    ["a budget selecting other pods", [deployment(), pdb({ "app.kubernetes.io/name": "other" })]],
    ["a budget in another namespace", [deployment(), pdb(LABELS, "elsewhere")]],
  ])("kubernetes-disruption-budget: reports a Deployment with %s", async (_, resources) => {
    const outcome = await runStackPolicy(policy("kubernetes-disruption-budget"), resources);
    expect(outcome.violations.map((v) => v.message)).toEqual([
      'Deployment "serving-deployment": no PodDisruptionBudget in namespace "models" selects its pods (spec.selector.matchLabels ⊆ the pod template\'s labels); add one',
    ]);
  });

  it("kubernetes-namespace-default-deny: passes a namespace with a deny-all policy", async () => {
    expect(await runStackPolicy(policy("kubernetes-namespace-default-deny"), [deployment(), networkPolicy(DENY_ALL)])).toEqual({ violations: [] });
  });

  it.each([
    ["no policy", []],
    ["a policy selecting only the serving pods", [networkPolicy({ ...DENY_ALL, podSelector: { matchLabels: LABELS } })]],
    ["a policy denying ingress only", [networkPolicy({ podSelector: {}, policyTypes: ["Ingress"] })]],
    ["a policy that allows some egress", [networkPolicy({ ...DENY_ALL, egress: [{ ports: [{ port: 443 }] }] })]],
    ["a deny-all policy in another namespace", [networkPolicy(DENY_ALL, "elsewhere")]],
  ])("kubernetes-namespace-default-deny: reports a namespace with %s", async (_, extra) => {
    const outcome = await runStackPolicy(policy("kubernetes-namespace-default-deny"), [deployment(), ...extra]);
    expect(outcome.violations.map((v) => v.message)).toEqual([
      'namespace "models" (of Deployment "serving-deployment") has no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules); add one',
    ]);
  });

  it("does not apply to a stack without Kubernetes workloads", async () => {
    expect((await runStackPolicy(policy("kubernetes-disruption-budget"), [])).notApplicable).toBeDefined();
    expect((await runStackPolicy(policy("kubernetes-namespace-default-deny"), [])).notApplicable).toBeDefined();
  });
});

describe("the dev-k8s stack under the mocked provider", () => {
  let plan: PlanResult;
  beforeAll(async () => {
    plan = await planStack("dev-k8s");
  });

  // Known open finding, outside the Kubernetes rules: the Pod Identity role's trust names
  // pods.eks.amazonaws.com with aws:SourceAccount but no aws:SourceArn (infra/policies/
  // serving-identity-policy.ts). When that is fixed, this list becomes empty.

  it("passes every rule of the pack", async () => {
    const { violations } = await evaluatePack(policies, engineView(plan));
    expect(violations).toEqual([]);
  });

  it("meets every Kubernetes rule (a pass is not a rule that never ran)", async () => {
    const { applied } = await evaluatePack(policies, engineView(plan));
    expect([...applied]).toEqual(expect.arrayContaining(policies.filter((p) => p.name.startsWith("kubernetes-")).map((p) => p.name)));
  });

  it("fails when its rollout may take a pod away first and its default-deny policy is gone", async () => {
    const copy = structuredClone(plan);
    const deploymentOf = copy.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
    deploymentOf.inputs.spec.strategy.rollingUpdate.maxUnavailable = 1;
    const changed = {
      ...copy,
      resources: copy.resources.filter((r) => !(r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && r.inputs.metadata.name === "default-deny")),
    };
    const violations = (await evaluatePack(policies, engineView(changed))).violations;
    expect(violations.map((v) => `${v.policy}: ${v.message}`)).toEqual([
      `kubernetes-rolling-update-keeps-capacity: Deployment "${deploymentOf.name}": strategy.rollingUpdate.maxUnavailable is 1; set it to 0 (and maxSurge ≥ 1)`,
      `kubernetes-namespace-default-deny: namespace "flight-delays" (of Deployment "${deploymentOf.name}") has no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules); add one`,
    ]);
  });
});
