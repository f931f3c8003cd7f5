import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface ImageRepositoriesArgs {
  /** One private repository per image (e.g. "ml-core"). */
  readonly names: readonly string[];
  /** Key the images are encrypted with. */
  readonly kmsKey: aws.kms.Key;
  /** Days after which untagged images are expired. @default 7 */
  readonly untaggedExpiryDays?: number;
}

/** ECR's lifecycle policy for one repository: untagged images (superseded pushes) expire. */
export function untaggedImageLifecyclePolicy(days: number) {
  return {
    rules: [
      {
        rulePriority: 1,
        description: `Expire untagged images after ${days} days`,
        selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: days },
        action: { type: "expire" },
      },
    ],
  };
}

/** Private ECR repositories for the platform's images: scanned on push, immutable tags, KMS-encrypted. */
export class ImageRepositories extends pulumi.ComponentResource {
  readonly repositories: Record<string, aws.ecr.Repository> = {};
  /** Repository URL by image name. */
  readonly urls: pulumi.Output<Record<string, string>>;
  readonly arns: pulumi.Output<string[]>;
  /** Repository ARN by image name. */
  readonly arnsByImage: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: ImageRepositoriesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:images:ImageRepositories", name, {}, opts);
    const untaggedExpiryDays = args.untaggedExpiryDays ?? 7;

    for (const image of args.names) {
      const repository = new aws.ecr.Repository(
        `${name}-${image}`,
        {
          // Immutable tags: a tag names one image forever; deployments still pin by digest.
          imageTagMutability: "IMMUTABLE",
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: args.kmsKey.arn }],
        },
        { parent: this },
      );
      new aws.ecr.LifecyclePolicy(
        `${name}-${image}-lifecycle`,
        {
          repository: repository.name,
          policy: JSON.stringify(untaggedImageLifecyclePolicy(untaggedExpiryDays)),
        },
        { parent: this },
      );
      this.repositories[image] = repository;
    }

    const entries = Object.entries(this.repositories);
    this.urls = pulumi
      .all(entries.map(([image, repo]) => repo.repositoryUrl.apply((url) => [image, url] as const)))
      .apply((pairs) => Object.fromEntries(pairs));
    this.arns = pulumi.all(entries.map(([, repo]) => repo.arn));
    this.arnsByImage = pulumi.all(entries.map(([image, repo]) => repo.arn.apply((arn) => [image, arn] as const))).apply((pairs) => Object.fromEntries(pairs));
    this.registerOutputs({ urls: this.urls, arns: this.arns });
  }
}
