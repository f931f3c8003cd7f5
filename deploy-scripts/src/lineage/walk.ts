// `ml-deploy lineage`: from what a stack serves back to the bytes it was trained on. Each link is
// read from the service that owns it (SageMaker for the endpoint, its config, the model, the
// version and the training job; S3 for the manifest and its objects), not from a copy of our own,
// and `--verify` re-reads every object at its recorded version and compares its SHA-256.
import * as fs from "node:fs";
import * as path from "node:path";
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeTrainingJobCommand,
  type SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import type { S3Client } from "@aws-sdk/client-s3";
import type { DatasetManifest } from "@ml-platform/contract";
import type { Context } from "../context";
import { CliError, describeError } from "../errors";
import { META, describeVersion, resolveVersionArn, type ModelVersion } from "../registry/model-version";
import { readStackOutputs } from "../stacks/gateway";
import { isNotFound, readManifest, versionSha256 } from "../data/snapshot";
import { localStore, readLocalManifest } from "../data/local";
import { fileSha256 } from "@ml-platform/ml-core";
import { LocalModelRegistry } from "../local/registry";

/** The stack name that means the local registry (`npm start`'s). */
export const LOCAL_STACK = "local";

export type LinkKind = "endpoint" | "endpoint-config" | "model" | "model-package" | "training-job" | "dataset-manifest" | "object";

export interface LineageLink {
  readonly kind: LinkKind;
  readonly name: string;
  readonly details: Readonly<Record<string, string | number | null>>;
}

export interface LineageChain {
  readonly packageArn: string;
  readonly version: number;
  readonly links: LineageLink[];
  /** With --verify: one line per object that is gone or differs (empty: all verified). */
  readonly problems?: string[];
}

export interface LineageOptions {
  stack: string;
  version?: string;
  verify?: boolean;
  /** The local work directory (`--stack local`). */
  workDir?: string;
  json?: boolean;
}

export interface LineageResult {
  readonly stack: string;
  readonly chains: LineageChain[];
  readonly verified: boolean;
}

export async function lineage(ctx: Context, opts: LineageOptions): Promise<LineageResult> {
  const chains = opts.stack === LOCAL_STACK ? localChains(path.resolve(ctx.repoRoot, opts.workDir ?? ".local"), opts) : await cloudChains(ctx, opts);
  const problems = chains.flatMap((c) => (c.problems ?? []).map((p) => `version ${c.version}: ${p}`));
  if (problems.length > 0) {
    throw new CliError(
      `${problems.length} object${problems.length > 1 ? "s" : ""} of the lineage no longer hold${problems.length > 1 ? "" : "s"} the bytes recorded`,
      {
        details: problems,
        hint: "a model's data must be kept: restore the object version, or retrain from a new snapshot",
      },
    );
  }
  return { stack: opts.stack, chains, verified: opts.verify === true };
}

async function cloudChains(ctx: Context, opts: LineageOptions): Promise<LineageChain[]> {
  const outputs = await readStackOutputs(ctx.stacks, opts.stack);
  const sm = ctx.aws.sagemaker(outputs.region);
  const s3 = ctx.aws.s3(outputs.region);
  if (opts.version !== undefined) {
    const arn = await resolveVersionArn(sm, outputs.modelPackageGroupName, opts.version);
    return [await fromPackage(ctx, sm, s3, arn, [], opts.verify === true)];
  }
  if (!outputs.endpointName) throw new CliError(`stack "${opts.stack}" serves no model (no endpoint)`, { hint: "name a version: --version <n|arn|latest>" });
  ctx.out.step(`Reading endpoint ${outputs.endpointName}`);
  const endpoint = await sm.send(new DescribeEndpointCommand({ EndpointName: outputs.endpointName }));
  const configName = endpoint.EndpointConfigName ?? "";
  const endpointLink: LineageLink = { kind: "endpoint", name: outputs.endpointName, details: { status: endpoint.EndpointStatus ?? "?", config: configName } };
  const config = await sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: configName }));
  const chains: LineageChain[] = [];
  for (const variant of config.ProductionVariants ?? []) {
    const modelName = variant.ModelName ?? "";
    const configLink: LineageLink = { kind: "endpoint-config", name: configName, details: { variant: variant.VariantName ?? "?", model: modelName } };
    const model = await sm.send(new DescribeModelCommand({ ModelName: modelName }));
    const packageArn = model.PrimaryContainer?.ModelPackageName ?? model.Containers?.[0]?.ModelPackageName;
    if (!packageArn) throw new CliError(`model ${modelName} (endpoint config ${configName}) was not created from a model package: its lineage stops here`);
    const modelLink: LineageLink = { kind: "model", name: modelName, details: { arn: model.ModelArn ?? "?", modelPackage: packageArn } };
    chains.push(await fromPackage(ctx, sm, s3, packageArn, [endpointLink, configLink, modelLink], opts.verify === true));
  }
  return chains;
}

async function fromPackage(ctx: Context, sm: SageMakerClient, s3: S3Client, arn: string, above: LineageLink[], verify: boolean): Promise<LineageChain> {
  ctx.out.step(`Reading model package ${arn}`);
  const v = await describeVersion(sm, arn);
  const links = [...above, packageLink(v)];
  const jobName = v.metadata[META.trainingJob];
  if (jobName) {
    try {
      const job = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: jobName }));
      if (v.metadata[META.trainingJobArn] && job.TrainingJobArn !== v.metadata[META.trainingJobArn])
        throw new CliError(`training job ${jobName} is ${job.TrainingJobArn}, but version ${v.version} records ${v.metadata[META.trainingJobArn]}`);
      links.push({
        kind: "training-job",
        name: jobName,
        details: {
          arn: job.TrainingJobArn ?? "?",
          status: job.TrainingJobStatus ?? "?",
          image: job.AlgorithmSpecification?.TrainingImage ?? "?",
          hyperparameters: JSON.stringify(job.HyperParameters ?? {}),
        },
      });
    } catch (err) {
      if (err instanceof CliError) throw err;
      // A promoted version's job ran in the source stage, which this stack's identity may not read.
      links.push({ kind: "training-job", name: jobName, details: { arn: v.metadata[META.trainingJobArn] ?? null, unreadable: describeError(err) } });
    }
  }
  const manifestUri = v.metadata[META.datasetManifestUri];
  if (!manifestUri)
    return { packageArn: v.arn, version: v.version, links, ...(verify ? { problems: [`no dataset manifest is recorded (registered before manifests)`] } : {}) };
  const { manifest, id } = await readManifest(s3, manifestUri);
  links.push(manifestLink(id, manifestUri, manifest), ...manifest.objects.map(objectLink));
  if (!verify) return { packageArn: v.arn, version: v.version, links };
  ctx.out.step(`Verifying the ${manifest.objects.length} objects of manifest ${id}`);
  const problems: string[] = [];
  for (const o of manifest.objects) {
    try {
      const actual = await versionSha256(s3, o.uri, o.versionId);
      if (actual !== o.sha256) problems.push(`${o.uri} version ${o.versionId ?? "(none)"} has SHA-256 ${actual}, the manifest records ${o.sha256}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      problems.push(`${o.uri} version ${o.versionId ?? "(none)"} no longer exists (${describeError(err)})`);
    }
  }
  return { packageArn: v.arn, version: v.version, links, problems };
}

function localChains(workDir: string, opts: LineageOptions): LineageChain[] {
  const registry = new LocalModelRegistry(path.join(workDir, "registry"));
  const store = path.join(workDir, "datasets");
  const groups = fs.existsSync(registry.root) ? fs.readdirSync(registry.root).filter((g) => fs.statSync(path.join(registry.root, g)).isDirectory()) : [];
  const versions = groups.flatMap((g) => registry.list(g).map((p) => registry.describe(g, p.ModelPackageVersion ?? 0)));
  const chosen = opts.version === undefined ? versions : versions.filter((v) => String(v.version) === opts.version || v.arn === opts.version);
  if (chosen.length === 0)
    throw new CliError(`no ${opts.version === undefined ? "versions" : `version ${opts.version}`} in the local registry (${registry.root})`, {
      hint: "run `npm start` first",
    });
  return chosen.map((v) => {
    const links: LineageLink[] = [packageLink(v)];
    const run = v.metadata[META.trainingJob];
    if (run)
      links.push({
        kind: "training-job",
        name: run,
        details: { directory: path.join(workDir, "runs", run), hyperparameters: v.metadata[META.hyperparameters] ?? null },
      });
    const id = v.metadata[META.datasetManifestId];
    if (!id) return { packageArn: v.arn, version: v.version, links, ...(opts.verify ? { problems: ["no dataset manifest is recorded"] } : {}) };
    const { manifest, file } = readLocalManifest(store, id);
    links.push(manifestLink(id, file, manifest), ...manifest.objects.map(objectLink));
    if (!opts.verify) return { packageArn: v.arn, version: v.version, links };
    const problems: string[] = [];
    for (const o of manifest.objects) {
      // The source file may have changed since (that is what a new snapshot is for); the
      // content-addressed copy is what the version was trained on and must still hold the bytes.
      const copy = localStore.object(store, o.sha256);
      if (!fs.existsSync(copy)) problems.push(`${copy} (${o.uri}) no longer exists`);
      else if (fileSha256(copy) !== o.sha256) problems.push(`${copy} (${o.uri}) no longer has SHA-256 ${o.sha256}`);
    }
    return { packageArn: v.arn, version: v.version, links, problems };
  });
}

function packageLink(v: ModelVersion): LineageLink {
  return {
    kind: "model-package",
    name: v.arn,
    details: {
      version: v.version,
      approval: v.approval,
      gitCommit: v.metadata[META.gitCommit] ?? null,
      imageDigest: v.metadata[META.imageDigest] ?? null,
      modelIdentity: v.metadata[META.modelIdentity] ?? null,
      datasetManifest: v.metadata[META.datasetManifestId] ?? null,
    },
  };
}

function manifestLink(id: string, where: string, m: DatasetManifest): LineageLink {
  return { kind: "dataset-manifest", name: id, details: { stored: where, source: m.source, objects: m.objects.length } };
}

function objectLink(o: DatasetManifest["objects"][number]): LineageLink {
  return {
    kind: "object",
    name: o.uri,
    details: { channel: o.channel, versionId: o.versionId, sha256: o.sha256, size: o.size, rows: o.rows, schemaSha256: o.schemaSha256 },
  };
}
