import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as lib from "../src/index";
import { CsvDigest } from "../src/data/digest";
import { COMPLETED_JOB, IMAGE, VALIDATION_CSV, World, bucket, kmsKey, modelJsonOf, tarGz } from "./world";

let world: World;
beforeEach(() => {
  world = new World(lib);
});
afterEach(() => world.dispose());

const DATASETS = bucket("dev", "datasets");
const TRAIN_KEY = `${DATASETS}/datasets/churn/v1/train/part-0.csv`;
const hex = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

describe("data snapshot", () => {
  it("records every object's URI, S3 version, size, SHA-256 of its bytes, rows and header hash, under a manifest id that is the hash of its canonical JSON", async () => {
    const version = world.putObject(TRAIN_KEY, Buffer.from(VALIDATION_CSV));
    const r = await world.run(["data", "snapshot", "--stack", "dev", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const { manifestId, objects } = r.json();
    expect(objects).toContainEqual({
      channel: "train",
      uri: `s3://${TRAIN_KEY}`,
      versionId: version,
      size: VALIDATION_CSV.length,
      sha256: hex(VALIDATION_CSV),
      // Six records; the quoted "pro, annual" is one field.
      rows: 6,
      schemaSha256: hex("tenure,plan,monthly,churn"),
    });
    const stored = world.objects.get(`${DATASETS}/datasets/manifests/${manifestId}.json`)!.toString("utf8");
    expect(hex(stored)).toBe(manifestId);
    // Canonical: sorted keys, no whitespace.
    expect(stored.startsWith('{"format":"ml-platform/dataset-manifest@1","objects":[{"channel":"train","rows":6,')).toBe(true);
    expect(stored).not.toMatch(/\s/);
  });

  it("copies each content to a write-once, content-addressed key, checked by S3 against the SHA-256, and writes SageMaker ManifestFiles of those keys", async () => {
    const r = await world.run(["data", "snapshot", "--stack", "dev", "--json"]);
    const id = r.json().manifestId;
    const puts = world.sent("PutObjectCommand");
    expect(puts.length).toBeGreaterThan(0);
    for (const put of puts) expect(put).toMatchObject({ Bucket: DATASETS, IfNoneMatch: "*", ServerSideEncryption: "aws:kms", SSEKMSKeyId: kmsKey("dev") });
    const copy = puts.find((p) => p.Key === `datasets/sha256/${hex(VALIDATION_CSV)}`)!;
    expect(copy.ChecksumSHA256).toBe(createHash("sha256").update(VALIDATION_CSV).digest("base64"));
    expect(world.objects.get(`${DATASETS}/datasets/sha256/${hex(VALIDATION_CSV)}`)!.toString()).toBe(VALIDATION_CSV);
    expect(JSON.parse(world.objects.get(`${DATASETS}/datasets/manifests/${id}/train.manifest`)!.toString())).toEqual([
      { prefix: `s3://${DATASETS}/datasets/sha256/` },
      hex(VALIDATION_CSV),
    ]);
  });

  it("gives the same id and writes nothing for unchanged data; one changed byte gives another id", async () => {
    const first = (await world.run(["data", "snapshot", "--stack", "dev", "--json"])).json();
    world.resetCalls();
    const again = (await world.run(["data", "snapshot", "--stack", "dev", "--json"])).json();
    expect(again.manifestId).toBe(first.manifestId);
    expect(again.created).toBe(false);
    expect(world.sent("PutObjectCommand").filter((p) => String(p.Key).startsWith("datasets/sha256/"))).toEqual([]);
    // Same bytes, new S3 version: a new manifest (it names the version read).
    world.putObject(TRAIN_KEY, Buffer.from(VALIDATION_CSV.replace("29.5", "29.6")));
    const changed = (await world.run(["data", "snapshot", "--stack", "dev", "--json"])).json();
    expect(changed.manifestId).not.toBe(first.manifestId);
  });

  it("refuses a --prefix outside the datasets the training role may read", async () => {
    const r = await world.run(["data", "snapshot", "--stack", "dev", "--prefix", "raw/churn"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--prefix raw/churn: a dataset lives under datasets/<name>/");
  });
});

describe("CSV digest", () => {
  it.each([
    ["a,b\n1,2\n3,4\n", 2],
    ["a,b\n1,2\n3,4", 2],
    ['a,b\r\n1,"x\ny"\r\n', 1],
    ["a,b\n", 0],
  ])("%j has %i rows", (text, rows) => {
    const d = new CsvDigest();
    // Byte by byte: a header and a quoted field split across chunks.
    for (const b of Buffer.from(text)) d.update(Uint8Array.of(b));
    expect(d.digest()).toMatchObject({ rows, size: Buffer.byteLength(text), sha256: hex(text), schemaSha256: hex("a,b") });
  });
});

describe("lineage against the cloud, end to end", () => {
  /** snapshot → train → register → deploy: the chain lineage must walk back. */
  async function release(): Promise<{ manifestId: string; job: string; version: number }> {
    const manifestId = (await world.run(["data", "snapshot", "--stack", "dev", "--json"])).json().manifestId;
    const trained = await world.run(["train", "--stack", "dev", "--image", IMAGE, "--wait", "--json"]);
    expect(trained.code, trained.stderr).toBe(0);
    const job = trained.json().jobName as string;
    world.putObject(
      `${bucket("dev", "artifacts")}/training-output/${job}/output/model.tar.gz`,
      tarGz({ "model.json": modelJsonOf(job), "metrics.json": '{"validation:auc":0.9}' }),
    );
    const registered = await world.run(["register", "--stack", "dev", "--job", job, "--json"]);
    expect(registered.code, registered.stderr).toBe(0);
    const version = registered.json().version.version as number;
    const deployed = await world.run(["deploy", "--stack", "dev", "--version", String(version)]);
    expect(deployed.code, deployed.stderr).toBe(0);
    return { manifestId, job, version };
  }

  it("register records manifest, image digest, commit, hyperparameters and the job's ARN", async () => {
    const { manifestId, job } = await release();
    const [input] = world.sent("CreateModelPackageCommand");
    expect(input!.CustomerMetadataProperties).toMatchObject({
      datasetManifestId: manifestId,
      datasetManifestUri: `s3://${DATASETS}/datasets/manifests/${manifestId}.json`,
      imageDigest: IMAGE.split("@")[1],
      gitCommit: "0123456789abcdef0123456789abcdef01234567",
      hyperparameters: '{"early_stopping_rounds":"10","label":"churn","learning_rate":"0.1","num_round":"200","objective":"binary"}',
      hyperparametersSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      trainingJobArn: expect.stringContaining(`:training-job/${job}`),
    });
  });

  it("walks endpoint → config → model → model package → training job → manifest → objects, and --verify re-reads each object version", async () => {
    const { manifestId, job, version } = await release();
    const r = await world.run(["lineage", "--stack", "dev", "--verify", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const [chain] = r.json().chains;
    expect(chain.version).toBe(version);
    expect(chain.links.map((l: { kind: string }) => l.kind)).toEqual([
      "endpoint",
      "endpoint-config",
      "model",
      "model-package",
      "training-job",
      "dataset-manifest",
      "object",
      "object",
    ]);
    expect(chain.links[4]).toMatchObject({ name: job, details: { image: IMAGE } });
    expect(chain.links[5]).toMatchObject({ name: manifestId, details: { objects: 2 } });
    expect(chain.problems).toEqual([]);
    const text = await world.run(["lineage", "--stack", "dev"]);
    expect(text.stdout).toContain(`→ dataset manifest ${manifestId}`);
    expect(text.stdout).toContain(`→ object s3://${TRAIN_KEY}`);
  });

  it("--verify fails naming the object whose recorded version is gone", async () => {
    world.putObject(TRAIN_KEY, Buffer.from(VALIDATION_CSV));
    const { version } = await release();
    // Overwritten: the recorded version no longer exists (the world keeps the current one only).
    world.putObject(TRAIN_KEY, Buffer.from("tenure,plan,monthly,churn\n1,basic,1,0\n"));
    const r = await world.run(["lineage", "--stack", "dev", "--version", String(version), "--verify"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`version ${version}: s3://${TRAIN_KEY} version \\S+ no longer exists`));
  });

  it("--verify fails naming an object of an unversioned bucket whose bytes changed, with both hashes", async () => {
    const { version } = await release();
    world.objects.set(TRAIN_KEY, Buffer.from(VALIDATION_CSV.replace("29.5", "29.6")));
    const r = await world.run(["lineage", "--stack", "dev", "--version", String(version), "--verify"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `s3://${TRAIN_KEY} version (none) has SHA-256 ${hex(VALIDATION_CSV.replace("29.5", "29.6"))}, the manifest records ${hex(VALIDATION_CSV)}`,
    );
  });

  it("says so when a version has no manifest (registered before manifests)", async () => {
    const registered = await world.run(["register", "--stack", "dev", "--job", COMPLETED_JOB, "--json"]);
    expect(registered.stderr).toContain("has no dataset manifest channel");
    const r = await world.run(["lineage", "--stack", "dev", "--version", String(registered.json().version.version), "--verify"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no dataset manifest is recorded");
  });
});
