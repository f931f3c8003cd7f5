import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { Context } from "../context";
import { pinPipelineImage } from "../config/stack-file";
import { CliError } from "../errors";
import { MissingPrerequisite } from "../prerequisites";
import { readStackOutputs, type StackOutputs } from "../stacks/gateway";

export const DEFAULT_REPOSITORY = "ml-core";
export const DEFAULT_DOCKERFILE = "ml-core/Dockerfile";
/**
 * What the ml-core image is built from (what ml-core/Dockerfile copies, per its
 * Dockerfile.dockerignore allowlist); a change anywhere here is a new image.
 */
export const DEFAULT_HASH_PATHS = [
  "package.json",
  "package-lock.json",
  "tsconfig.base.json",
  "deploy-scripts/package.json",
  "ml-core/package.json",
  "ml-core/tsconfig.json",
  "ml-core/bin",
  "ml-core/src",
  "ml-core/Dockerfile.dockerignore",
];
/** The Dockerfile's build argument that names its base image (`ARG NODE_IMAGE=node:…`). */
export const BASE_IMAGE_ARG = "NODE_IMAGE";

export interface ImagesOptions {
  stack: string;
  repository?: string;
  dockerfile?: string;
  context?: string;
  hashPath?: string[];
  platform?: string;
  json?: boolean;
}

export interface ImagesResult {
  stack: string;
  repositoryUrl: string;
  tag: string;
  /** The base image the build used, pinned by digest when the registry could be asked. */
  baseImage: string | undefined;
  digest: string;
  /** What `train` and the registry use: the repository and the digest, never a tag. */
  imageUri: string;
  built: boolean;
  pushed: boolean;
  /** The stack file's `mlPlatform:pipeline.image` now names this image (false: no pipeline, or it already did). */
  pipelineImagePinned: boolean;
}

/**
 * Builds the ml-core image and pushes it to the stack's ECR repository. The tag is a hash of the
 * sources it is built from, so re-running without changes finds the image already pushed and does
 * nothing (ECR repositories here have immutable tags: a tag never points at another image).
 *
 * ECR authentication: there is no ECR SDK client in this package, so `docker push` authenticates
 * through Docker's own configuration (amazon-ecr-credential-helper, or an earlier `docker login`);
 * when Docker reports missing or expired credentials, and the AWS CLI is installed, the command logs
 * in with `aws ecr get-login-password` and retries once.
 */
export async function images(ctx: Context, opts: ImagesOptions): Promise<ImagesResult> {
  const outputs = await readStackOutputs(ctx.stacks, opts.stack);
  const repositoryUrl = repositoryUrlOf(outputs, opts.stack, opts.repository);
  await requireDocker(ctx);
  const dockerfile = opts.dockerfile ?? DEFAULT_DOCKERFILE;
  const baseImage = await pinnedBaseImage(ctx, dockerfile);
  // The base image's digest is part of the tag: a patched base image is a new image.
  const tag = await sourceTag(ctx, [...(opts.hashPath ?? DEFAULT_HASH_PATHS), dockerfile], baseImage ?? "");
  const ref = `${repositoryUrl}:${tag}`;

  const existing = await remoteDigest(ctx, ref);
  if (existing) ctx.out.step(`${ref} is already in ECR; nothing to build`);
  const digest = existing ?? (await buildAndPush(ctx, opts, { ref, dockerfile, baseImage, repositoryUrl, region: outputs.region }));
  const imageUri = `${repositoryUrl}@${digest}`;
  return {
    stack: opts.stack,
    repositoryUrl,
    tag,
    baseImage,
    digest,
    imageUri,
    built: !existing,
    pushed: !existing,
    pipelineImagePinned: await pinForPipeline(ctx, opts.stack, imageUri),
  };
}

/** `docker build` and `docker push` of `ref`; returns the pushed image's digest. */
async function buildAndPush(
  ctx: Context,
  opts: ImagesOptions,
  image: { ref: string; dockerfile: string; baseImage: string | undefined; repositoryUrl: string; region: string },
): Promise<string> {
  const { ref, dockerfile, baseImage } = image;
  ctx.out.step(`Building ${ref}${baseImage ? ` on ${baseImage}` : ""}`);
  const buildArgs = baseImage ? ["--build-arg", `${BASE_IMAGE_ARG}=${baseImage}`] : [];
  const build = await ctx.exec(
    "docker",
    ["build", "--platform", opts.platform ?? "linux/amd64", ...buildArgs, "-f", dockerfile, "-t", ref, opts.context ?? "."],
    {
      cwd: ctx.repoRoot,
      onOutput: (t) => ctx.out.passthrough(t),
    },
  );
  if (build.code !== 0) throw new CliError(`docker build failed (exit ${build.code})`, { details: lastLines(build.stderr) });

  ctx.out.step(`Pushing ${ref}`);
  let push = await ctx.exec("docker", ["push", ref], { onOutput: (t) => ctx.out.passthrough(t) });
  if (
    push.code !== 0 &&
    /no basic auth credentials|authorization token has expired|denied: Your authorization token|401 Unauthorized/i.test(push.stderr + push.stdout)
  ) {
    await ecrLogin(ctx, image.repositoryUrl, image.region);
    push = await ctx.exec("docker", ["push", ref], { onOutput: (t) => ctx.out.passthrough(t) });
  }
  if (push.code !== 0) throw new CliError(`docker push failed (exit ${push.code})`, { details: lastLines(push.stderr || push.stdout) });
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1] ?? (await remoteDigest(ctx, ref));
  if (!digest) throw new CliError(`pushed ${ref} but could not read its digest`);
  return digest;
}

/**
 * The training pipeline runs the image `images` pushed last, as the endpoint runs the version
 * `promote` pinned: the pin is written into the stack file, and the next `pulumi up` applies it.
 */
async function pinForPipeline(ctx: Context, stack: string, imageUri: string): Promise<boolean> {
  const file = await ctx.stackFiles.read(stack);
  const text = pinPipelineImage(file.text, imageUri);
  if (text === undefined || text === file.text) return false;
  await ctx.stackFiles.write(stack, text);
  ctx.out.info(`${file.path}: mlPlatform:pipeline.image = ${imageUri} (applied by the next \`pulumi up\`)`);
  return true;
}

/**
 * The Dockerfile's `ARG NODE_IMAGE=<ref>` default, resolved to `<ref>@sha256:…` so the build cannot
 * silently pick up a different base image under the same tag. Undefined when the Dockerfile has no
 * such argument; the tag as written (with a warning) when the registry cannot be asked.
 */
async function pinnedBaseImage(ctx: Context, dockerfile: string): Promise<string | undefined> {
  const text = await fs.readFile(path.join(ctx.repoRoot, dockerfile), "utf8").catch(() => {
    throw new CliError(`no Dockerfile at ${dockerfile}`, { hint: "pass --dockerfile <path relative to the repository root>" });
  });
  const declared = new RegExp(`^ARG ${BASE_IMAGE_ARG}=(\\S+)`, "m").exec(text)?.[1];
  if (!declared || declared.includes("@sha256:")) return declared;
  const digest = await remoteDigest(ctx, declared);
  if (!digest) {
    ctx.out.warn(`could not resolve the digest of ${declared}; building on the tag`);
    return declared;
  }
  return `${declared}@${digest}`;
}

/** The digest URI of the image for the current sources, when `images` has pushed it. */
export async function currentImageUri(ctx: Context, stack: string, outputs: StackOutputs): Promise<string> {
  const repositoryUrl = repositoryUrlOf(outputs, stack);
  await requireDocker(ctx);
  const tag = await sourceTag(ctx, [...DEFAULT_HASH_PATHS, DEFAULT_DOCKERFILE], (await pinnedBaseImage(ctx, DEFAULT_DOCKERFILE)) ?? "");
  const digest = await remoteDigest(ctx, `${repositoryUrl}:${tag}`);
  if (!digest) {
    throw new CliError(`the image for the current sources (${repositoryUrl}:${tag}) is not in ECR`, {
      hint: `run \`ml-deploy images --stack ${stack}\` first, or pass --image <repository>@sha256:<digest>`,
    });
  }
  return `${repositoryUrl}@${digest}`;
}

function repositoryUrlOf(outputs: StackOutputs, stack: string, repository = DEFAULT_REPOSITORY): string {
  const url = outputs.repositoryUrls[repository];
  if (!url) {
    throw new CliError(`stack "${stack}" has no ECR repository "${repository}"`, {
      details: [`repositories: ${Object.keys(outputs.repositoryUrls).join(", ") || "(none)"}`],
      hint: "add it to mlPlatform:images.repositories and run `pulumi up`",
    });
  }
  return url;
}

async function requireDocker(ctx: Context): Promise<void> {
  // `docker version` asks the daemon too: 127 is no CLI, any other failure no reachable daemon.
  const r = await ctx.exec("docker", ["version", "--format", "{{.Server.Version}}"]);
  if (r.code !== 0) throw new MissingPrerequisite(r.code === 127 ? "docker" : "docker-daemon");
}

/**
 * `src-<16 hex>`: SHA-256 over the path and bytes of every file git knows (tracked, or untracked
 * but not ignored) under the given paths, so the tag is the same on every machine for the same
 * sources and build outputs or local junk do not change it.
 */
export async function sourceTag(ctx: Context, paths: readonly string[], salt = ""): Promise<string> {
  const listed = await ctx.exec("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ...paths], { cwd: ctx.repoRoot });
  if (listed.code !== 0) throw new CliError("cannot list the image's source files with git", { details: lastLines(listed.stderr) });
  const files = [...new Set(listed.stdout.split("\0").filter(Boolean))].sort();
  if (files.length === 0) throw new CliError(`no source files under ${paths.join(", ")}`);
  const hash = createHash("sha256").update(`${salt}\0`);
  for (const file of files) {
    const bytes = await fs.readFile(path.join(ctx.repoRoot, file)).catch(() => undefined); // deleted but still in the index
    if (bytes === undefined) continue;
    hash.update(`${file}\0${bytes.length}\0`);
    hash.update(bytes);
  }
  return `src-${hash.digest("hex").slice(0, 16)}`;
}

async function remoteDigest(ctx: Context, ref: string): Promise<string | undefined> {
  const r = await ctx.exec("docker", ["buildx", "imagetools", "inspect", ref, "--format", "{{json .Manifest}}"]);
  if (r.code !== 0) return undefined;
  try {
    const digest = (JSON.parse(r.stdout) as { digest?: string }).digest;
    return digest && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : undefined;
  } catch {
    return undefined;
  }
}

async function ecrLogin(ctx: Context, repositoryUrl: string, region: string): Promise<void> {
  const registry = repositoryUrl.split("/")[0]!;
  ctx.out.step(`Logging in to ${registry}`);
  const password = await ctx.exec("aws", ["ecr", "get-login-password", "--region", region]);
  if (password.code !== 0) {
    throw new CliError(`Docker has no valid credentials for ${registry}`, {
      details: lastLines(password.stderr),
      hint: "install amazon-ecr-credential-helper (docker-credential-ecr-login) or the AWS CLI, or run `docker login` for the registry",
    });
  }
  const login = await ctx.exec("docker", ["login", "--username", "AWS", "--password-stdin", registry], { input: password.stdout.trim() });
  if (login.code !== 0) throw new CliError(`docker login to ${registry} failed`, { details: lastLines(login.stderr) });
}

function lastLines(text: string, n = 5): string[] {
  return text.trim().split(/\r?\n/).filter(Boolean).slice(-n);
}
