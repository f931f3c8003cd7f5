// Serving the pinned model from an existing Kubernetes cluster: the same ml-core image (by digest)
// and artifact as a SageMaker endpoint, under the "restricted" Pod Security Standard. The manifests
// are pure functions of the settings (tested directly); the component only wires them.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { KubernetesServingSettings } from "../config";
import type { PodIdentity } from "./pod-identity";

import Input = k8s.types.input;

/** Where ml-core serves, on SageMaker and Kubernetes alike (SAGEMAKER_BIND_TO_PORT's default). */
export const SERVING_PORT = 8080;
/** Open Inference Protocol health routes ml-core serves beside /ping (OIP v2 REST, "Health"). */
export const HEALTH_ROUTES = { live: "/v2/health/live", ready: "/v2/health/ready" } as const;
/** Where ml-core reads the model, as on SageMaker (`$SAGEMAKER_BASE_DIR/model`). */
export const MODEL_DIR = "/opt/ml/model";
/** The zone label every cloud's nodes carry (Kubernetes "Well-Known Labels"). */
export const ZONE_KEY = "topology.kubernetes.io/zone";
/** The EKS Pod Identity agent's link-local credentials endpoint (EKS User Guide, "Set up the EKS Pod Identity Agent"). */
export const POD_IDENTITY_AGENT = { cidr: "169.254.170.23/32", port: 80 } as const;
/** Grace beyond preStop + drain before the kubelet's SIGKILL, so the exit is ml-core's own. */
export const TERMINATION_MARGIN_SECONDS = 5;

/** What the manifests are built from: settings plus what the program resolved. */
export interface ServingManifestArgs {
  readonly serving: KubernetesServingSettings;
  /** The ml-core image, by digest. */
  readonly image: string;
  /** The pinned model.tar.gz in this stack's artifact bucket. */
  readonly artifactUri: string;
  readonly region: string;
  readonly namespace: string;
  /** Name of the Deployment, Service and ServiceAccount; the instance label. */
  readonly name: string;
}

export function labels(name: string): Record<string, string> {
  return { "app.kubernetes.io/name": "ml-core", "app.kubernetes.io/instance": name, "app.kubernetes.io/part-of": "ml-platform" };
}

/** Seconds the kubelet waits after starting termination: the preStop pause, ml-core's drain, a margin. */
export function terminationGracePeriodSeconds(serving: KubernetesServingSettings): number {
  return serving.preStopSeconds + serving.drainSeconds + TERMINATION_MARGIN_SECONDS;
}

/** The "restricted" Pod Security Standard, container level. */
export function restrictedContainerSecurity(): Input.core.v1.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export function podSpec(a: ServingManifestArgs): Input.core.v1.PodSpec {
  const s = a.serving;
  // Requests equal limits: Guaranteed QoS, evicted last, no CPU borrowed under load test and missing in production.
  const resources = { requests: { ...s.resources }, limits: { ...s.resources } };
  const probe = (path: string, periodSeconds: number, failureThreshold: number): Input.core.v1.Probe => ({
    httpGet: { path, port: "http" },
    periodSeconds,
    failureThreshold,
    // ml-core answers health checks within 2 s even under a large batch (PING_TIMEOUT_MS).
    timeoutSeconds: 2,
  });
  const download = { name: "download", mountPath: "/download" };
  const tmp = { name: "tmp", mountPath: "/tmp" };
  return {
    serviceAccountName: a.name,
    // Pods never call the Kubernetes API; Pod Identity and IRSA inject their own credentials.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: s.runAsUser,
      runAsGroup: s.runAsUser,
      fsGroup: s.runAsUser,
      seccompProfile: { type: "RuntimeDefault" },
    },
    terminationGracePeriodSeconds: terminationGracePeriodSeconds(s),
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: ZONE_KEY,
        whenUnsatisfiable: s.zoneSpread === "required" ? "DoNotSchedule" : "ScheduleAnyway",
        labelSelector: { matchLabels: labels(a.name) },
      },
    ],
    // The model is laid out before ml-core starts, so ml-core reads /opt/ml/model as on SageMaker
    // and imports no cloud SDK: the AWS CLI image downloads, the ml-core image itself unpacks (its
    // Debian base has tar; the fetcher's base is not ours to rely on).
    initContainers: [
      {
        name: "fetch-model",
        image: s.fetcherImage,
        command: ["aws", "s3", "cp", "--only-show-errors", a.artifactUri, "/download/model.tar.gz"],
        env: [
          { name: "AWS_REGION", value: a.region },
          // The CLI writes its cache under $HOME; the root filesystem is read-only.
          { name: "HOME", value: "/tmp" },
        ],
        resources,
        securityContext: restrictedContainerSecurity(),
        volumeMounts: [download, tmp],
      },
      {
        name: "unpack-model",
        image: a.image,
        command: ["tar", "--extract", "--gzip", "--no-same-owner", "--file", "/download/model.tar.gz", "--directory", MODEL_DIR],
        resources,
        securityContext: restrictedContainerSecurity(),
        volumeMounts: [{ ...download, readOnly: true }, { name: "model", mountPath: MODEL_DIR }, tmp],
      },
    ],
    containers: [
      {
        name: "ml-core",
        image: a.image,
        args: ["serve"],
        ports: [{ name: "http", containerPort: SERVING_PORT, protocol: "TCP" }],
        resources,
        securityContext: restrictedContainerSecurity(),
        volumeMounts: [{ name: "model", mountPath: MODEL_DIR, readOnly: true }, tmp],
        // The port opens once the model is loaded: startup allows a minute for a large model.
        startupProbe: probe(HEALTH_ROUTES.ready, 2, 30),
        readinessProbe: probe(HEALTH_ROUTES.ready, 5, 2),
        livenessProbe: probe(HEALTH_ROUTES.live, 10, 3),
        // Keep serving while endpoints and load balancers drop the pod, then SIGTERM starts the drain.
        lifecycle: { preStop: { sleep: { seconds: s.preStopSeconds } } },
      },
    ],
    volumes: [
      { name: "download", emptyDir: {} },
      { name: "model", emptyDir: {} },
      { name: "tmp", emptyDir: {} },
    ],
  };
}

/**
 * The Deployment. A model update (a new pin) is a rolling update that adds a pod before removing
 * one (maxSurge 1, maxUnavailable 0): capacity never drops below the current replicas, hence never
 * below the disruption budget. `replicas` is left to the autoscaler: setting it here would reset a
 * scaled-out Deployment to the minimum on every update.
 */
export function deploymentSpec(a: ServingManifestArgs): Input.apps.v1.DeploymentSpec {
  return {
    selector: { matchLabels: labels(a.name) },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    // A pod must stay ready this long before the rollout counts it and moves on.
    minReadySeconds: 10,
    template: { metadata: { labels: labels(a.name) }, spec: podSpec(a) },
  };
}

export function serviceSpec(a: ServingManifestArgs): Input.core.v1.ServiceSpec {
  return {
    type: "ClusterIP",
    selector: labels(a.name),
    ports: [{ name: "http", port: SERVING_PORT, targetPort: "http", protocol: "TCP" }],
  };
}

/** CPU by default; in-flight requests per pod where a metrics adapter serves that metric. */
export function autoscalerSpec(a: ServingManifestArgs, deploymentName: pulumi.Input<string>): Input.autoscaling.v2.HorizontalPodAutoscalerSpec {
  const { minReplicas, maxReplicas, targetCpuUtilizationPercent, inFlightRequests } = a.serving.autoscaling;
  const metric: Input.autoscaling.v2.MetricSpec = inFlightRequests
    ? {
        type: "Pods",
        pods: { metric: { name: inFlightRequests.metricName }, target: { type: "AverageValue", averageValue: String(inFlightRequests.targetPerPod) } },
      }
    : { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: targetCpuUtilizationPercent } } };
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deploymentName },
    minReplicas,
    maxReplicas,
    metrics: [metric],
  };
}

export function disruptionBudgetSpec(a: ServingManifestArgs): Input.policy.v1.PodDisruptionBudgetSpec {
  return {
    minAvailable: a.serving.minAvailable ?? a.serving.autoscaling.minReplicas,
    selector: { matchLabels: labels(a.name) },
    // A pod that never became ready protects nothing; without this it would block node drains.
    unhealthyPodEvictionPolicy: "AlwaysAllow",
  };
}

/** Denies all ingress and egress to every pod of the namespace; the serving policy opens what is needed. */
export function defaultDenySpec(): Input.networking.v1.NetworkPolicySpec {
  return { podSelector: {}, policyTypes: ["Ingress", "Egress"] };
}

/**
 * The serving pods' traffic: in, on the serving port from the configured namespaces only; out,
 * cluster DNS, HTTPS (the model fetch: S3, STS for IRSA) and the Pod Identity agent.
 */
export function servingNetworkSpec(a: ServingManifestArgs): Input.networking.v1.NetworkPolicySpec {
  const s = a.serving;
  const egress: Input.networking.v1.NetworkPolicyEgressRule[] = [
    {
      to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    },
    { to: s.egressHttpsCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: 443 }] },
  ];
  if (s.identity.mode === "podIdentity") {
    egress.push({ to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT.cidr } }], ports: [{ protocol: "TCP", port: POD_IDENTITY_AGENT.port }] });
  }
  return {
    podSelector: { matchLabels: labels(a.name) },
    policyTypes: ["Ingress", "Egress"],
    ingress:
      s.allowIngressFromNamespaces.length === 0
        ? []
        : [
            {
              from: s.allowIngressFromNamespaces.map((ns) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } })),
              ports: [{ protocol: "TCP", port: SERVING_PORT }],
            },
          ],
    egress,
  };
}

/** The cluster from config: a kubeconfig context, or the kubeconfig another stack exports. No cluster is created. */
export function clusterProvider(name: string, cluster: KubernetesServingSettings["cluster"], opts?: pulumi.CustomResourceOptions): k8s.Provider {
  if (cluster.stackReference !== undefined) {
    const ref = new pulumi.StackReference(`${name}-cluster`, { name: cluster.stackReference }, opts);
    return new k8s.Provider(name, { kubeconfig: ref.requireOutput(cluster.kubeconfigOutput).apply(String) }, opts);
  }
  return new k8s.Provider(name, { context: cluster.context }, opts);
}

export interface KubernetesServingArgs {
  readonly serving: KubernetesServingSettings;
  /** The pinned version: the ml-core image by digest and its artifact. */
  readonly model: { readonly image: string; readonly artifactUri: string };
  readonly region: string;
  /** The namespace to create. */
  readonly namespace: string;
  /** Name of the Deployment, Service and ServiceAccount. */
  readonly name: string;
  /** The pods' AWS identity (its role ARN goes on the service account for IRSA). */
  readonly identity: PodIdentity;
  /** The cluster's provider (see `clusterProvider`). */
  readonly provider: k8s.Provider;
}

/** The pinned model served on Kubernetes: namespace, identity, Deployment, Service, HPA, PDB, network policies. */
export class KubernetesServing extends pulumi.ComponentResource {
  readonly namespaceName: pulumi.Output<string>;
  readonly serviceName: pulumi.Output<string>;
  readonly deploymentName: pulumi.Output<string>;

  constructor(name: string, args: KubernetesServingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:serving:KubernetesServing", name, {}, { ...opts, providers: [args.provider] });
    const child = { parent: this, provider: args.provider };
    const a: ServingManifestArgs = {
      serving: args.serving,
      image: args.model.image,
      artifactUri: args.model.artifactUri,
      region: args.region,
      namespace: args.namespace,
      name: args.name,
    };
    const meta = (extra: Input.meta.v1.ObjectMeta = {}) => ({ namespace: ns.metadata.name, name: args.name, labels: labels(args.name), ...extra });

    // Fixed names: clients, the Pod Identity association and `kubectl rollout` know them in advance.
    const ns = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: args.namespace,
          labels: {
            "app.kubernetes.io/part-of": "ml-platform",
            // The API server rejects any pod here that breaks the restricted standard, not only ours.
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
          },
        },
      },
      child,
    );

    const sa = new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      {
        metadata: meta({
          annotations:
            args.serving.identity.mode === "irsa"
              ? { "eks.amazonaws.com/role-arn": args.identity.arn, "eks.amazonaws.com/sts-regional-endpoints": "true" }
              : undefined,
        }),
        automountServiceAccountToken: false,
      },
      child,
    );

    new k8s.networking.v1.NetworkPolicy(
      `${name}-default-deny`,
      { metadata: { namespace: ns.metadata.name, name: "default-deny", labels: labels(args.name) }, spec: defaultDenySpec() },
      child,
    );
    const network = new k8s.networking.v1.NetworkPolicy(`${name}-network`, { metadata: meta(), spec: servingNetworkSpec(a) }, child);

    // Pods fetch the model as they start: the role must be able to read it, the association must
    // exist, and egress must be open before the first pod is scheduled.
    const before = [sa, network, args.identity.permissions, ...(args.identity.association ? [args.identity.association] : [])];
    const deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, { metadata: meta(), spec: deploymentSpec(a) }, { ...child, dependsOn: before });

    const service = new k8s.core.v1.Service(`${name}-service`, { metadata: meta(), spec: serviceSpec(a) }, child);
    new k8s.autoscaling.v2.HorizontalPodAutoscaler(`${name}-autoscaler`, { metadata: meta(), spec: autoscalerSpec(a, deployment.metadata.name) }, child);
    new k8s.policy.v1.PodDisruptionBudget(`${name}-disruption-budget`, { metadata: meta(), spec: disruptionBudgetSpec(a) }, child);

    this.namespaceName = ns.metadata.name;
    this.serviceName = service.metadata.name;
    this.deploymentName = deployment.metadata.name;
    this.registerOutputs({ namespaceName: this.namespaceName, serviceName: this.serviceName, deploymentName: this.deploymentName });
  }
}
