/**
 * Issue 13: the release flow must survive a real AWS account. One block per problem: who runs the
 * model change's update, what the endpoint really runs afterwards, which model answers, images per
 * stage, immutable artifacts, policy packs, cancellation and concurrent runs.
 */
import { mkdirSync, existsSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as lib from "../src/index";
import { objectSha256 } from "../src/registry/artifact";
import { runSmoke } from "../src/smoke/run";
import { lockPath } from "../src/stacks/lock";
import {
  IMAGE_BLOBS,
  IMAGE_DIGEST,
  IMAGE_MANIFEST,
  World,
  bucket,
  configName,
  endpoint,
  group,
  identityOf,
  imageIn,
  packageArn,
  repositoryName,
  updaterRole,
} from "./world";
import { createHash } from "node:crypto";

let world: World;
beforeEach(() => {
  world = new World(lib);
});
afterEach(() => world.dispose());

const ops = () => world.stacks.calls.filter((c) => c.op !== "outputs").map((c) => `${c.op} ${c.stack}`);
const runOptions = () => world.stacks.calls.filter((c) => c.op === "preview" || c.op === "up").map((c) => c.options);
const deployDev2 = ["deploy", "--stack", "dev", "--version", "2"];
const promoteToStaging = ["promote", "--from", "dev", "--to", "staging"];
const noApprovalIn = (stack: string) =>
  writeFileSync(world.stackPath(stack), world.stackText(stack).replace("requireApproval: true", "requireApproval: false"));
const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

describe("1. the model change's pulumi up runs as the stage's endpoint-updater role", () => {
  it.each([
    ["deploy", deployDev2, "dev"],
    ["rollback", ["rollback", "--stack", "prod", "--yes"], "prod"],
  ])("%s: the preview and the update act as updaterRoleArn, never with the caller's credentials", async (command, argv, stack) => {
    const r = await world.run(argv);
    expect(r.code, r.stderr).toBe(0);
    expect(runOptions()).toEqual([
      { env: { ML_PLATFORM_PROVIDER_ROLE_ARN: updaterRole(stack) }, policyPacks: [], policyPackConfigs: [] },
      { env: { ML_PLATFORM_PROVIDER_ROLE_ARN: updaterRole(stack) }, policyPacks: [], policyPackConfigs: [] },
    ]);
    expect(world.sent("AssumeRoleCommand")).toEqual([
      {
        RoleArn: updaterRole(stack),
        RoleSessionName: `ml-deploy-${command}-${stack}`,
        Tags: [{ Key: "ml-deploy-command", Value: command }],
        DurationSeconds: 900,
      },
    ]);
  });

  it("the re-apply after a failed update runs as the updater too", async () => {
    world.stacks.failUp("dev");
    const r = await world.run(deployDev2);
    expect(r.code).toBe(1);
    expect(ops()).toEqual(["preview dev", "up dev", "up dev"]);
    expect(runOptions().map((o) => o?.env)).toEqual(Array(3).fill({ ML_PLATFORM_PROVIDER_ROLE_ARN: updaterRole("dev") }));
  });

  it("a stack without updaterRoleArn is refused before anything changes, naming the platform admin's pulumi up", async () => {
    world.stacks.patchOutputs("dev", { updaterRoleArn: undefined });
    const before = world.stackText("dev");
    const r = await world.run(deployDev2);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error: stack "dev" has no updaterRoleArn output: ml-deploy runs the pulumi up of a model change as the stage\'s endpoint-updater role',
    );
    expect(r.stderr).toContain("hint: the platform admin must first run `pulumi up --stack dev` with the current infra program");
    expect(world.stackText("dev")).toBe(before);
    expect(ops()).toEqual([]);
  });

  it("a caller the updater role does not trust fails before the stack file is edited", async () => {
    world.untrustedRoles.add(updaterRole("dev"));
    const before = world.stackText("dev");
    const r = await world.run(deployDev2);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: cannot act as stack "dev"'s endpoint-updater role ${updaterRole("dev")}: AccessDenied:`);
    expect(world.stackText("dev")).toBe(before);
    expect(ops()).toEqual([]);
  });
});

describe("2. after the update, the endpoint must run the configuration it deployed", () => {
  it("passes when the endpoint is InService on the stack's new endpointConfigName", async () => {
    const r = await world.run([...deployDev2, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(world.endpointConfigs.get(endpoint("dev"))).toBe(configName("dev", 1));
  });

  it("a silent SageMaker rollback (InService on the old config) fails, restores the pin and re-applies it", async () => {
    world.rollsBack.add("dev");
    const before = world.stackText("dev");
    const r = await world.run(deployDev2);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: SageMaker rolled back the update of stack "dev"; stack "dev" is back on the previous version');
    expect(r.stderr).toContain(
      `endpoint ${endpoint("dev")} of stack "dev" is InService on endpoint config ${configName("dev", 0)}, not ${configName("dev", 1)}, which this update deployed`,
    );
    expect(world.stackText("dev")).toBe(before);
    expect(ops()).toEqual(["preview dev", "up dev", "up dev"]);
    // The old model answered; the smoke test never ran against it as if it were the new one.
    expect(world.sent("InvokeEndpointCommand")).toEqual([]);
  });

  it("a promoted copy SageMaker rolled back is rejected in the target, with the reason", async () => {
    noApprovalIn("staging");
    world.rollsBack.add("staging");
    const r = await world.run(promoteToStaging);
    expect(r.code).toBe(1);
    expect(world.packages.get(packageArn("staging", 2))).toMatchObject({
      ModelApprovalStatus: "Rejected",
      ApprovalDescription: expect.stringContaining("SageMaker rolled the update back"),
    });
  });
});

describe("3. the smoke test checks that the expected version answers", () => {
  it("fails when the endpoint answers with another model, naming both", async () => {
    const expected = world.packages.get(packageArn("dev", 1))!.CustomerMetadataProperties!.modelIdentity!;
    world.served.set(endpoint("dev"), identityOf("another model"));
    const r = await world.run(["smoke", "--stack", "dev"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`csv request: answered by model ${identityOf("another model")}, expected model ${expected}`);
  });

  it("a deploy whose endpoint still serves the old model fails its smoke test and is put back", async () => {
    world.afterUp = () => world.served.set(endpoint("dev"), world.packages.get(packageArn("dev", 1))!.CustomerMetadataProperties!.modelIdentity);
    const before = world.stackText("dev");
    const r = await world.run(deployDev2);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("answered by model model-sha256=");
    expect(world.stackText("dev")).toBe(before);
  });

  it("a response without an identity fails when one is expected", async () => {
    const transport = {
      target: "t",
      send: async () => ({ status: 200, contentType: "application/json", body: '{"predictions":[{"score":0.5}]}', latencyMs: 1 }),
    };
    const result = await runSmoke(transport, { columns: ["a"], rows: [["1"]] }, { maxLatencyMs: 100, warmUp: false, expectedIdentity: "model-sha256=abc" });
    expect(result.problems).toEqual([
      "csv request: answered by a model that sent no identity (no CustomAttributes), expected model model-sha256=abc",
      "json request: answered by a model that sent no identity (no CustomAttributes), expected model model-sha256=abc",
    ]);
  });
});

describe("4. each stage serves its image from its own repository, by digest", () => {
  const [config, layer1, layer2] = IMAGE_BLOBS.map((b) => `sha256:${sha(b)}`);

  beforeEach(() => {
    // staging's repository has the config and the first layer (an earlier image shared them), not the second.
    world.repos.set(repositoryName("staging"), { manifests: new Map(), blobs: new Set([config!, layer1!]) });
  });

  it("copies exactly the missing blobs, then puts the manifest under the same digest, and registers the target's image", async () => {
    const r = await world.run(promoteToStaging);
    expect(r.code, r.stderr).toBe(0);
    expect(world.sent("BatchCheckLayerAvailabilityCommand")).toEqual([
      { registryId: "111122223333", repositoryName: repositoryName("staging"), layerDigests: [config, layer1, layer2] },
    ]);
    expect(world.sent("GetDownloadUrlForLayerCommand").map((i) => [i.repositoryName, i.layerDigest])).toEqual([[repositoryName("dev"), layer2]]);
    expect(world.downloads).toHaveLength(1);
    expect(world.sent("CompleteLayerUploadCommand").map((i) => i.layerDigests)).toEqual([[layer2]]);
    // Parts of the size ECR asked for (8 bytes in the mock), in order.
    const parts = world.sent("UploadLayerPartCommand");
    expect(parts.map((p) => p.partFirstByte)).toEqual(Array.from({ length: Math.ceil(IMAGE_BLOBS[2]!.length / 8) }, (_, i) => i * 8));
    expect(world.sent("PutImageCommand")).toEqual([
      {
        registryId: "111122223333",
        repositoryName: repositoryName("staging"),
        imageManifest: IMAGE_MANIFEST,
        imageManifestMediaType: "application/vnd.oci.image.manifest.v1+json",
        imageDigest: IMAGE_DIGEST,
      },
    ]);
    expect(world.repos.get(repositoryName("staging"))!.manifests.has(IMAGE_DIGEST)).toBe(true);
    const [create] = world.sent("CreateModelPackageCommand");
    expect((create!.InferenceSpecification as { Containers: Array<{ Image: string }> }).Containers[0]!.Image).toBe(imageIn("staging"));
  });

  it("an image the target already holds is not uploaded again", async () => {
    world.repos.set(repositoryName("staging"), { manifests: new Map(), blobs: new Set([config!, layer1!, layer2!]) });
    const r = await world.run(promoteToStaging);
    expect(r.code, r.stderr).toBe(0);
    expect(world.sent("InitiateLayerUploadCommand")).toEqual([]);
    expect(world.downloads).toEqual([]);
    expect(world.sent("PutImageCommand")).toHaveLength(1);
  });

  it("a digest in the target other than the source's fails, and nothing is registered", async () => {
    world.ecrChangesDigest = true;
    const r = await world.run(promoteToStaging);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: copying ${repositoryName("dev")}@${IMAGE_DIGEST} into ${repositoryName("staging")} produced digest sha256:`);
    expect(world.sent("CreateModelPackageCommand")).toEqual([]);
  });

  it("a corrupt layer download fails before the layer is completed", async () => {
    world.blobStore.set(layer2!, Buffer.from("not the layer"));
    const r = await world.run(promoteToStaging);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`layer ${layer2} of ${repositoryName("dev")} downloaded as sha256:`);
    expect(world.sent("CompleteLayerUploadCommand")).toEqual([]);
    expect(world.sent("CreateModelPackageCommand")).toEqual([]);
  });
});

describe("6. immutable artifacts", () => {
  const devArtifact = `${bucket("dev", "artifacts")}/training-output/churn-dev-20240101-000000/output/model.tar.gz`;
  const copyKey = `models/promoted/${group("dev")}/1/model.tar.gz`;

  it("promote copies exactly the registered S3 version, write-once, and checks the copy's SHA-256", async () => {
    const r = await world.run(promoteToStaging);
    expect(r.code, r.stderr).toBe(0);
    // Streamed, not CopyObject: S3 refuses a CopyObject into a prefix that enforces conditional writes.
    expect(world.sent("CopyObjectCommand")).toEqual([]);
    expect(world.sent("GetObjectCommand")).toContainEqual({
      Bucket: bucket("dev", "artifacts"),
      Key: "training-output/churn-dev-20240101-000000/output/model.tar.gz",
      VersionId: world.versions.get(devArtifact),
    });
    const copy = world.sent("PutObjectCommand").find((p) => p.Key === copyKey);
    expect(copy).toMatchObject({
      Bucket: bucket("staging", "artifacts"),
      Key: copyKey,
      ContentLength: world.objects.get(devArtifact)!.length,
      IfNoneMatch: "*",
      ChecksumAlgorithm: "SHA256",
      SSEKMSKeyId: expect.stringContaining("staging-key"),
    });
    // Checked by S3's full-object checksum of the copy, not by reading it back.
    expect(world.sent("HeadObjectCommand")).toContainEqual({ Bucket: bucket("staging", "artifacts"), Key: copyKey, ChecksumMode: "ENABLED" });
    const [create] = world.sent("CreateModelPackageCommand");
    expect(create!.CustomerMetadataProperties).toMatchObject({
      artifactSha256: sha(world.objects.get(devArtifact)!),
      artifactVersionId: world.versions.get(`${bucket("staging", "artifacts")}/${copyKey}`),
    });
  });

  it("a copy whose SHA-256 differs fails, registers nothing and deletes nothing", async () => {
    world.corruptCopies = true;
    const r = await world.run(promoteToStaging);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: the copy s3://${bucket("staging", "artifacts")}/${copyKey} has SHA-256 `);
    expect(r.stderr).toContain(`but the registered artifact has ${sha(world.objects.get(devArtifact)!)}`);
    expect(r.stderr).toContain("nothing was registered and nothing was deleted");
    expect(world.sent("CreateModelPackageCommand")).toEqual([]);
    expect(world.calls().filter((c) => c.command.startsWith("Delete"))).toEqual([]);
    expect(world.objects.has(`${bucket("staging", "artifacts")}/${copyKey}`)).toBe(true);
  });

  it("a copy an earlier run left is never overwritten: it is verified and reused", async () => {
    world.putObject(`${bucket("staging", "artifacts")}/${copyKey}`, world.objects.get(devArtifact)!);
    const r = await world.run(promoteToStaging);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("an earlier run's copy");
    // A different earlier copy fails the check instead.
    world.dispose();
    world = new World(lib);
    world.putObject(`${bucket("staging", "artifacts")}/${copyKey}`, Buffer.from("something else"));
    const bad = await world.run(promoteToStaging);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("(written by an earlier run) has SHA-256");
  });

  it("hashes the bytes when S3's checksum is composite (a multipart upload): a checksum of parts is not the object's hash", async () => {
    const key = `${bucket("dev", "artifacts")}/big/model.tar.gz`;
    world.putObject(key, Buffer.from("multipart body"));
    world.checksums.set(key, "q6bq0e6bOWH1ZVwbXuZAl1Ay5LqfN9o4CMWs5rpQLrY=-3");
    const client = lib.createAwsClients().s3("eu-west-1");
    const got = await objectSha256(client, { bucket: bucket("dev", "artifacts"), key: "big/model.tar.gz" });
    expect(got.sha256).toBe(sha("multipart body"));
    expect(world.sent("GetObjectCommand")).toHaveLength(1);
  });
});

describe("7. a stage's settings decide its policy packs", () => {
  const PACK = "  mlPlatform:policyPack:\n    required: true\n    config: infra/policy-pack/config/dev.json\n";

  it("a stack with policyPack.required runs infra/policy-pack with its config on every preview and update", async () => {
    mkdirSync(path.join(world.dir, "infra/policy-pack/config"), { recursive: true });
    writeFileSync(path.join(world.dir, "infra/policy-pack/PulumiPolicy.yaml"), "runtime: nodejs\n");
    writeFileSync(path.join(world.dir, "infra/policy-pack/config/dev.json"), "{}\n");
    writeFileSync(world.stackPath("dev"), world.stackText("dev").replace("config:\n", `config:\n${PACK}`));
    world.stacks.failUp("dev");
    const r = await world.run(deployDev2);
    expect(r.code).toBe(1);
    expect(runOptions().map((o) => [o?.policyPacks, o?.policyPackConfigs])).toEqual(
      Array(3).fill([[path.join(world.dir, "infra/policy-pack")], [path.join(world.dir, "infra/policy-pack/config/dev.json")]]),
    );
  });

  it("a stack without it runs none", async () => {
    const r = await world.run(deployDev2);
    expect(r.code, r.stderr).toBe(0);
    expect(runOptions().map((o) => o?.policyPacks)).toEqual([[], []]);
  });

  it("a required pack missing on disk is an error before anything changes", async () => {
    writeFileSync(world.stackPath("dev"), world.stackText("dev").replace("config:\n", `config:\n${PACK}`));
    const before = world.stackText("dev");
    const r = await world.run(deployDev2);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: stack "dev" requires the policy pack (mlPlatform:policyPack.required), but it is missing');
    expect(r.stderr).toContain(`not found: ${path.join(world.dir, "infra/policy-pack")} (no PulumiPolicy.yaml)`);
    expect(r.stderr).toContain("(mlPlatform:policyPack.config)");
    expect(world.stackText("dev")).toBe(before);
    expect(ops()).toEqual([]);
  });
});

describe("8. cancellation and concurrent runs", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("%s during the update cancels it, restores the file, re-applies it, and exits %i saying where the stack is", async (signal, code) => {
    const before = world.stackText("dev");
    const filesAtReapply: string[] = [];
    world.afterUp = () => filesAtReapply.push(world.stackText("dev"));
    world.stacks.blockUp("dev", () => world.signals.emit(signal));
    const r = await world.run(deployDev2);
    expect(r.code).toBe(code);
    expect(ops()).toEqual(["preview dev", "up dev", "cancel dev", "up dev"]);
    expect(filesAtReapply).toEqual([before]);
    expect(world.stackText("dev")).toBe(before);
    expect(r.stderr).toContain(
      `error: ${signal} cancelled the update of stack "dev"; stack "dev" is back on the previous version and ${world.stackPath("dev")} is unchanged`,
    );
    expect(existsSync(lockPath(path.join(world.dir, "stacks"), "dev"))).toBe(false);
    expect(world.signals.listenerCount(signal)).toBe(0);
  });

  it("a second promotion while one holds the lock fails clearly and changes nothing", async () => {
    noApprovalIn("staging");
    let second: Awaited<ReturnType<World["run"]>> | undefined;
    const seen: string[] = [];
    world.stacks.blockUp("staging", () => {
      void world
        .run(promoteToStaging, { streams: { stdout: { write: (t: string) => seen.push(t) }, stderr: { write: (t: string) => seen.push(t) } } })
        .then((r) => {
          second = r;
          world.signals.emit("SIGINT");
        });
    });
    const first = await world.run(promoteToStaging);
    expect(first.code).toBe(130);
    expect(second?.code).toBe(1);
    expect(seen.join("")).toContain('error: stack "staging" is being changed by `ml-deploy promote --from dev --to staging` (pid');
    // The second run sent nothing and edited nothing: one copy, one registration, one update and its re-apply.
    expect(world.sent("CreateModelPackageCommand")).toHaveLength(1);
    expect(ops()).toEqual(["preview staging", "up staging", "cancel staging", "up staging"]);
  });

  it("a stale lock (its process is gone) is reported with how to clear it", async () => {
    const file = lockPath(path.join(world.dir, "stacks"), "dev");
    writeFileSync(
      file,
      JSON.stringify({ pid: 2 ** 22 + 1, host: os.hostname(), command: "ml-deploy deploy --stack dev", startedAt: "2025-03-01T11:00:00.000Z" }),
    );
    const r = await world.run(deployDev2);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: stack "dev" has a stale lock: `ml-deploy deploy --stack dev` (pid 4194305');
    expect(r.stderr).toContain(`then remove ${file} and re-run`);
    expect(ops()).toEqual([]);
    expect(existsSync(file)).toBe(true);
  });
});
