// Kubernetes serving: workloads under the "restricted" Pod Security Standard with a read-only root,
// images by digest, Guaranteed QoS, probed pods, rollouts that keep capacity; per stack, a
// disruption budget for each Deployment, a default-deny NetworkPolicy in each namespace workloads
// run in, and namespaces that enforce the restricted standard. Props are what `@pulumi/kubernetes`
// registers: the manifest's fields (metadata, spec) in the API's own camelCase.
import type { PolicyResource, ReportViolation, ResourceValidationArgs } from "@pulumi/policy";
import { checkov, controlTags, type PlatformPolicy } from "../lib/policy";
import { asArray, asRecord, asStrings, describe, type Props } from "../lib/resources";

export const K8S_TYPES = {
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  pod: "kubernetes:core/v1:Pod",
  job: "kubernetes:batch/v1:Job",
  cronJob: "kubernetes:batch/v1:CronJob",
  namespace: "kubernetes:core/v1:Namespace",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  podDisruptionBudget: "kubernetes:policy/v1:PodDisruptionBudget",
} as const;

/** The restricted standard's label (Kubernetes "Pod Security Admission"). */
export const ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";

/** Workload types and where each keeps its pod spec. */
const POD_SPEC_PATHS: Record<string, readonly string[]> = {
  [K8S_TYPES.deployment]: ["spec", "template", "spec"],
  [K8S_TYPES.statefulSet]: ["spec", "template", "spec"],
  [K8S_TYPES.daemonSet]: ["spec", "template", "spec"],
  [K8S_TYPES.job]: ["spec", "template", "spec"],
  [K8S_TYPES.cronJob]: ["spec", "jobTemplate", "spec", "template", "spec"],
  [K8S_TYPES.pod]: ["spec"],
};
/** Workloads that serve until replaced, so they must be probed (a Job runs to completion). */
const LONG_RUNNING: readonly string[] = [K8S_TYPES.deployment, K8S_TYPES.statefulSet, K8S_TYPES.daemonSet, K8S_TYPES.pod];

const at = (props: Props, path: readonly string[]): Props | undefined => path.reduce<Props | undefined>((value, key) => asRecord(value?.[key]), props);

export function podSpecOf(type: string, props: Props): Props | undefined {
  const path = POD_SPEC_PATHS[type];
  return path ? at(props, path) : undefined;
}

interface Container {
  readonly kind: "container" | "init container";
  readonly name: string;
  readonly props: Props;
}

export function containersOf(spec: Props): Container[] {
  const list = (key: string, kind: Container["kind"]) =>
    asArray(spec[key])
      .map(asRecord)
      .filter((c): c is Props => c !== undefined)
      .map((c, i) => ({ kind, name: typeof c.name === "string" ? c.name : `#${i + 1}`, props: c }));
  return [...list("initContainers", "init container"), ...list("containers", "container")];
}

/** Runs `check` on each container of a workload; other resources are not applicable. */
function validateContainers(
  check: (c: Container, pod: Props, args: ResourceValidationArgs) => string[],
  types: readonly string[] = Object.keys(POD_SPEC_PATHS),
) {
  return (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    if (!types.includes(args.type)) return args.notApplicable("not a Kubernetes workload");
    const pod = podSpecOf(args.type, args.props);
    if (!pod) return reportViolation(`${describe(args)}: has no pod spec`);
    for (const c of containersOf(pod)) {
      for (const problem of check(c, pod, args)) reportViolation(`${describe(args)}: ${c.kind} "${c.name}": ${problem}`);
    }
  };
}

const sc = (c: Container) => asRecord(c.props.securityContext) ?? {};
const podSc = (pod: Props) => asRecord(pod.securityContext) ?? {};

export const kubernetesRestrictedPodSecurity: PlatformPolicy = {
  name: "kubernetes-restricted-pod-security",
  description:
    "Kubernetes workloads meet the restricted Pod Security Standard: non-root, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp, no host namespaces.",
  severity: "high",
  controls: [checkov("CKV_K8S_20"), checkov("CKV_K8S_23"), checkov("CKV_K8S_28"), checkov("CKV_K8S_37"), checkov("CKV_K8S_31")],
  validateResource: [
    (args, reportViolation) => {
      const pod = POD_SPEC_PATHS[args.type] ? podSpecOf(args.type, args.props) : undefined;
      if (!pod) return;
      for (const host of ["hostNetwork", "hostPID", "hostIPC"]) {
        if (pod[host] === true) reportViolation(`${describe(args)}: ${host} is true; the restricted standard forbids host namespaces`);
      }
    },
    validateContainers((c, pod) => {
      const s = sc(c);
      const problems: string[] = [];
      // The container's setting overrides the pod's; either may carry runAsNonRoot and seccomp.
      if ((s.runAsNonRoot ?? podSc(pod).runAsNonRoot) !== true) problems.push("runAsNonRoot is not true (container or pod securityContext)");
      if (s.runAsUser === 0 || (s.runAsUser === undefined && podSc(pod).runAsUser === 0)) problems.push("runAsUser is 0 (root)");
      if (s.privileged === true) problems.push("privileged is true");
      if (s.allowPrivilegeEscalation !== false)
        problems.push(`allowPrivilegeEscalation is ${JSON.stringify(s.allowPrivilegeEscalation ?? null)}; set it to false`);
      const caps = asRecord(s.capabilities) ?? {};
      if (!asStrings(caps.drop).includes("ALL")) problems.push('capabilities.drop does not include "ALL"');
      // The restricted standard allows adding back NET_BIND_SERVICE only.
      const added = asStrings(caps.add).filter((cap) => cap !== "NET_BIND_SERVICE");
      if (added.length > 0) problems.push(`capabilities.add has ${added.join(", ")}; only NET_BIND_SERVICE may be added`);
      const seccomp = asRecord(s.seccompProfile)?.type ?? asRecord(podSc(pod).seccompProfile)?.type;
      if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost")
        problems.push(`seccompProfile.type is ${JSON.stringify(seccomp ?? null)}; set "RuntimeDefault" (container or pod securityContext)`);
      return problems;
    }),
  ],
};

export const kubernetesReadOnlyRoot: PlatformPolicy = {
  name: "kubernetes-read-only-root-filesystem",
  description: "Every container of a Kubernetes workload runs with a read-only root filesystem (writable paths are volumes).",
  severity: "medium",
  controls: [checkov("CKV_K8S_22")],
  validateResource: validateContainers((c) =>
    sc(c).readOnlyRootFilesystem === true
      ? []
      : [`readOnlyRootFilesystem is ${JSON.stringify(sc(c).readOnlyRootFilesystem ?? null)}; set it to true and mount an emptyDir where it writes`],
  ),
};

/** `registry/repo@sha256:<64 hex>`: a digest names one image for good; a tag can move. */
export const DIGEST_PATTERN = /@sha256:[0-9a-f]{64}$/;

export const kubernetesImageDigest: PlatformPolicy = {
  name: "kubernetes-image-digest",
  description: "Every container image of a Kubernetes workload is pinned by digest.",
  severity: "high",
  controls: [checkov("CKV_K8S_43")],
  validateResource: validateContainers((c) =>
    typeof c.props.image === "string" && DIGEST_PATTERN.test(c.props.image)
      ? []
      : [`image ${JSON.stringify(c.props.image ?? null)} is not pinned by digest (<repository>@sha256:<digest>)`],
  ),
};

export const kubernetesRequestsEqualLimits: PlatformPolicy = {
  name: "kubernetes-requests-equal-limits",
  description: "Every container sets CPU and memory requests equal to its limits (Guaranteed QoS: evicted last, never borrowing CPU it may not get).",
  severity: "medium",
  controls: [checkov("CKV_K8S_10"), checkov("CKV_K8S_11"), checkov("CKV_K8S_12"), checkov("CKV_K8S_13")],
  validateResource: validateContainers((c) => {
    const resources = asRecord(c.props.resources) ?? {};
    const requests = asRecord(resources.requests) ?? {};
    const limits = asRecord(resources.limits) ?? {};
    return ["cpu", "memory"].flatMap((r) => {
      if (limits[r] === undefined) return [`resources.limits.${r} is not set`];
      // Kubernetes defaults a missing request to the limit, which is Guaranteed too.
      if (requests[r] !== undefined && String(requests[r]) !== String(limits[r]))
        return [`resources.requests.${r} (${String(requests[r])}) differs from limits.${r} (${String(limits[r])})`];
      return [];
    });
  }),
};

export const kubernetesProbes: PlatformPolicy = {
  name: "kubernetes-probes",
  description: "Every serving container of a long-running Kubernetes workload has startup, readiness and liveness probes.",
  severity: "medium",
  controls: [checkov("CKV_K8S_8"), checkov("CKV_K8S_9")],
  validateResource: validateContainers(
    (c) =>
      c.kind === "init container"
        ? []
        : ["startupProbe", "readinessProbe", "livenessProbe"].filter((p) => asRecord(c.props[p]) === undefined).map((p) => `${p} is not set`),
    LONG_RUNNING,
  ),
};

export const kubernetesRollingUpdate: PlatformPolicy = {
  name: "kubernetes-rolling-update-keeps-capacity",
  description:
    "Deployments roll out by surging, never by taking a ready pod away first (RollingUpdate with maxUnavailable 0), so an update never goes below the disruption budget.",
  severity: "medium",
  controls: [],
  validateResource: (args, reportViolation) => {
    if (args.type !== K8S_TYPES.deployment) return args.notApplicable("not a Deployment");
    const strategy = at(args.props, ["spec", "strategy"]) ?? {};
    if ((strategy.type ?? "RollingUpdate") !== "RollingUpdate")
      return reportViolation(`${describe(args)}: strategy.type is ${JSON.stringify(strategy.type)}; use "RollingUpdate" (Recreate stops every pod first)`);
    const maxUnavailable = asRecord(strategy.rollingUpdate)?.maxUnavailable;
    // The API's default is 25%.
    if (maxUnavailable !== 0 && maxUnavailable !== "0%") {
      reportViolation(`${describe(args)}: strategy.rollingUpdate.maxUnavailable is ${JSON.stringify(maxUnavailable ?? "25%")}; set it to 0 (and maxSurge ≥ 1)`);
    }
  },
};

export const kubernetesNamespaceRestricted: PlatformPolicy = {
  name: "kubernetes-namespace-restricted",
  description: `Namespaces the stack creates enforce the restricted Pod Security Standard (label ${ENFORCE_LABEL}: restricted), so the API server rejects any pod that breaks it.`,
  severity: "high",
  controls: [],
  validateResource: (args, reportViolation) => {
    if (args.type !== K8S_TYPES.namespace) return args.notApplicable("not a Namespace");
    const value = asRecord(at(args.props, ["metadata"])?.labels)?.[ENFORCE_LABEL];
    if (value !== "restricted") reportViolation(`${describe(args)}: label ${ENFORCE_LABEL} is ${JSON.stringify(value ?? null)}; set it to "restricted"`);
  },
};

const namespaceOf = (r: PolicyResource): string => {
  const ns = at(r.props, ["metadata"])?.namespace;
  return typeof ns === "string" && ns !== "" ? ns : "default";
};
const matchLabels = (selector: unknown): Record<string, unknown> | undefined => asRecord(asRecord(selector)?.matchLabels);
/** Whether a label selector's matchLabels all hold on `labels` (selectors with matchExpressions are not read: conservative). */
const selects = (selector: unknown, labels: Record<string, unknown>): boolean => {
  const wanted = matchLabels(selector);
  if (!wanted || asArray(asRecord(selector)?.matchExpressions).length > 0) return false;
  return Object.entries(wanted).every(([k, v]) => labels[k] === v);
};

export const kubernetesDisruptionBudget: PlatformPolicy = {
  name: "kubernetes-disruption-budget",
  description: "Each Deployment has a PodDisruptionBudget in its namespace selecting its pods, so a node drain cannot take them all.",
  severity: "medium",
  controls: [],
  validateStack: (args, reportViolation) => {
    const deployments = args.resources.filter((r) => r.type === K8S_TYPES.deployment);
    if (deployments.length === 0) return args.notApplicable("no Deployments in the stack");
    const budgets = args.resources.filter((r) => r.type === K8S_TYPES.podDisruptionBudget);
    for (const d of deployments) {
      const podLabels = asRecord(at(d.props, ["spec", "template", "metadata"])?.labels) ?? {};
      const covered = budgets.some((b) => namespaceOf(b) === namespaceOf(d) && selects(at(b.props, ["spec"])?.selector, podLabels));
      if (!covered)
        reportViolation(
          `${describe(d)}: no PodDisruptionBudget in namespace "${namespaceOf(d)}" selects its pods (spec.selector.matchLabels ⊆ the pod template's labels); add one`,
          d.urn,
        );
    }
  },
};

/** A policy selecting every pod (`podSelector: {}`) for both directions with no rule: all traffic denied. */
export function isDefaultDeny(policy: Props): boolean {
  const spec = at(policy, ["spec"]) ?? {};
  const selector = asRecord(spec.podSelector);
  const everyPod = selector !== undefined && Object.keys(asRecord(selector.matchLabels) ?? {}).length === 0 && asArray(selector.matchExpressions).length === 0;
  const types = asStrings(spec.policyTypes);
  return everyPod && types.includes("Ingress") && types.includes("Egress") && asArray(spec.ingress).length === 0 && asArray(spec.egress).length === 0;
}

export const kubernetesDefaultDeny: PlatformPolicy = {
  name: "kubernetes-namespace-default-deny",
  description:
    "Each namespace the stack's workloads run in has a default-deny NetworkPolicy (every pod, ingress and egress, no rules); workload policies then open what is needed.",
  severity: "high",
  controls: [checkov("CKV2_K8S_6", "analogous: every pod under a NetworkPolicy")],
  validateStack: (args, reportViolation) => {
    const workloads = args.resources.filter((r) => POD_SPEC_PATHS[r.type] !== undefined);
    if (workloads.length === 0) return args.notApplicable("no Kubernetes workloads in the stack");
    const denied = new Set(args.resources.filter((r) => r.type === K8S_TYPES.networkPolicy && isDefaultDeny(r.props)).map(namespaceOf));
    for (const ns of [...new Set(workloads.map(namespaceOf))].filter((n) => !denied.has(n))) {
      const first = workloads.find((w) => namespaceOf(w) === ns)!;
      reportViolation(
        `namespace "${ns}" (of ${describe(first)}) has no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules); add one`,
        first.urn,
      );
    }
  },
};

export const kubernetesPolicies: PlatformPolicy[] = [
  kubernetesRestrictedPodSecurity,
  kubernetesReadOnlyRoot,
  kubernetesImageDigest,
  kubernetesRequestsEqualLimits,
  kubernetesProbes,
  kubernetesRollingUpdate,
  kubernetesNamespaceRestricted,
  kubernetesDisruptionBudget,
  kubernetesDefaultDeny,
].map((p) => ({ ...p, tags: controlTags(p.controls) }));
