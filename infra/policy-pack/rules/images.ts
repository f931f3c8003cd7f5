// ECR repositories: scanned on push, immutable tags, encrypted with KMS, expiring old images.
import { checkov, controlTags, securityHub, validateResourceOfType, type PlatformPolicy } from "../lib/policy";
import { customerKeyProblem } from "../lib/documents";
import { asArray, asRecord, describe, parseJson, refersTo } from "../lib/resources";
import { TYPES, type EcrRepositoryProps } from "../lib/types";

export const ecrScanOnPush: PlatformPolicy = {
  name: "ecr-scan-on-push",
  description: "ECR repositories scan every image for vulnerabilities when it is pushed.",
  severity: "high",
  controls: [securityHub("ECR.1", "repository-level scan on push; ECR.1 also accepts registry-level enhanced scanning"), checkov("CKV_AWS_163")],
  validateResource: validateResourceOfType<EcrRepositoryProps>(TYPES.ecrRepository, (repo, args, reportViolation) => {
    if (repo.imageScanningConfiguration?.scanOnPush !== true) {
      reportViolation(
        `${describe(args)}: imageScanningConfiguration.scanOnPush is ${JSON.stringify(repo.imageScanningConfiguration?.scanOnPush ?? null)}; set it to true`,
      );
    }
  }),
};

export const ecrImmutableTags: PlatformPolicy = {
  name: "ecr-immutable-tags",
  description: "ECR repositories make image tags immutable, so a tag always names the same image.",
  severity: "medium",
  controls: [securityHub("ECR.2"), checkov("CKV_AWS_51")],
  validateResource: validateResourceOfType<EcrRepositoryProps>(TYPES.ecrRepository, (repo, args, reportViolation) => {
    // IMMUTABLE_WITH_EXCLUSION lets matching tags move again, so it is not accepted either.
    if (repo.imageTagMutability !== "IMMUTABLE") {
      reportViolation(`${describe(args)}: imageTagMutability is ${JSON.stringify(repo.imageTagMutability ?? "MUTABLE")}; set it to "IMMUTABLE"`);
    }
  }),
};

export const ecrKmsEncryption: PlatformPolicy = {
  name: "ecr-kms-encryption",
  description: "ECR repositories encrypt images with a customer-managed KMS key (not AES-256, not the AWS managed aws/ecr key).",
  severity: "medium",
  controls: [checkov("CKV_AWS_136")],
  validateResource: (args, reportViolation) => {
    // aws-native spells the list as one `encryptionConfiguration`.
    if (args.type !== TYPES.ecrRepository && args.type !== "aws-native:ecr:Repository") return args.notApplicable("not an ECR repository");
    const configs = [...asArray(args.props.encryptionConfigurations), ...asArray(args.props.encryptionConfiguration)].map(asRecord);
    const kms = configs.filter((c) => c?.encryptionType === "KMS" || c?.encryptionType === "KMS_DSSE");
    if (kms.length === 0) {
      return reportViolation(
        `${describe(args)}: encryptionConfigurations[].encryptionType is ${JSON.stringify(configs[0]?.encryptionType ?? "AES256")}; set it to "KMS" with the platform key`,
      );
    }
    // KMS without a key means the AWS managed aws/ecr key.
    const problem = kms.map((c) => customerKeyProblem(c?.kmsKey)).find((p) => p !== undefined);
    if (problem) reportViolation(`${describe(args)}: encryptionConfigurations[].kmsKey: ${problem}`);
  },
};

export const ecrLifecyclePolicy: PlatformPolicy = {
  name: "ecr-lifecycle-policy",
  description: "ECR repositories have a lifecycle policy that expires superseded images.",
  severity: "low",
  controls: [securityHub("ECR.3")],
  validateStack: (args, reportViolation) => {
    const repos = args.resources.filter((r) => r.type === TYPES.ecrRepository);
    if (repos.length === 0) return args.notApplicable("no ECR repositories in the stack");
    const policies = args.resources.filter((r) => r.type === TYPES.ecrLifecyclePolicy);
    for (const repo of repos) {
      const attached = policies.filter((p) => refersTo(p, "repository", repo, [repo.props.name]));
      const hasRules = attached.some((p) => asArray(asRecord(parseJson(p.props.policy))?.rules).length > 0);
      if (!hasRules) reportViolation(`${describe(repo)}: has no ECR LifecyclePolicy with at least one rule; add one that expires untagged images`, repo.urn);
    }
  },
};

export const imagePolicies: PlatformPolicy[] = [ecrScanOnPush, ecrImmutableTags, ecrKmsEncryption, ecrLifecyclePolicy].map((p) => ({
  ...p,
  tags: controlTags(p.controls),
}));
