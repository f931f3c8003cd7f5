import { createHash } from "node:crypto";
import {
  BatchCheckLayerAvailabilityCommand,
  BatchGetImageCommand,
  CompleteLayerUploadCommand,
  GetDownloadUrlForLayerCommand,
  InitiateLayerUploadCommand,
  PutImageCommand,
  UploadLayerPartCommand,
  type ECRClient,
} from "@aws-sdk/client-ecr";
import { IMAGE_BY_DIGEST } from "@ml-platform/contract";
import { CliError } from "../errors";

/** An image in an ECR repository, by digest: `<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<hex>`. */
export interface EcrImage {
  readonly registryId: string;
  readonly region: string;
  readonly repository: string;
  readonly digest: string;
}

export function parseEcrImage(uri: string): EcrImage | undefined {
  if (!IMAGE_BY_DIGEST.test(uri)) return undefined;
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/(.+)@(sha256:[0-9a-f]{64})$/.exec(uri)!;
  return { registryId: m[1]!, region: m[2]!, repository: m[3]!, digest: m[4]! };
}

/** `<registry host>/<repository>` of a repository URL, as the `repositoryUrls` output lists them. */
export function repositoryOfUrl(url: string): { registryId: string; region: string; repository: string } | undefined {
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/(.+)$/.exec(url);
  return m ? { registryId: m[1]!, region: m[2]!, repository: m[3]! } : undefined;
}

/** Manifest media types a copy accepts: single images and multi-platform indexes, Docker and OCI. */
export const MANIFEST_MEDIA_TYPES = [
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
];

interface Manifest {
  readonly mediaType?: string;
  readonly config?: { readonly digest: string };
  readonly layers?: ReadonlyArray<{ readonly digest: string }>;
  /** An index (manifest list): one manifest per platform, and attestations. */
  readonly manifests?: ReadonlyArray<{ readonly digest: string }>;
}

export interface CopyClients {
  readonly source: ECRClient;
  readonly target: ECRClient;
  /** Downloads a layer from the presigned URL GetDownloadUrlForLayer returns. */
  readonly fetch: typeof fetch;
}

export interface ImageCopyResult {
  readonly digest: string;
  /** Blobs (layers and configs) uploaded into the target; the others were already there. */
  readonly uploadedBlobs: string[];
  readonly manifests: number;
}

/**
 * Copies an image by digest from one ECR repository into another without Docker, through ECR's
 * API: the manifest from the source (BatchGetImage); every blob it names that the target lacks
 * (BatchCheckLayerAvailability) downloaded from the source's presigned URL (GetDownloadUrlForLayer)
 * and uploaded in ECR's part size (InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload); then
 * the manifest, byte for byte with its media type (PutImage, which fails with LayersNotFoundException
 * while a blob is missing: provider-semantics §6). An index is copied with each manifest it lists.
 * The digest ECR computes for the target must equal the source's: the same bytes, the same image.
 */
export async function copyImage(
  clients: CopyClients,
  source: Omit<EcrImage, "region">,
  target: { registryId: string; repository: string },
): Promise<ImageCopyResult> {
  const uploadedBlobs: string[] = [];
  let manifests = 0;
  const copyManifest = async (digest: string): Promise<void> => {
    const got = await clients.source.send(
      new BatchGetImageCommand({
        registryId: source.registryId,
        repositoryName: source.repository,
        imageIds: [{ imageDigest: digest }],
        acceptedMediaTypes: MANIFEST_MEDIA_TYPES,
      }),
    );
    const image = got.images?.[0];
    if (!image?.imageManifest) {
      const reason = got.failures?.[0];
      throw new CliError(
        `image ${source.repository}@${digest} is not in repository ${source.repository}${reason ? `: ${reason.failureCode} ${reason.failureReason ?? ""}`.trimEnd() : ""}`,
      );
    }
    const bytes = Buffer.from(image.imageManifest, "utf8");
    const actual = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    if (actual !== digest) throw new CliError(`the manifest ECR returned for ${source.repository}@${digest} hashes to ${actual}`);
    const manifest = JSON.parse(image.imageManifest) as Manifest;
    for (const child of manifest.manifests ?? []) await copyManifest(child.digest);
    const blobs = [...new Set([...(manifest.config ? [manifest.config.digest] : []), ...(manifest.layers ?? []).map((l) => l.digest)])];
    for (const blob of await missingBlobs(clients.target, target, blobs)) {
      await copyBlob(clients, source, target, blob);
      uploadedBlobs.push(blob);
    }
    const mediaType = image.imageManifestMediaType ?? manifest.mediaType;
    let putDigest: string | undefined;
    try {
      const put = await clients.target.send(
        new PutImageCommand({
          registryId: target.registryId,
          repositoryName: target.repository,
          imageManifest: image.imageManifest,
          imageManifestMediaType: mediaType,
          imageDigest: digest,
        }),
      );
      putDigest = put.image?.imageId?.imageDigest;
    } catch (err) {
      // Already there (an earlier run, or the same build pushed twice): the digest says it is the same.
      if ((err as Error).name !== "ImageAlreadyExistsException") throw err;
      putDigest = digest;
    }
    if (putDigest !== digest) {
      throw new CliError(`copying ${source.repository}@${digest} into ${target.repository} produced digest ${putDigest ?? "(none)"}`, {
        hint: "the target holds a different image than the source; nothing was registered",
      });
    }
    manifests++;
  };
  await copyManifest(source.digest);
  return { digest: source.digest, uploadedBlobs, manifests };
}

async function missingBlobs(ecr: ECRClient, repo: { registryId: string; repository: string }, digests: string[]): Promise<string[]> {
  if (digests.length === 0) return [];
  const missing: string[] = [];
  // BatchCheckLayerAvailability takes at most 100 digests per call.
  for (let i = 0; i < digests.length; i += 100) {
    const out = await ecr.send(
      new BatchCheckLayerAvailabilityCommand({ registryId: repo.registryId, repositoryName: repo.repository, layerDigests: digests.slice(i, i + 100) }),
    );
    const available = new Set((out.layers ?? []).filter((l) => l.layerAvailability === "AVAILABLE").map((l) => l.layerDigest));
    missing.push(...digests.slice(i, i + 100).filter((d) => !available.has(d)));
  }
  return missing;
}

/**
 * One blob, streamed: downloaded from the source's presigned URL and uploaded in parts of the size
 * ECR asks for, so a large layer is never held whole in memory. Its SHA-256 is checked against its
 * digest before CompleteLayerUpload (which checks it too).
 */
async function copyBlob(
  clients: CopyClients,
  source: Omit<EcrImage, "region">,
  target: { registryId: string; repository: string },
  digest: string,
): Promise<void> {
  const url = await clients.source.send(
    new GetDownloadUrlForLayerCommand({ registryId: source.registryId, repositoryName: source.repository, layerDigest: digest }),
  );
  if (!url.downloadUrl) throw new CliError(`ECR gave no download URL for layer ${digest} of ${source.repository}`);
  const res = await clients.fetch(url.downloadUrl);
  if (!res.ok || !res.body) throw new CliError(`downloading layer ${digest} of ${source.repository} failed: HTTP ${res.status}`);
  const upload = await clients.target.send(new InitiateLayerUploadCommand({ registryId: target.registryId, repositoryName: target.repository }));
  const uploadId = upload.uploadId!;
  const partSize = upload.partSize && upload.partSize > 0 ? upload.partSize : 10 * 1024 * 1024;
  const hash = createHash("sha256");
  let chunks: Buffer[] = [];
  let buffered = 0;
  let offset = 0;
  const send = async (part: Buffer) => {
    await clients.target.send(
      new UploadLayerPartCommand({
        registryId: target.registryId,
        repositoryName: target.repository,
        uploadId,
        partFirstByte: offset,
        partLastByte: offset + part.length - 1,
        layerPartBlob: part,
      }),
    );
    offset += part.length;
  };
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    chunks.push(Buffer.from(chunk));
    buffered += chunk.length;
    if (buffered < partSize) continue;
    let rest = Buffer.concat(chunks, buffered);
    for (; rest.length >= partSize; rest = rest.subarray(partSize)) await send(rest.subarray(0, partSize));
    chunks = [rest];
    buffered = rest.length;
  }
  if (buffered > 0) await send(Buffer.concat(chunks, buffered));
  const actual = `sha256:${hash.digest("hex")}`;
  if (actual !== digest) throw new CliError(`layer ${digest} of ${source.repository} downloaded as ${actual}: the download is corrupt`);
  await clients.target.send(
    new CompleteLayerUploadCommand({ registryId: target.registryId, repositoryName: target.repository, uploadId, layerDigests: [digest] }),
  );
}
