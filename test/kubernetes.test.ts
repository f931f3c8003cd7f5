// The dev-k8s stack under mocks: what a Kubernetes environment creates, every manifest checked
// against the Kubernetes API schema, and the pod, rollout and network settings a user relies on.
import { beforeAll, describe, expect, it } from "vitest";
import type { PlanResult, PlannedResource } from "../infra/offline/mock-run";
import { readStackConfig } from "../infra/offline/mock-run";
import { json, ofType, one, planStack } from "./helpers/platform";
import { KUBERNETES_SCHEMA_VERSION, manifestOf, validateManifest } from "../infra/offline/kubernetes-schema";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const pinned = JSON.parse(readStackConfig("dev-k8s")["mlPlatform:model"]!) as { image: string; artifactUri: string; packageArn: string };
const serving = JSON.parse(readStackConfig("dev-k8s")["mlPlatform:serving"]!) as Record<string, any>;

let plan: PlanResult;
beforeAll(async () => {
  plan = await planStack("dev-k8s");
});

const kubernetesResources = () => plan.resources.filter((r) => r.type.startsWith("kubernetes:"));
const podSpec = (p: PlanResult = plan) => one(p, DEPLOYMENT).inputs.spec.template.spec;
const allContainers = (spec: any): any[] => [...spec.initContainers, ...spec.containers];
const container = (spec: any, name: string) => allContainers(spec).find((c) => c.name === name);
const countByType = (resources: PlannedResource[]) =>
  Object.fromEntries([...new Set(resources.map((r) => r.type))].map((t) => [t, resources.filter((r) => r.type === t).length]));

describe("the dev-k8s stack", () => {
  it("serves from Kubernetes, not from a SageMaker endpoint", () => {
    expect(countByType(kubernetesResources())).toEqual({
      "kubernetes:core/v1:Namespace": 1,
      "kubernetes:core/v1:ServiceAccount": 1,
      "kubernetes:core/v1:Service": 1,
      "kubernetes:networking.k8s.io/v1:NetworkPolicy": 2,
      "kubernetes:apps/v1:Deployment": 1,
      "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": 1,
      "kubernetes:policy/v1:PodDisruptionBudget": 1,
    });
    expect(plan.resources.filter((r) => r.type.startsWith("aws:sagemaker/") && r.type !== "aws:sagemaker/modelPackageGroup:ModelPackageGroup")).toEqual([]);
    expect(plan.resources.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm")).toEqual([]);
    expect(plan.outputs.endpointName).toBeUndefined();
  });

  it("still creates the platform's target-independent parts (store, key, registry, repositories, roles), and no SageMaker-only role", () => {
    // Datasets, artifacts, and the access-log bucket both log to.
    expect(ofType(plan, "aws:s3/bucket:Bucket")).toHaveLength(3);
    one(plan, "aws:kms/key:Key");
    one(plan, "aws:sagemaker/modelPackageGroup:ModelPackageGroup");
    one(plan, "aws:ecr/repository:Repository");
    expect(
      ofType(plan, "aws:iam/role:Role")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["approver-role", "deployer-role", "serving-identity-role", "training-execution-role"]);
    // SageMaker's hosting role and endpoint-updater have nothing to do on a Kubernetes stack.
  });

  it("deploys every Kubernetes object through the provider of the configured kubeconfig context, creating no cluster", () => {
    const provider = one(plan, "pulumi:providers:kubernetes");
    expect(provider.inputs.context).toBe(serving.cluster.context);
    expect(plan.resources.filter((r) => r.type.startsWith("aws:eks/cluster"))).toEqual([]);
    for (const r of kubernetesResources()) expect(r.provider, r.name).toBe(provider.name);
  });

  it("runs the pinned ml-core image by digest in every ml-core container, and the fetcher by digest", () => {
    const spec = podSpec();
    expect(container(spec, "ml-core").image).toBe(pinned.image);
    expect(container(spec, "unpack-model").image).toBe(pinned.image);
    expect(container(spec, "fetch-model").image).toBe(serving.fetcherImage);
    for (const c of allContainers(spec)) expect(c.image).toMatch(/@sha256:[0-9a-f]{64}$/);
  });

  it("is pinned to the same registry version as the SageMaker dev stack, with its artifact and image", () => {
    const dev = JSON.parse(readStackConfig("dev")["mlPlatform:model"]!) as { packageArn: string };
    expect(pinned.packageArn).toBe(dev.packageArn);
  });
});

describe(`every manifest, against the Kubernetes ${KUBERNETES_SCHEMA_VERSION} API schema`, () => {
  it("is valid", async () => {
    expect(kubernetesResources().length).toBeGreaterThan(0);
    for (const r of kubernetesResources()) await expect(validateManifest(r.type, manifestOf(r)), `${r.type} ${r.name}`).resolves.toBeUndefined();
  });

  it("a wrong field type fails the validator, naming the field", async () => {
    const broken = manifestOf(one(plan, DEPLOYMENT)) as any;
    broken.spec.template.spec.containers[0].ports[0].containerPort = "8080";
    await expect(validateManifest(DEPLOYMENT, broken)).rejects.toThrow(/containers\/0\/ports\/0\/containerPort must be integer/);
  });

  it("a missing required field fails the validator", async () => {
    const broken = manifestOf(one(plan, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")) as any;
    delete broken.spec.maxReplicas;
    await expect(validateManifest("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", broken)).rejects.toThrow(/maxReplicas/);
  });
});

describe("the pods", () => {
  it("meet the restricted Pod Security Standard, and the namespace enforces it", () => {
    const spec = podSpec();
    expect(spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } });
    for (const c of allContainers(spec)) {
      expect(c.securityContext, c.name).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      });
      // A read-only root: /tmp is an emptyDir.
      expect(c.volumeMounts, c.name).toContainEqual({ name: "tmp", mountPath: "/tmp" });
    }
    expect(spec.volumes).toContainEqual({ name: "tmp", emptyDir: {} });
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(one(plan, "kubernetes:core/v1:Namespace").inputs.metadata.labels).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted" });
  });

  it("request exactly what they are limited to", () => {
    for (const c of allContainers(podSpec())) expect(c.resources, c.name).toEqual({ requests: serving.resources, limits: serving.resources });
  });

  it("get the pinned model at /opt/ml/model from init containers, so ml-core imports no cloud SDK", () => {
    const spec = podSpec();
    const fetch = container(spec, "fetch-model");
    expect(fetch.command).toEqual(["aws", "s3", "cp", "--only-show-errors", pinned.artifactUri, "/download/model.tar.gz"]);
    expect(container(spec, "unpack-model").volumeMounts).toContainEqual({ name: "model", mountPath: "/opt/ml/model" });
    const ml = container(spec, "ml-core");
    expect(ml.args).toEqual(["serve"]);
    expect(ml.volumeMounts).toContainEqual({ name: "model", mountPath: "/opt/ml/model", readOnly: true });
    expect(ml.env).toBeUndefined();
    expect(spec.volumes).toContainEqual({ name: "model", emptyDir: {} });
  });

  it("are probed on the Open Inference Protocol health routes, on the SageMaker port 8080", () => {
    const ml = container(podSpec(), "ml-core");
    expect(ml.ports).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
    expect(ml.startupProbe.httpGet).toEqual({ path: "/v2/health/ready", port: "http" });
    expect(ml.readinessProbe.httpGet).toEqual({ path: "/v2/health/ready", port: "http" });
    expect(ml.livenessProbe.httpGet).toEqual({ path: "/v2/health/live", port: "http" });
  });

  it("get longer to terminate than the preStop pause plus ml-core's drain", () => {
    const spec = podSpec();
    const ml = container(spec, "ml-core");
    expect(ml.lifecycle.preStop).toEqual({ sleep: { seconds: serving.preStopSeconds } });
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(serving.preStopSeconds + serving.drainSeconds);
  });

  it("spread across zones", () => {
    expect(podSpec().topologySpreadConstraints).toEqual([
      expect.objectContaining({ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway" }),
    ]);
  });

  it("refuse a skewed zone placement when the stack requires the spread", async () => {
    const required = await planStack("dev-k8s", { "mlPlatform:serving": { ...serving, zoneSpread: "required" } });
    expect(podSpec(required).topologySpreadConstraints[0].whenUnsatisfiable).toBe("DoNotSchedule");
  });
});

describe("a model update", () => {
  it("rolls pods one at a time, adding before removing, so it never goes below the disruption budget", () => {
    const deployment = one(plan, DEPLOYMENT).inputs.spec;
    expect(deployment.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    // The autoscaler owns the replica count; an update must not reset it.
    expect(deployment.replicas).toBeUndefined();
    const budget = one(plan, "kubernetes:policy/v1:PodDisruptionBudget").inputs.spec;
    expect(budget.minAvailable).toBe(serving.autoscaling.minReplicas);
    expect(budget.selector.matchLabels).toEqual(deployment.selector.matchLabels);
  });

  it("is a change of the pin: a new artifact and image reach every container that uses them", async () => {
    const image = pinned.image.replace(/@sha256:.*/, `@sha256:${"ab".repeat(32)}`);
    const artifactUri = pinned.artifactUri.replace("/7/", "/8/");
    const next = await planStack("dev-k8s", { "mlPlatform:model": { ...pinned, image, artifactUri } });
    expect(container(podSpec(next), "ml-core").image).toBe(image);
    expect(container(podSpec(next), "unpack-model").image).toBe(image);
    expect(container(podSpec(next), "fetch-model").command).toContain(artifactUri);
  });

  it("has nothing to roll out before a version is pinned", async () => {
    const empty = await planStack("dev-k8s", { "mlPlatform:model": undefined });
    expect(empty.resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes")).toEqual([]);
  });
});

describe("scaling", () => {
  it("scales on CPU by default between the configured bounds", () => {
    const hpa = one(plan, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs.spec;
    expect(hpa).toMatchObject({ minReplicas: 2, maxReplicas: 4, scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "flight-delays" } });
    expect(hpa.metrics).toEqual([{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }]);
  });

  it("scales on in-flight requests per pod where a metrics adapter serves them", async () => {
    const p = await planStack("dev-k8s", {
      "mlPlatform:serving": {
        ...serving,
        autoscaling: { ...serving.autoscaling, inFlightRequests: { metricName: "ml_core_in_flight_requests", targetPerPod: 4 } },
      },
    });
    const r = one(p, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
    expect(r.inputs.spec.metrics).toEqual([
      { type: "Pods", pods: { metric: { name: "ml_core_in_flight_requests" }, target: { type: "AverageValue", averageValue: "4" } } },
    ]);
    await validateManifest(r.type, manifestOf(r));
  });
});

describe("the network", () => {
  const policies = () => Object.fromEntries(ofType(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((r) => [r.inputs.metadata.name, r.inputs.spec]));

  it("denies everything to every pod of the namespace by default", () => {
    expect(policies()["default-deny"]).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("lets in only the configured namespaces, on the serving port", () => {
    expect(policies()["flight-delays"].ingress).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }], ports: [{ protocol: "TCP", port: 8080 }] },
    ]);
  });

  it("lets out only DNS, HTTPS for the model fetch and the Pod Identity agent", () => {
    const egress = policies()["flight-delays"].egress;
    expect(egress.map((e: any) => e.ports.map((p: any) => `${p.protocol}/${p.port}`).join(","))).toEqual(["UDP/53,TCP/53", "TCP/443", "TCP/80"]);
    expect(egress[2].to).toEqual([{ ipBlock: { cidr: "169.254.170.23/32" } }]);
  });

  it("lets nothing in when no namespace is allowed", async () => {
    const p = await planStack("dev-k8s", { "mlPlatform:serving": { ...serving, allowIngressFromNamespaces: [] } });
    const spec = ofType(p, "kubernetes:networking.k8s.io/v1:NetworkPolicy").find((r) => r.inputs.metadata.name === "flight-delays")!.inputs.spec;
    expect(spec.ingress).toEqual([]);
  });
});

describe("the pods' AWS identity", () => {
  it("is trusted by EKS Pod Identity for this account's cluster and this one service account only", () => {
    const role = ofType(plan, "aws:iam/role:Role").find((r) => r.name === "serving-identity-role")!;
    expect(json(role.inputs.assumeRolePolicy).Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: {
          StringEquals: {
            "aws:SourceAccount": "123456789012",
            "aws:RequestTag/kubernetes-namespace": "flight-delays",
            "aws:RequestTag/kubernetes-service-account": "flight-delays",
            "aws:RequestTag/eks-cluster-name": "ml-dev",
          },
        },
      }),
    ]);
    expect(one(plan, "aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs).toMatchObject({
      clusterName: "ml-dev",
      namespace: "flight-delays",
      serviceAccount: "flight-delays",
      roleArn: role.state.arn,
    });
  });

  it("may only read this stack's promoted models and decrypt them through S3", () => {
    const policy = json(ofType(plan, "aws:iam/rolePolicy:RolePolicy").find((r) => r.name === "serving-identity-permissions")!.inputs.policy);
    const bucket = ofType(plan, "aws:s3/bucket:Bucket").find((b) => b.name === "store-artifacts-bucket")!.state.arn;
    const key = one(plan, "aws:kms/key:Key").state.arn;
    expect(policy.Statement).toEqual([
      { Sid: "ReadPromotedModels", Effect: "Allow", Action: "s3:GetObject", Resource: `${bucket}/models/*` },
      {
        Sid: "DecryptThroughS3",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: key,
        Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } },
      },
    ]);
  });

  it("starts no pod before it can read the model", () => {
    expect(one(plan, DEPLOYMENT).dependsOn).toEqual(
      expect.arrayContaining(["serving-identity-permissions", "serving-identity-association", "kubernetes-network"]),
    );
  });

  it("with IRSA: trusts only the service account through the cluster's OIDC provider, and annotates it", async () => {
    const provider = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123";
    const p = await planStack("dev-k8s", { "mlPlatform:serving": { ...serving, identity: { mode: "irsa", oidcProviderArn: provider } } });
    const role = ofType(p, "aws:iam/role:Role").find((r) => r.name === "serving-identity-role")!;
    expect(json(role.inputs.assumeRolePolicy).Statement[0]).toMatchObject({
      Principal: { Federated: provider },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: {
          "oidc.eks.eu-west-1.amazonaws.com/id/ABC123:sub": "system:serviceaccount:flight-delays:flight-delays",
          "oidc.eks.eu-west-1.amazonaws.com/id/ABC123:aud": "sts.amazonaws.com",
        },
      },
    });
    expect(ofType(p, "aws:eks/podIdentityAssociation:PodIdentityAssociation")).toEqual([]);
    expect(one(p, "kubernetes:core/v1:ServiceAccount").inputs.metadata.annotations).toMatchObject({ "eks.amazonaws.com/role-arn": role.state.arn });
    // No agent to reach with IRSA: STS is on 443.
    const spec = ofType(p, "kubernetes:networking.k8s.io/v1:NetworkPolicy").find((r) => r.inputs.metadata.name === "flight-delays")!.inputs.spec;
    expect(spec.egress).toHaveLength(2);
  });
});

describe("the cluster", () => {
  it("may come from the cluster's own stack (a stack reference), offline too", async () => {
    const p = await planStack("dev-k8s", { "mlPlatform:serving": { ...serving, cluster: { stackReference: "acme/eks-cluster/dev" } } });
    const ref = one(p, "pulumi:pulumi:StackReference");
    expect(ref.inputs.name).toBe("acme/eks-cluster/dev");
    expect(one(p, "pulumi:providers:kubernetes").inputs.kubeconfig).toContain("kind: Config");
  });

  it("is rejected before anything is registered when the config is wrong", async () => {
    await expect(planStack("dev-k8s", { "mlPlatform:serving": { ...serving, mode: "serverless" } })).rejects.toThrow(
      "dev-k8s: mlPlatform:serving.mode is a SageMaker setting: not used with serving.target kubernetes (remove it)",
    );
  });
});
