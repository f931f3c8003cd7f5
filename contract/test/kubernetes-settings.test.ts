import { describe, expect, it } from "vitest";
import { isKubernetesStack, isSageMakerStack, parseStackSettings, type PlatformSettings } from "../src/settings";
import { stackConfig } from "./stacks";

type Settings = Record<string, any>;

/** A real stack's `mlPlatform:` keys (without the namespace), changed by `mutate`, then validated. */
function validate(stack: string, mutate: (settings: Settings) => void = () => {}) {
  const config = structuredClone(stackConfig(stack));
  const settings: Settings = Object.fromEntries(
    Object.entries(config)
      .filter(([k]) => k.startsWith("mlPlatform:"))
      .map(([k, v]) => [k.slice("mlPlatform:".length), v]),
  );
  mutate(settings);
  return parseStackSettings(stack, Object.fromEntries(Object.entries(settings).map(([k, v]) => [`mlPlatform:${k}`, v])));
}

function problems(stack: string, mutate: (settings: Settings) => void): string[] {
  const result = validate(stack, mutate);
  if (result.ok) throw new Error("expected the settings to be rejected");
  return result.problems.map((p) => p.text);
}

function settings(stack: string, mutate?: (settings: Settings) => void): PlatformSettings {
  const result = validate(stack, mutate);
  if (!result.ok) throw new Error(result.problems.map((p) => p.text).join("\n"));
  return result.settings;
}

describe("serving.target", () => {
  it("defaults to sagemaker, so the existing stacks keep their meaning", () => {
    const dev = settings("dev");
    expect(dev.serving.target).toBe("sagemaker");
    expect(isSageMakerStack(dev)).toBe(true);
    expect(isKubernetesStack(dev)).toBe(false);
  });

  it("is kubernetes in dev-k8s, with the defaults filled in", () => {
    const s = settings("dev-k8s", (c) => {
      delete c.serving.zoneSpread;
      delete c.serving.runAsUser;
    });
    if (!isKubernetesStack(s)) throw new Error("dev-k8s is not a Kubernetes stack");
    expect(s.serving).toMatchObject({
      zoneSpread: "preferred",
      runAsUser: 1000,
      preStopSeconds: 5,
      drainSeconds: 25,
      cluster: { kubeconfigOutput: "kubeconfig" },
    });
    expect(s.dataCapture).toBeUndefined();
    expect(s.alarms).toBeUndefined();
  });

  it("rejects an unknown target, naming the allowed ones", () => {
    expect(problems("dev", (c) => (c.serving.target = "nomad"))).toEqual(['dev: mlPlatform:serving.target ("nomad") must be one of: sagemaker, kubernetes']);
  });
});

describe("keys of the other target", () => {
  it.each([
    ["mode", "instances"],
    ["instanceType", "ml.m5.large"],
    ["memorySizeMb", 2048],
  ])("a SageMaker serving key (%s) on a Kubernetes stack is an error naming it", (key, value) => {
    expect(problems("dev-k8s", (c) => (c.serving[key] = value))).toEqual([
      `dev-k8s: mlPlatform:serving.${key} is a SageMaker setting: not used with serving.target kubernetes (remove it)`,
    ]);
  });

  it.each([["fetcherImage"], ["allowIngressFromNamespaces"], ["cluster"]])(
    "a Kubernetes serving key (%s) on a SageMaker stack is an error naming it",
    (key) => {
      const value = structuredClone((stackConfig("dev-k8s")["mlPlatform:serving"] as Settings)[key]);
      expect(problems("dev", (c) => (c.serving[key] = value))).toEqual([
        `dev: mlPlatform:serving.${key} is a Kubernetes setting: not used with serving.target sagemaker (remove it)`,
      ]);
    },
  );

  it.each([
    ["dataCapture", { enabled: false }],
    ["alarms", { invocation5xxErrors: 1, modelLatencyP99Ms: 100 }],
  ])("the SageMaker-only %s on a Kubernetes stack is an error", (key, value) => {
    expect(problems("dev-k8s", (c) => (c[key] = value))).toEqual([
      `dev-k8s: mlPlatform:${key} is a SageMaker setting: not used with serving.target kubernetes (remove it)`,
    ]);
  });

  it.each(["dataCapture", "alarms"])("%s is still required on a SageMaker stack", (key) => {
    expect(problems("staging", (c) => delete c[key])).toEqual([`staging: mlPlatform:${key} is missing (required with serving.target sagemaker)`]);
  });
});

describe("the pinned model of a Kubernetes stack", () => {
  it("must carry the artifact and image: a package ARN alone cannot be resolved at plan time", () => {
    expect(problems("dev-k8s", (c) => (c.model = { packageArn: c.model.packageArn }))).toEqual([
      "dev-k8s: mlPlatform:model.artifactUri is missing: a Kubernetes stack fetches the artifact itself, so it pins artifactUri and image (with packageArn for the record; `ml-deploy promote` writes all three)",
    ]);
  });

  it("must lie under the promoted models/ prefix the pods may read", () => {
    expect(problems("dev-k8s", (c) => (c.model.artifactUri = "s3://store-artifacts-bucket-3f9a2c1/training-output/job-1/output/model.tar.gz"))).toEqual([
      'dev-k8s: mlPlatform:model.artifactUri ("s3://store-artifacts-bucket-3f9a2c1/training-output/job-1/output/model.tar.gz") must lie under the artifact bucket\'s models/ prefix (promoted copies): the pods may read nothing else',
    ]);
  });

  it("may be absent: the platform is built, nothing is served yet", () => {
    expect(settings("dev-k8s", (c) => delete c.model).model).toBeUndefined();
  });

  it("a SageMaker stack pins the package or the artifact, not both", () => {
    expect(problems("dev", (c) => (c.model = stackConfig("dev-k8s")["mlPlatform:model"]))).toEqual([
      "dev: mlPlatform:model.packageArn cannot be set together with model.artifactUri on a SageMaker stack: pin either the package or the artifact + image",
    ]);
  });
});

describe("Kubernetes serving rules", () => {
  it.each<[string, (s: Settings) => void, string]>([
    [
      "no cluster",
      (s) => (s.serving.cluster = {}),
      "mlPlatform:serving.cluster must set exactly one of serving.cluster.context (a kubeconfig context) or serving.cluster.stackReference (the cluster's stack)",
    ],
    [
      "two clusters",
      (s) => (s.serving.cluster.stackReference = "acme/eks/dev"),
      "mlPlatform:serving.cluster must set exactly one of serving.cluster.context (a kubeconfig context) or serving.cluster.stackReference (the cluster's stack)",
    ],
    [
      "a bad stack reference",
      (s) => (s.serving.cluster = { stackReference: "eks-dev" }),
      'mlPlatform:serving.cluster.stackReference ("eks-dev") must be <organization>/<project>/<stack>',
    ],
    [
      "IRSA without a provider",
      (s) => (s.serving.identity = { mode: "irsa" }),
      "mlPlatform:serving.identity.oidcProviderArn is required when serving.identity.mode is irsa",
    ],
    [
      "a provider with Pod Identity",
      (s) => (s.serving.identity.oidcProviderArn = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"),
      "mlPlatform:serving.identity.oidcProviderArn is for serving.identity.mode irsa; Pod Identity needs no OIDC provider",
    ],
    [
      "min above max",
      (s) => (s.serving.autoscaling.minReplicas = 5),
      "mlPlatform:serving.autoscaling.minReplicas (5) exceeds serving.autoscaling.maxReplicas (4)",
    ],
    [
      "a budget above the floor",
      (s) => (s.serving.minAvailable = 3),
      "mlPlatform:serving.minAvailable (3) exceeds serving.autoscaling.minReplicas (2): node drains would block at minimum scale",
    ],
    [
      "a fetcher image by tag",
      (s) => (s.serving.fetcherImage = "amazon/aws-cli:latest"),
      'mlPlatform:serving.fetcherImage ("amazon/aws-cli:latest") must be an image pinned by digest (<registry>/<repository>@sha256:<64 hex>)',
    ],
    [
      "a bad CPU quantity",
      (s) => (s.serving.resources.cpu = "1 core"),
      'mlPlatform:serving.resources.cpu ("1 core") must be a Kubernetes CPU quantity such as 500m or 2',
    ],
    [
      "a bad namespace",
      (s) => (s.serving.namespace = "Flight_Delays"),
      "mlPlatform:serving.namespace (\"Flight_Delays\") must be a Kubernetes namespace name: lowercase letters, digits or '-', at most 63",
    ],
    ["a bad egress CIDR", (s) => (s.serving.egressHttpsCidrs = ["10.0.0.0/33"]), 'mlPlatform:serving.egressHttpsCidrs.0 ("10.0.0.0/33") Invalid IPv4 range'],
  ])("rejects %s, naming the key", (_, mutate, expected) => {
    expect(problems("dev-k8s", mutate)).toEqual([`dev-k8s: ${expected}`]);
  });

  it("accepts a cluster from a stack reference and IRSA", () => {
    const s = settings("dev-k8s", (c) => {
      c.serving.cluster = { stackReference: "acme/eks-cluster/dev" };
      c.serving.identity = { mode: "irsa", oidcProviderArn: "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC" };
    });
    expect(s.serving).toMatchObject({ cluster: { stackReference: "acme/eks-cluster/dev", kubeconfigOutput: "kubeconfig" }, identity: { mode: "irsa" } });
  });
});
