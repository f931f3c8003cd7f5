/**
 * A small, stateful AWS + Pulumi world for the CLI's tests: aws-sdk-client-mock stubs that behave
 * like SageMaker, SageMaker Runtime and S3 (a registry with versions, training jobs, objects,
 * endpoints), a fake stack gateway, and stack files in a temp directory. `run(argv)` drives the real
 * `main` and captures what it prints. Used by this package's tests and by the top-level
 * deployer-policy test (which passes in the built package).
 */
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { gunzipSync, gzipSync } from "node:zlib";
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from "@aws-sdk/client-athena";
import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  CreateModelPackageCommand,
  CreateTrainingJobCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeModelPackageCommand,
  DescribeTrainingJobCommand,
  ListModelPackagesCommand,
  ListTagsCommand,
  SageMakerClient,
  UpdateModelPackageCommand,
  type DescribeModelPackageCommandOutput,
  type DescribeTrainingJobCommandOutput,
} from "@aws-sdk/client-sagemaker";
import { InvokeEndpointCommand, SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { PutRecordCommand, SageMakerFeatureStoreRuntimeClient } from "@aws-sdk/client-sagemaker-featurestore-runtime";
import {
  BatchCheckLayerAvailabilityCommand,
  BatchGetImageCommand,
  CompleteLayerUploadCommand,
  ECRClient,
  GetDownloadUrlForLayerCommand,
  InitiateLayerUploadCommand,
  PutImageCommand,
  UploadLayerPartCommand,
} from "@aws-sdk/client-ecr";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import type * as pkg from "../src/index";

export const REGION = "eu-west-1";
export const ACCOUNT = "111122223333";
const sha256 = (bytes: Buffer | string) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** The ml-core image: a config and two layers, and the manifest that names them; its digest is the manifest's hash. */
export const IMAGE_BLOBS = [Buffer.from('{"architecture":"amd64","os":"linux"}'), Buffer.from("layer one: node runtime"), Buffer.from("layer two: ml-core")];
const [CONFIG_DIGEST, ...LAYER_DIGESTS] = IMAGE_BLOBS.map((b) => sha256(b));
export const IMAGE_MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: CONFIG_DIGEST, size: IMAGE_BLOBS[0]!.length },
  layers: LAYER_DIGESTS.map((digest, i) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest, size: IMAGE_BLOBS[i + 1]!.length })),
});
export const IMAGE_DIGEST = sha256(IMAGE_MANIFEST);
export const repositoryName = (stack: string) => `ml-core-${stack}`;
export const repositoryUrl = (stack: string) => `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${repositoryName(stack)}`;
export const imageIn = (stack: string) => `${repositoryUrl(stack)}@${IMAGE_DIGEST}`;
export const IMAGE = imageIn("dev");
export const updaterRole = (stack: string) => `arn:aws:iam::${ACCOUNT}:role/churn-${stack}-updater`;
// The program names configs and models `inference-config-*` and `inference-model-*` (endpointNamePrefixes).
export const configName = (stack: string, n: number) => `inference-config-${stack}-${n}`;
/** What ml-core serve answers with for a model file (ml-core's modelIdentity). */
export const identityOf = (modelJson: string) => `model-sha256=${createHash("sha256").update(modelJson).digest("hex")}`;
export const modelJsonOf = (job: string) => JSON.stringify({ format: "ml-core-gbdt", trainedBy: job });
export const STACKS = ["dev", "staging", "prod"] as const;
export type StackName = (typeof STACKS)[number];

export const group = (stack: string) => `churn-${stack}-group`;
export const packageArn = (stack: string, version: number) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/${group(stack)}/${version}`;
export const kmsKey = (stack: string) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${stack}-key`;
export const bucket = (stack: string, kind: "artifacts" | "datasets") => `churn-${stack}-${kind}`;
export const endpoint = (stack: string) => `churn-${stack}-endpoint`;
export const executionRole = (stack: string) => `arn:aws:iam::${ACCOUNT}:role/churn-${stack}-execution`;
export const COMPLETED_JOB = "churn-dev-20250101-000000";

export function outputsFor(stack: string, withEndpoint = true): Record<string, unknown> {
  return {
    region: REGION,
    accountId: ACCOUNT,
    datasetBucketName: bucket(stack, "datasets"),
    artifactBucketName: bucket(stack, "artifacts"),
    kmsKeyArn: kmsKey(stack),
    executionRoleArn: executionRole(stack),
    deployerRoleArn: `arn:aws:iam::${ACCOUNT}:role/churn-${stack}-deployer`,
    updaterRoleArn: updaterRole(stack),
    repositoryUrls: { "ml-core": repositoryUrl(stack) },
    modelPackageGroupName: group(stack),
    ...(withEndpoint ? { endpointName: endpoint(stack), endpointConfigName: configName(stack, 0) } : {}),
    trainingOutputUri: `s3://${bucket(stack, "artifacts")}/training-output/`,
    checkpointUri: `s3://${bucket(stack, "artifacts")}/checkpoints/`,
    datasetUri: `s3://${bucket(stack, "datasets")}/datasets/churn/v1/`,
  };
}

const TRAINING = `  mlPlatform:training:
    instanceType: ml.m5.large
    instanceCount: 1
    volumeSizeGb: 30
    maxRuntimeSeconds: 3600
    spot: true
    maxWaitSeconds: 7200
    datasetPrefix: datasets/churn/v1
    hyperparameters:
      objective: binary
      label: churn
      num_round: 200
      learning_rate: 0.1
      early_stopping_rounds: 10
`;

// The keys only infra acts on: ml-deploy validates a whole stack file with the schema \`pulumi up\` uses.
const INFRA = `  mlPlatform:logRetentionDays: 30
  mlPlatform:dataCapture:
    enabled: false
  mlPlatform:alarms:
    invocation5xxErrors: 1
    modelLatencyP99Ms: 500
`;
const SERVERLESS = `    memorySizeMb: 2048
    maxConcurrency: 5
`;

export const STACK_FILES: Record<StackName, string> = {
  dev: `# dev: where every new model version lands first.
config:
  aws:region: eu-west-1
  mlPlatform:modelName: churn
  mlPlatform:tags:
    owner: ml-platform-team
    costCenter: CC-4711
  # The version the endpoint serves.
  mlPlatform:model:
    packageArn: ${packageArn("dev", 1)}
  mlPlatform:serving:
    mode: serverless
${SERVERLESS}${INFRA}${TRAINING}  mlPlatform:promotion:
    requireApproval: false
    minMetrics:
      validation:auc: 0.70
    smokeMaxLatencyMs: 3000
`,
  staging: `# staging: like prod, smaller.
config:
  aws:region: eu-west-1
  mlPlatform:modelName: churn
  mlPlatform:tags:
    owner: ml-platform-team
    costCenter: CC-4711
  # Written by \`ml-deploy promote --from dev --to staging\`.
  mlPlatform:model:
    packageArn: ${packageArn("staging", 1)}
  mlPlatform:serving:
    mode: serverless # infra's business
${SERVERLESS}${INFRA}${TRAINING}  mlPlatform:promotion:
    requireApproval: true
    minMetrics:
      validation:auc: 0.80
    maxMetrics:
      validation:logloss: 0.60
    smokeMaxLatencyMs: 1000
`,
  prod: `# prod: serves customers.
config:
  aws:region: eu-west-1
  mlPlatform:modelName: churn
  mlPlatform:deployer:
    requireConfirmation: true
  mlPlatform:tags:
    owner: ml-platform-team
    costCenter: CC-4711
  mlPlatform:model:
    packageArn: ${packageArn("prod", 2)}
    previousPackageArns:
      - ${packageArn("prod", 1)}
  mlPlatform:serving:
    mode: serverless
${SERVERLESS}${INFRA}${TRAINING}  mlPlatform:promotion:
    requireApproval: true
    minMetrics:
      validation:auc: 0.85
    maxMetrics:
      validation:logloss: 0.50
    smokeMaxLatencyMs: 1000
`,
};

export const VALIDATION_CSV =
  'tenure,plan,monthly,churn\n12,basic,29.5,0\n3,premium,89.0,1\n40,basic,19.9,0\n7,"pro, annual",55.0,1\n22,premium,70.1,0\n1,basic,25.0,1\n';

/** A gzipped ustar archive, as SageMaker writes model.tar.gz (entries named `./<file>`). */
export function tarGz(files: Record<string, string>, prefix = "./"): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    const header = Buffer.alloc(512);
    header.write(`${prefix}${name}`, 0, "utf8");
    header.write("0000644\0", 100);
    header.write("0000000\0", 108);
    header.write("0000000\0", 116);
    header.write(data.length.toString(8).padStart(11, "0") + "\0", 124);
    header.write("00000000000\0", 136);
    header.write("        ", 148);
    header.write("0", 156);
    header.write("ustar\0", 257);
    header.write("00", 263);
    const sum = header.reduce((a, b) => a + b, 0);
    header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

export interface SentCall {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

type PackageState = Omit<DescribeModelPackageCommandOutput, "$metadata">;
type JobState = Omit<DescribeTrainingJobCommandOutput, "$metadata">;

export class World {
  readonly dir: string;
  readonly stacks: pkg.FakeStackGateway;
  readonly objects = new Map<string, Buffer>();
  readonly packages = new Map<string, PackageState>();
  readonly jobs = new Map<string, JobState & { tags: Array<{ Key: string; Value: string }> }>();
  readonly endpoints = new Map<string, string>();
  /** The endpoint configuration each endpoint runs, and the model identity its container answers with. */
  readonly endpointConfigs = new Map<string, string>();
  /** The model package each endpoint configuration's model was created from (what `up` pinned). */
  readonly configPackages = new Map<string, string | undefined>();
  readonly served = new Map<string, string | undefined>();
  /** S3 object versions (current only) and the full-object SHA-256 checksums S3 keeps (base64). */
  readonly versions = new Map<string, string>();
  readonly checksums = new Map<string, string>();
  /** When each object was last written through putObject (ListObjectsV2's LastModified). */
  readonly modified = new Map<string, Date>();
  /** CopyObject writes other bytes than it read (to test the checksum check). */
  corruptCopies = false;
  /** ECR: what each repository holds, and every blob's bytes by digest. */
  readonly repos = new Map<string, { manifests: Map<string, { manifest: string; mediaType?: string }>; blobs: Set<string> }>();
  readonly blobStore = new Map<string, Buffer>();
  private readonly uploads = new Map<string, { repo: string; parts: Buffer[]; next: number }>();
  /** PutImage stores the manifest under another digest (to test the digest check). */
  ecrChangesDigest = false;
  /** Presigned layer URLs fetched, in order. */
  readonly downloads: string[] = [];
  /** Stacks whose next update SageMaker rolls back on its own: InService on the old config. */
  readonly rollsBack = new Set<string>();
  /** Roles AssumeRole refuses (the caller is not trusted). */
  readonly untrustedRoles = new Set<string>();
  /** Runs after each successful `up`, once the world has deployed the pin. */
  afterUp: ((stack: string) => void) | undefined;
  readonly signals = new EventEmitter();
  private configCounter = 0;
  readonly tokens = new Map<string, string>();
  /** Statuses a new training job goes through, one per DescribeTrainingJob. */
  jobScript: Array<Partial<JobState>> = [
    { TrainingJobStatus: "InProgress", SecondaryStatus: "Starting" },
    { TrainingJobStatus: "InProgress", SecondaryStatus: "Downloading" },
    { TrainingJobStatus: "InProgress", SecondaryStatus: "Training" },
    { TrainingJobStatus: "Completed", SecondaryStatus: "Completed" },
  ];
  /** How the endpoints answer: ml-core's JSON, a wrong number of rows, or a model error. */
  invoke: "ok" | "wrong-count" | "error" = "ok";
  invokeDelayMs = 0;
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly sm = mockClient(SageMakerClient);
  readonly runtime = mockClient(SageMakerRuntimeClient);
  readonly s3 = mockClient(S3Client);
  readonly ecr = mockClient(ECRClient);
  readonly sts = mockClient(STSClient);
  /** `features ingest`'s PutRecord: accepted unless a test says otherwise. */
  readonly featureStore = mockClient(SageMakerFeatureStoreRuntimeClient);
  /** `features dataset`'s Athena: every query succeeds; a SELECT returns `athenaRows` (header first). */
  readonly athena = mockClient(AthenaClient);
  athenaRows: string[][] = [];
  /** The workgroup each query ran in, by query execution id. */
  readonly queryWorkgroups = new Map<string, string>();
  /** Glue tables' data locations (`db.table` → s3:// URI): the labels tables' DDL adds theirs. */
  readonly tableLocations = new Map<string, string>();
  private clock = Date.parse("2025-03-01T12:00:00Z");

  constructor(private readonly lib: Pick<typeof pkg, "main" | "FakeStackGateway" | "StackFiles" | "createAwsClients">) {
    this.dir = mkdtempSync(path.join(tmpdir(), "ml-deploy-"));
    mkdirSync(path.join(this.dir, "stacks"));
    for (const stack of STACKS) writeFileSync(this.stackPath(stack), STACK_FILES[stack]);
    this.stacks = new lib.FakeStackGateway(Object.fromEntries(STACKS.map((s) => [s, outputsFor(s)])));
    for (const stack of STACKS) {
      this.endpoints.set(endpoint(stack), "InService");
      this.objects.set(`${bucket(stack, "datasets")}/datasets/churn/v1/train/part-0.csv`, Buffer.from(VALIDATION_CSV));
      this.objects.set(`${bucket(stack, "datasets")}/datasets/churn/v1/validation/part-0.csv`, Buffer.from(VALIDATION_CSV));
    }
    this.addJob(COMPLETED_JOB, { "validation:auc": 0.91, "validation:logloss": 0.31, "train:auc": 0.95 });
    this.addPackage("dev", { approval: "Approved", metrics: { "validation:auc": 0.91, "validation:logloss": 0.31 }, job: "churn-dev-20240101-000000" });
    this.addPackage("dev", {
      approval: "PendingManualApproval",
      metrics: { "validation:auc": 0.75, "validation:logloss": 0.7 },
      job: "churn-dev-20240201-000000",
    });
    this.addPackage("staging", { approval: "Approved", metrics: { "validation:auc": 0.88, "validation:logloss": 0.4 } });
    this.addPackage("prod", { approval: "Approved", metrics: { "validation:auc": 0.9, "validation:logloss": 0.4 } });
    this.addPackage("prod", { approval: "Approved", metrics: { "validation:auc": 0.9, "validation:logloss": 0.4 } });
    for (const stack of STACKS) {
      const repo = {
        manifests: new Map([[IMAGE_DIGEST, { manifest: IMAGE_MANIFEST, mediaType: "application/vnd.oci.image.manifest.v1+json" }]]),
        blobs: new Set([CONFIG_DIGEST!, ...LAYER_DIGESTS]),
      };
      this.repos.set(repositoryName(stack), repo);
      this.endpointConfigs.set(endpoint(stack), configName(stack, 0));
      this.configPackages.set(configName(stack, 0), this.pinnedArn(stack));
      this.served.set(endpoint(stack), this.identityOfPin(stack));
    }
    IMAGE_BLOBS.forEach((b) => this.blobStore.set(sha256(b), b));
    this.stacks.onUp = (stack) => {
      this.deploy(stack);
      this.afterUp?.(stack);
    };
    this.install();
  }

  stackPath(stack: string): string {
    return path.join(this.dir, "stacks", `Pulumi.${stack}.yaml`);
  }

  stackText(stack: string): string {
    return readFileSync(this.stackPath(stack), "utf8");
  }

  addJob(
    name: string,
    metrics: Record<string, number> | undefined,
    status: Partial<JobState> = { TrainingJobStatus: "Completed", SecondaryStatus: "Completed" },
  ): void {
    const artifact = `s3://${bucket("dev", "artifacts")}/training-output/${name}/output/model.tar.gz`;
    this.putObject(artifact.slice(5), tarGz({ "model.json": modelJsonOf(name), ...(metrics ? { "metrics.json": JSON.stringify(metrics) } : {}) }));
    this.jobs.set(name, {
      TrainingJobName: name,
      TrainingJobArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:training-job/${name}`,
      AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: "File" },
      ModelArtifacts: { S3ModelArtifacts: artifact },
      CreationTime: new Date(this.clock),
      StoppingCondition: {},
      FinalMetricDataList: Object.entries(metrics ?? { "validation:auc": 0.9 }).map(([MetricName, Value]) => ({ MetricName, Value })),
      ...status,
      tags: [
        { Key: "ml-platform:git-commit", Value: "abc123" },
        { Key: "ml-platform:dataset", Value: `s3://${bucket("dev", "datasets")}/datasets/churn/v1/` },
        { Key: "ml-platform:dataset-hash", Value: "sha256:feed" },
      ],
    } as JobState & { tags: Array<{ Key: string; Value: string }> });
  }

  addPackage(stack: string, opts: { approval: string; metrics: Record<string, number>; job?: string; promotedFrom?: string }): string {
    const g = group(stack);
    const version = [...this.packages.values()].filter((p) => p.ModelPackageGroupName === g).length + 1;
    const arn = packageArn(stack, version);
    const job = opts.job ?? `churn-${stack}-2024${String(version).padStart(2, "0")}01-000000`;
    const key = `${bucket(stack, "artifacts")}/training-output/${job}/output/model.tar.gz`;
    this.putObject(key, tarGz({ "model.json": modelJsonOf(job) }));
    this.packages.set(arn, {
      ModelPackageName: g,
      ModelPackageGroupName: g,
      ModelPackageVersion: version,
      ModelPackageArn: arn,
      ModelPackageDescription: opts.promotedFrom ? `Promoted from ${opts.promotedFrom}` : `Trained by job ${job} from commit abc123`,
      CreationTime: new Date(this.clock + version * 1000),
      ModelPackageStatus: "Completed",
      ModelPackageStatusDetails: { ValidationStatuses: [] },
      ModelApprovalStatus: opts.approval as never,
      InferenceSpecification: {
        Containers: [{ Image: imageIn(stack), ModelDataUrl: `s3://${key}` }],
        SupportedContentTypes: ["text/csv"],
        SupportedResponseMIMETypes: ["application/json"],
      },
      CustomerMetadataProperties: {
        trainingJobName: job,
        gitCommit: "abc123",
        // What register records: the model's identity and the artifact's version and hash.
        modelIdentity: identityOf(modelJsonOf(job)),
        artifactSha256: sha256(this.objects.get(key)!).slice("sha256:".length),
        artifactVersionId: this.versions.get(key)!,
        ...(opts.promotedFrom ? { promotedFrom: opts.promotedFrom } : {}),
        ...Object.fromEntries(Object.entries(opts.metrics).map(([k, v]) => [`metric:${k}`, String(v)])),
      },
    });
    return arn;
  }

  /** Stores an object as S3 would: a new version id each time. */
  putObject(key: string, body: Buffer, checksum = false): string {
    this.objects.set(key, body);
    const version = `v${this.versions.size + 1}-${createHash("sha256")
      .update(key + this.clock + Math.random())
      .digest("hex")
      .slice(0, 8)}`;
    this.versions.set(key, version);
    this.modified.set(key, new Date(this.clock));
    if (checksum) this.checksums.set(key, createHash("sha256").update(body).digest("base64"));
    else this.checksums.delete(key);
    return version;
  }

  pinnedArn(stack: string): string | undefined {
    return /packageArn: (\S+)/.exec(this.stackText(stack))?.[1];
  }

  /** The identity of the model the stack file pins (what its endpoint serves after an update). */
  identityOfPin(stack: string): string | undefined {
    const arn = /packageArn: (\S+)/.exec(this.stackText(stack))?.[1];
    const url = arn ? this.packages.get(arn)?.InferenceSpecification?.Containers?.[0]?.ModelDataUrl : undefined;
    const archive = url ? this.objects.get(url.slice("s3://".length)) : undefined;
    if (!archive) return undefined;
    const text = gunzipSync(archive).toString("latin1");
    const m = /\{"format":"ml-core-gbdt","trainedBy":"[^"]*"\}/.exec(text);
    return m ? identityOf(m[0]) : undefined;
  }

  /** What `pulumi up` of a new pin does: a new endpoint config, and the endpoint switched to it (unless SageMaker rolls back). */
  deploy(stack: string): void {
    const name = endpoint(stack);
    const config = configName(stack, ++this.configCounter);
    this.configPackages.set(config, this.pinnedArn(stack));
    this.stacks.patchOutputs(stack, { endpointConfigName: config });
    if (this.rollsBack.has(stack)) {
      this.rollsBack.delete(stack);
      return;
    }
    this.endpointConfigs.set(name, config);
    this.served.set(name, this.identityOfPin(stack));
  }

  /** Every command sent to any of the clients, in order per client. */
  calls(): SentCall[] {
    return [this.sm, this.runtime, this.s3, this.ecr, this.sts, this.featureStore, this.athena].flatMap((m) =>
      m.calls().map((c) => {
        const cmd = c.args[0] as unknown as { constructor: { name: string }; input: Record<string, unknown> };
        return { command: cmd.constructor.name, input: cmd.input };
      }),
    );
  }

  /** Forgets the calls recorded so far (the state of the world stays). */
  resetCalls(): void {
    this.sm.resetHistory();
    this.runtime.resetHistory();
    this.s3.resetHistory();
    this.ecr.resetHistory();
    this.sts.resetHistory();
    this.featureStore.resetHistory();
    this.athena.resetHistory();
  }

  sent(command: string): Array<Record<string, unknown>> {
    return this.calls()
      .filter((c) => c.command === command)
      .map((c) => c.input);
  }

  async run(argv: string[], overrides: Partial<pkg.Deps> = {}): Promise<{ code: number; stdout: string; stderr: string; json: () => any }> {
    this.stdout.length = 0;
    this.stderr.length = 0;
    const code = await this.lib.main(argv, {
      streams: { stdout: { write: (t: string) => this.stdout.push(t) }, stderr: { write: (t: string) => this.stderr.push(t) } },
      repoRoot: this.dir,
      stacks: this.stacks,
      stackFiles: new this.lib.StackFiles(path.join(this.dir, "stacks")),
      aws: this.lib.createAwsClients({ retry: { maxAttempts: 3, delayMs: 1 } }),
      exec: async () => ({ code: 127, stdout: "", stderr: "not available in tests" }),
      gitCommit: async () => "0123456789abcdef0123456789abcdef01234567",
      now: () => (this.clock += 65_000),
      sleep: async () => undefined,
      pollIntervalMs: 0,
      fetch: this.fetch,
      signals: this.signals,
      ...overrides,
    });
    const stdout = this.stdout.join("");
    return { code, stdout, stderr: this.stderr.join(""), json: () => JSON.parse(stdout) };
  }

  dispose(): void {
    this.sm.restore();
    this.runtime.restore();
    this.s3.restore();
    this.ecr.restore();
    this.sts.restore();
    this.featureStore.restore();
    this.athena.restore();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private install(): void {
    this.featureStore.on(PutRecordCommand).resolves({});
    this.athena.on(StartQueryExecutionCommand).callsFake((input: { QueryString: string; WorkGroup?: string }) => {
      const id = `query-${this.queryWorkgroups.size + 1}`;
      this.queryWorkgroups.set(id, input.WorkGroup ?? "primary");
      const ddl = /^CREATE EXTERNAL TABLE `([^`]+)`\.`([^`]+)`[\s\S]*LOCATION '([^']+)'/.exec(input.QueryString);
      if (ddl) this.tableLocations.set(`${ddl[1]}.${ddl[2]}`, ddl[3]!);
      return { QueryExecutionId: id };
    });
    this.athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: "SUCCEEDED" } } });
    this.athena
      .on(GetQueryResultsCommand)
      .callsFake(() => ({ ResultSet: { Rows: this.athenaRows.map((r) => ({ Data: r.map((v) => ({ VarCharValue: v })) })) } }));
    const notFound = (name: string, message: string) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
    this.sm.on(CreateTrainingJobCommand).callsFake((input) => {
      const script = [...this.jobScript];
      this.jobs.set(input.TrainingJobName, {
        TrainingJobName: input.TrainingJobName,
        TrainingJobArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:training-job/${input.TrainingJobName}`,
        AlgorithmSpecification: input.AlgorithmSpecification,
        ModelArtifacts: { S3ModelArtifacts: `${input.OutputDataConfig.S3OutputPath}${input.TrainingJobName}/output/model.tar.gz` },
        CreationTime: new Date(this.clock),
        StoppingCondition: input.StoppingCondition,
        InputDataConfig: input.InputDataConfig,
        HyperParameters: input.HyperParameters,
        TrainingJobStatus: "InProgress",
        SecondaryStatus: "Starting",
        tags: input.Tags,
        script,
      } as never);
      return { TrainingJobArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:training-job/${input.TrainingJobName}` };
    });
    this.sm.on(DescribeTrainingJobCommand).callsFake((input) => {
      const job = this.jobs.get(input.TrainingJobName) as (JobState & { script?: Array<Partial<JobState>> }) | undefined;
      if (!job) throw notFound("ValidationException", `Requested resource not found: ${input.TrainingJobName}`);
      const next = job.script?.shift();
      if (next)
        Object.assign(job, next, {
          SecondaryStatusTransitions: [{ Status: next.SecondaryStatus, StartTime: new Date(this.clock), StatusMessage: `${next.SecondaryStatus} message` }],
        });
      if (job.TrainingJobStatus === "Completed" && !job.FinalMetricDataList) {
        job.FinalMetricDataList = [{ MetricName: "validation:auc", Value: 0.9 }];
        job.TrainingTimeInSeconds = 600;
        job.BillableTimeInSeconds = 200;
      }
      return { ...job };
    });
    this.sm.on(ListTagsCommand).callsFake((input) => ({ Tags: [...this.jobs.values()].find((j) => j.TrainingJobArn === input.ResourceArn)?.tags ?? [] }));
    this.sm.on(ListModelPackagesCommand).callsFake((input) => {
      const all = [...this.packages.values()]
        .filter((p) => p.ModelPackageGroupName === input.ModelPackageGroupName)
        .sort((a, b) => (b.ModelPackageVersion ?? 0) - (a.ModelPackageVersion ?? 0));
      // Two per page, to exercise the paginators.
      const start = Number(input.NextToken ?? 0);
      const size = Math.min(input.MaxResults ?? 2, 2);
      const page = all.slice(start, start + size);
      return {
        ModelPackageSummaryList: page.map((p) => ({
          ModelPackageArn: p.ModelPackageArn,
          ModelPackageGroupName: p.ModelPackageGroupName,
          ModelPackageVersion: p.ModelPackageVersion,
          ModelPackageDescription: p.ModelPackageDescription,
          ModelApprovalStatus: p.ModelApprovalStatus,
          ModelPackageStatus: p.ModelPackageStatus,
          CreationTime: p.CreationTime,
        })),
        NextToken: start + size < all.length ? String(start + size) : undefined,
      };
    });
    this.sm.on(DescribeModelPackageCommand).callsFake((input) => {
      const p = this.packages.get(input.ModelPackageName);
      if (!p) throw notFound("ValidationException", `ModelPackage ${input.ModelPackageName} does not exist.`);
      return structuredClone(p);
    });
    this.sm.on(CreateModelPackageCommand).callsFake((input) => {
      const known = input.ClientToken && this.tokens.get(input.ClientToken);
      if (known) return { ModelPackageArn: known };
      const g = input.ModelPackageGroupName;
      const version = [...this.packages.values()].filter((p) => p.ModelPackageGroupName === g).length + 1;
      const arn = `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/${g}/${version}`;
      this.packages.set(arn, {
        ModelPackageName: g,
        ModelPackageGroupName: g,
        ModelPackageVersion: version,
        ModelPackageArn: arn,
        ModelPackageDescription: input.ModelPackageDescription,
        CreationTime: new Date(this.clock),
        ModelPackageStatus: "Completed",
        ModelPackageStatusDetails: { ValidationStatuses: [] },
        ModelApprovalStatus: input.ModelApprovalStatus,
        InferenceSpecification: input.InferenceSpecification,
        CustomerMetadataProperties: input.CustomerMetadataProperties,
        MetadataProperties: input.MetadataProperties,
        ModelMetrics: input.ModelMetrics,
      });
      if (input.ClientToken) this.tokens.set(input.ClientToken, arn);
      return { ModelPackageArn: arn };
    });
    this.sm.on(UpdateModelPackageCommand).callsFake((input) => {
      const p = this.packages.get(input.ModelPackageArn);
      if (!p) throw notFound("ValidationException", `ModelPackage ${input.ModelPackageArn} does not exist.`);
      Object.assign(p, { ModelApprovalStatus: input.ModelApprovalStatus, ApprovalDescription: input.ApprovalDescription });
      return { ModelPackageArn: input.ModelPackageArn };
    });
    this.sm.on(DescribeEndpointCommand).callsFake((input) => {
      const status = this.endpoints.get(input.EndpointName);
      if (!status) throw notFound("ValidationException", `Could not find endpoint "${input.EndpointName}".`);
      return {
        EndpointName: input.EndpointName,
        EndpointStatus: status,
        EndpointConfigName: this.endpointConfigs.get(input.EndpointName),
        ...(status === "Failed" ? { FailureReason: "model container failed its ping" } : {}),
      };
    });
    this.sm.on(DescribeEndpointConfigCommand).callsFake((input) => {
      if (!this.configPackages.has(input.EndpointConfigName))
        throw notFound("ValidationException", `Could not find endpoint configuration "${input.EndpointConfigName}".`);
      return {
        EndpointConfigName: input.EndpointConfigName,
        ProductionVariants: [{ VariantName: "primary", ModelName: input.EndpointConfigName.replace("-config-", "-model-") }],
      };
    });
    this.sm.on(DescribeModelCommand).callsFake((input) => {
      const config = input.ModelName.replace("-model-", "-config-");
      if (!this.configPackages.has(config)) throw notFound("ValidationException", `Could not find model "${input.ModelName}".`);
      return {
        ModelName: input.ModelName,
        ModelArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model/${input.ModelName}`,
        PrimaryContainer: { ModelPackageName: this.configPackages.get(config) },
      };
    });
    this.runtime.on(InvokeEndpointCommand).callsFake(async (input) => {
      if (this.invokeDelayMs > 0) await new Promise((r) => setTimeout(r, this.invokeDelayMs));
      if (this.invoke === "error") throw Object.assign(new Error("Received server error (500) from primary: model failed"), { name: "ModelError" });
      const body = Buffer.from(input.Body).toString("utf8");
      const rows = input.ContentType === "text/csv" ? body.trim().split("\n").length : (JSON.parse(body) as { instances: unknown[] }).instances.length;
      const n = this.invoke === "wrong-count" ? rows - 1 : rows;
      const predictions = Array.from({ length: n }, (_, i) => ({ predicted_label: i % 2, probabilities: { "0": 0.25, "1": 0.75 } }));
      return { ContentType: "application/json", Body: Buffer.from(JSON.stringify({ predictions })), CustomAttributes: this.served.get(input.EndpointName) };
    });
    const s3NotFound = (key: string) => Object.assign(new Error(`NoSuchKey: ${key}`), { name: "NoSuchKey", $metadata: { httpStatusCode: 404 } });
    this.s3.on(ListObjectsV2Command).callsFake((input) => ({
      Contents: [...this.objects.entries()]
        .filter(([k]) => k.startsWith(`${input.Bucket}/${input.Prefix ?? ""}`))
        .map(([k, v]) => ({ Key: k.slice(input.Bucket.length + 1), Size: v.length, ETag: `"${v.length}"`, LastModified: this.modified.get(k) })),
    }));
    const noSuchVersion = (key: string) => Object.assign(new Error(`NoSuchVersion: ${key}`), { name: "NoSuchVersion", $metadata: { httpStatusCode: 404 } });
    const preconditionFailed = () =>
      Object.assign(new Error("At least one of the pre-conditions you specified did not hold"), {
        name: "PreconditionFailed",
        $metadata: { httpStatusCode: 412 },
      });
    const current = (key: string, versionId?: string) => {
      const body = this.objects.get(key);
      if (!body) throw s3NotFound(key);
      if (versionId !== undefined && versionId !== this.versions.get(key)) throw noSuchVersion(key);
      return body;
    };
    this.s3.on(GetObjectCommand).callsFake((input) => {
      const body = current(`${input.Bucket}/${input.Key}`, input.VersionId);
      const range = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? "");
      const bytes = range ? body.subarray(Number(range[1]), Number(range[2]) + 1) : body;
      return { Body: Readable.from([bytes]), ContentLength: bytes.length, VersionId: this.versions.get(`${input.Bucket}/${input.Key}`) };
    });
    this.s3.on(HeadObjectCommand).callsFake((input) => {
      const key = `${input.Bucket}/${input.Key}`;
      const body = current(key, input.VersionId);
      const checksum = input.ChecksumMode === "ENABLED" ? this.checksums.get(key) : undefined;
      return { ContentLength: body.length, VersionId: this.versions.get(key), ...(checksum ? { ChecksumSHA256: checksum, ChecksumType: "FULL_OBJECT" } : {}) };
    });
    // The artifact bucket's policy enforces conditional writes under models/ (infra's bucket policy).
    // S3's documented behaviour there (User Guide, "Enforce conditional writes on Amazon S3
    // buckets"): a PutObject without If-None-Match is denied, and a CopyObject fails either way
    // (403 without a conditional header, 501 Not Implemented with one).
    const enforced = (key: string) => /^[^/]*-artifacts\/models\//.test(key);
    const accessDenied = () => Object.assign(new Error("Access Denied"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
    this.s3.on(PutObjectCommand).callsFake(async (input) => {
      const key = `${input.Bucket}/${input.Key}`;
      if (enforced(key) && input.IfNoneMatch !== "*") throw accessDenied();
      if (input.IfNoneMatch === "*" && this.objects.has(key)) throw preconditionFailed();
      const body = await bytesOf(input.Body);
      const stored = this.corruptCopies && input.ChecksumAlgorithm === "SHA256" ? Buffer.concat([body, Buffer.from("!")]) : body;
      return { VersionId: this.putObject(key, stored, input.ChecksumAlgorithm === "SHA256") };
    });
    this.s3.on(CopyObjectCommand).callsFake((input) => {
      const key = `${input.Bucket}/${input.Key}`;
      if (enforced(key)) {
        if (input.IfNoneMatch === undefined && input.IfMatch === undefined) throw accessDenied();
        throw Object.assign(new Error("A header you provided implies functionality that is not implemented"), {
          name: "NotImplemented",
          $metadata: { httpStatusCode: 501 },
        });
      }
      const [path, query = ""] = input.CopySource.split("?");
      const body = current(decodeURIComponent(path!), new URLSearchParams(query).get("versionId") ?? undefined);
      if (input.IfNoneMatch === "*" && this.objects.has(key)) throw preconditionFailed();
      return { VersionId: this.putObject(key, body, input.ChecksumAlgorithm === "SHA256"), CopyObjectResult: {} };
    });
    this.installEcr();
    this.sts.on(AssumeRoleCommand).callsFake((input) => {
      if (this.untrustedRoles.has(input.RoleArn)) {
        throw Object.assign(
          new Error(`User: arn:aws:sts::${ACCOUNT}:assumed-role/ci/runner is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`),
          { name: "AccessDenied", $metadata: { httpStatusCode: 403 } },
        );
      }
      return { Credentials: { AccessKeyId: "ASIAUPDATER", SecretAccessKey: "secret", SessionToken: "token", Expiration: new Date(this.clock + 900_000) } };
    });
  }

  /** Downloads a layer from a presigned URL GetDownloadUrlForLayer gave out. */
  readonly fetch: typeof fetch = async (url) => {
    this.downloads.push(String(url));
    const digest = /\/(sha256:[0-9a-f]{64})$/.exec(String(url))?.[1];
    const blob = digest ? this.blobStore.get(digest) : undefined;
    return blob ? new Response(new Uint8Array(blob)) : new Response("no such layer", { status: 404 });
  };

  private installEcr(): void {
    const ecrError = (name: string, message: string) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
    const repo = (name: string) => {
      const r = this.repos.get(name);
      if (!r) throw ecrError("RepositoryNotFoundException", `The repository with name '${name}' does not exist`);
      return r;
    };
    this.ecr.on(BatchGetImageCommand).callsFake((input) => {
      const r = repo(input.repositoryName);
      const images = input.imageIds.flatMap((id: { imageDigest: string }) => {
        const m = r.manifests.get(id.imageDigest);
        return m
          ? [{ repositoryName: input.repositoryName, imageId: { imageDigest: id.imageDigest }, imageManifest: m.manifest, imageManifestMediaType: m.mediaType }]
          : [];
      });
      return {
        images,
        failures: images.length ? [] : [{ imageId: input.imageIds[0], failureCode: "ImageNotFound", failureReason: "Requested image not found" }],
      };
    });
    this.ecr.on(BatchCheckLayerAvailabilityCommand).callsFake((input) => {
      const r = repo(input.repositoryName);
      return {
        layers: input.layerDigests.filter((d: string) => r.blobs.has(d)).map((layerDigest: string) => ({ layerDigest, layerAvailability: "AVAILABLE" })),
        failures: input.layerDigests.filter((d: string) => !r.blobs.has(d)).map((layerDigest: string) => ({ layerDigest, failureCode: "MissingLayerDigest" })),
      };
    });
    this.ecr.on(GetDownloadUrlForLayerCommand).callsFake((input) => {
      if (!repo(input.repositoryName).blobs.has(input.layerDigest)) throw ecrError("LayersNotFoundException", `layer ${input.layerDigest} not found`);
      return {
        downloadUrl: `https://prod-${REGION}-starport-layer-bucket.s3.amazonaws.com/${input.repositoryName}/${input.layerDigest}`,
        layerDigest: input.layerDigest,
      };
    });
    this.ecr.on(InitiateLayerUploadCommand).callsFake((input) => {
      repo(input.repositoryName);
      const uploadId = `upload-${this.uploads.size + 1}`;
      this.uploads.set(uploadId, { repo: input.repositoryName, parts: [], next: 0 });
      // Small parts, so a blob takes several.
      return { uploadId, partSize: 8 };
    });
    this.ecr.on(UploadLayerPartCommand).callsFake((input) => {
      const u = this.uploads.get(input.uploadId)!;
      if (input.partFirstByte !== u.next) throw ecrError("InvalidLayerPartException", `expected part at ${u.next}, got ${input.partFirstByte}`);
      u.parts.push(Buffer.from(input.layerPartBlob));
      u.next = input.partLastByte + 1;
      return { uploadId: input.uploadId, lastByteReceived: input.partLastByte };
    });
    this.ecr.on(CompleteLayerUploadCommand).callsFake((input) => {
      const u = this.uploads.get(input.uploadId)!;
      const bytes = Buffer.concat(u.parts);
      const digest = input.layerDigests[0];
      if (sha256(bytes) !== digest) throw ecrError("InvalidLayerException", `the layer's digest is ${sha256(bytes)}, not ${digest}`);
      this.blobStore.set(digest, bytes);
      repo(u.repo).blobs.add(digest);
      return { layerDigest: digest, uploadId: input.uploadId };
    });
    this.ecr.on(PutImageCommand).callsFake((input) => {
      const r = repo(input.repositoryName);
      const manifest = JSON.parse(input.imageManifest) as { config?: { digest: string }; layers?: Array<{ digest: string }> };
      const missing = [manifest.config?.digest, ...(manifest.layers ?? []).map((l) => l.digest)].filter((d): d is string => !!d && !r.blobs.has(d));
      if (missing.length > 0) throw ecrError("LayersNotFoundException", `The following layers were not found: ${missing.join(", ")}`);
      const digest = this.ecrChangesDigest ? sha256(`${input.imageManifest}\n`) : sha256(input.imageManifest);
      r.manifests.set(digest, { manifest: input.imageManifest, mediaType: input.imageManifestMediaType });
      return { image: { repositoryName: input.repositoryName, imageId: { imageDigest: digest }, imageManifest: input.imageManifest } };
    });
  }
}

/** A request body as the SDK takes it (string, bytes or a stream), read whole. */
async function bytesOf(body: unknown): Promise<Buffer> {
  if (typeof body === "string") return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
