import { createHash } from "node:crypto";
import { CUSTOMER_METADATA, canonicalJson } from "@ml-platform/contract";
import { META } from "./model-version";

export interface LineageFacts {
  readonly manifestId: string | undefined;
  readonly manifestUri: string | undefined;
  /** The training image by digest (`<repo>@sha256:<hex>`). */
  readonly image: string;
  readonly hyperparameters: Readonly<Record<string, string>>;
  readonly trainingJobArn: string;
}

/**
 * The `CustomerMetadataProperties` entries that tie a version to what made it: dataset manifest,
 * image digest, hyperparameters (the full set when its canonical JSON fits one value, its hash
 * always) and the training job. Empty values are left out by `modelPackageInput`.
 */
export function lineageMetadata(f: LineageFacts): Record<string, string> {
  const hp = canonicalJson(f.hyperparameters);
  return {
    [META.datasetManifestId]: f.manifestId ?? "",
    [META.datasetManifestUri]: f.manifestUri ?? "",
    [META.imageDigest]: /@(sha256:[0-9a-f]{64})$/.exec(f.image)?.[1] ?? "",
    [META.hyperparameters]: hp.length <= CUSTOMER_METADATA.maxValueLength ? hp : "",
    [META.hyperparametersSha256]: createHash("sha256").update(hp).digest("hex"),
    [META.trainingJobArn]: f.trainingJobArn,
  };
}
