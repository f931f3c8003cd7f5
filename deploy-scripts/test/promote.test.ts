import { writeFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as lib from "../src/index";
import { World, bucket, endpoint, group, kmsKey, packageArn } from "./world";

let world: World;
beforeEach(() => {
  world = new World(lib);
});
afterEach(() => world.dispose());

const promoteToStaging = ["promote", "--from", "dev", "--to", "staging"];

describe("promote dev → staging", () => {
  it("copies, registers and approves the version in staging, pins it keeping comments, applies and smoke-tests", async () => {
    const before = world.stackText("staging");
    const r = await world.run([...promoteToStaging, "--json"]);
    expect(r.code).toBe(0);
    const result = r.json();
    const newArn = packageArn("staging", 2);
    expect(result.target).toEqual({ arn: newArn, created: true, predicted: false });
    expect(result.gates.map((g: { name: string; passed: boolean }) => [g.name, g.passed])).toEqual([
      ["registered", true],
      ["approved", true],
      ["metric validation:auc", true],
      ["metric validation:logloss", true],
      ["served by dev", true],
      ["dev endpoint healthy", true],
    ]);

    const [copy] = world.sent("CopyObjectCommand");
    expect(copy).toMatchObject({
      Bucket: bucket("staging", "artifacts"),
      Key: `models/promoted/${group("dev")}/1/model.tar.gz`,
      CopySource: `${bucket("dev", "artifacts")}/training-output/churn-dev-20240101-000000/output/model.tar.gz`,
      ServerSideEncryption: "aws:kms",
      SSEKMSKeyId: kmsKey("staging"),
    });
    const [create] = world.sent("CreateModelPackageCommand");
    expect(create).toMatchObject({
      ModelPackageGroupName: group("staging"),
      InferenceSpecification: { Containers: [{ Image: expect.stringContaining("@sha256:"), ModelDataUrl: `s3://${bucket("staging", "artifacts")}/models/promoted/${group("dev")}/1/model.tar.gz` }] },
      CustomerMetadataProperties: expect.objectContaining({
        promotedFrom: packageArn("dev", 1),
        promotedFromStack: "dev",
        promotedByCommit: "0123456789abcdef0123456789abcdef01234567",
        "metric:validation:auc": "0.91",
      }),
    });
    expect(world.packages.get(newArn)).toMatchObject({ ModelApprovalStatus: "Approved", ApprovalDescription: expect.stringContaining("Promoted from stack dev") });

    const after = world.stackText("staging");
    expect(after).toContain(`packageArn: ${newArn}`);
    expect(after).toContain(`previousPackageArns:\n      - ${packageArn("staging", 1)}`);
    for (const comment of ["# staging: like prod, smaller.", "# Written by `ml-deploy promote --from dev --to staging`.", "mode: serverless # infra's business"]) {
      expect(after).toContain(comment);
    }
    expect(after.replace(/\n {4}packageArn: .*\n {4}previousPackageArns:\n {6}- .*\n/, "\n")).toBe(before.replace(/\n {4}packageArn: .*\n/, "\n"));
    expect(world.stacks.calls.filter((c) => c.op !== "outputs")).toEqual([
      { op: "preview", stack: "staging" },
      { op: "up", stack: "staging" },
    ]);
    const invoked = world.sent("InvokeEndpointCommand").map((i) => [i.EndpointName, i.ContentType]);
    expect(invoked).toContainEqual([endpoint("dev"), "text/csv"]);
    expect(invoked).toContainEqual([endpoint("staging"), "application/json"]);
    expect(r.stderr).toContain("==> Previewing stack \"staging\"");
  });

  it("is idempotent: a re-run finds the promoted version instead of registering another", async () => {
    await world.run(promoteToStaging);
    const again = await world.run([...promoteToStaging, "--json"]);
    expect(again.code).toBe(0);
    expect(again.json().target).toEqual({ arn: packageArn("staging", 2), created: false, predicted: false });
    expect(world.sent("CreateModelPackageCommand")).toHaveLength(1);
    expect(world.sent("CopyObjectCommand")).toHaveLength(1);
    expect(again.json().apply.changed).toBe(false);
  });

  it("lists every failed gate and changes nothing", async () => {
    world.packages.get(packageArn("dev", 1))!.ModelApprovalStatus = "PendingManualApproval";
    world.packages.get(packageArn("dev", 1))!.CustomerMetadataProperties = { "metric:validation:auc": "0.79", "metric:validation:logloss": "0.65" };
    world.endpoints.set(endpoint("dev"), "Failed");
    const before = world.stackText("staging");
    const r = await world.run(promoteToStaging);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('error: refusing to promote to "staging": 4 gates failed');
    expect(r.stderr).toContain('approved: version 1 is PendingManualApproval; stack "staging" requires Approved');
    expect(r.stderr).toContain("metric validation:auc = 0.79 is below stack \"staging\"'s minimum 0.8");
    expect(r.stderr).toContain("metric validation:logloss = 0.65 is above stack \"staging\"'s maximum 0.6");
    expect(r.stderr).toContain("endpoint churn-dev-endpoint of stack \"dev\" is Failed, not InService: model container failed its ping");
    expect(world.stackText("staging")).toBe(before);
    for (const c of ["CreateModelPackageCommand", "CopyObjectCommand", "UpdateModelPackageCommand"]) expect(world.sent(c)).toEqual([]);
    expect(world.stacks.calls.filter((c) => c.op !== "outputs")).toEqual([]);
  });

  it("refuses a metric the version does not have", async () => {
    world.packages.get(packageArn("dev", 1))!.CustomerMetadataProperties = { "metric:validation:auc": "0.95" };
    const r = await world.run(promoteToStaging);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("metric validation:logloss is not registered with the version (stack \"staging\" requires <= 0.6)");
  });

  it("refuses when the source endpoint fails its smoke test", async () => {
    world.invoke = "wrong-count";
    const r = await world.run(promoteToStaging);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("dev endpoint healthy: smoke test of stack \"dev\": csv request: 4 predictions for 5 rows");
  });

  it("refuses a --version the source stack does not serve", async () => {
    const r = await world.run([...promoteToStaging, "--version", "2"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`served by dev: stack "dev" serves ${packageArn("dev", 1)}, not ${packageArn("dev", 2)}`);
  });

  it("--dry-run checks the gates and previews, registering, writing and applying nothing", async () => {
    const before = world.stackText("staging");
    const r = await world.run([...promoteToStaging, "--dry-run", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json().target).toEqual({ arn: packageArn("staging", 2), created: false, predicted: true });
    expect(r.json().apply).toMatchObject({ applied: false, changed: true });
    expect(world.stackText("staging")).toBe(before);
    expect(world.stacks.calls.filter((c) => c.op !== "outputs")).toEqual([{ op: "preview", stack: "staging" }]);
    for (const c of ["CreateModelPackageCommand", "CopyObjectCommand", "PutObjectCommand"]) expect(world.sent(c)).toEqual([]);
  });

  it("restores the stack file and re-applies the previous version when pulumi up fails", async () => {
    const before = world.stackText("staging");
    world.stacks.failUp("staging", new Error("sagemaker:Endpoint update failed: ResourceLimitExceeded"));
    const r = await world.run(promoteToStaging);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: pulumi up of stack "staging" failed; stack "staging" is back on the previous version');
    expect(r.stderr).toContain("ResourceLimitExceeded");
    expect(world.stackText("staging")).toBe(before);
    expect(world.stacks.calls.filter((c) => c.op === "up")).toHaveLength(2);
    // The registered copy stays: the re-run reuses it.
    expect(world.sent("CreateModelPackageCommand")).toHaveLength(1);
  });

  it("rolls back when the target fails its smoke test after the update", async () => {
    const before = world.stackText("staging");
    world.stacks.onUp = () => {
      world.endpoints.set(endpoint("staging"), "Failed");
    };
    const r = await world.run(promoteToStaging);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stack "staging" failed its smoke test after the update');
    expect(world.stackText("staging")).toBe(before);
    expect(world.stacks.calls.filter((c) => c.op === "up")).toHaveLength(2);
  });
});

describe("promote staging → prod", () => {
  // staging serves staging/1: Approved, auc 0.88, logloss 0.4 (prod needs >= 0.85 and <= 0.5).
  it("needs --yes, checked before anything else happens", async () => {
    const r = await world.run(["promote", "--from", "staging", "--to", "prod"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('changing stack "prod" needs --yes (mlPlatform:deployer.requireConfirmation is true)');
    expect(world.calls()).toEqual([]);
  });

  it("with --yes, promotes and keeps the rollback history newest first", async () => {
    const r = await world.run(["promote", "--from", "staging", "--to", "prod", "--yes", "--json"]);
    expect(r.code).toBe(0);
    expect(world.stackText("prod")).toContain(`packageArn: ${packageArn("prod", 3)}\n    previousPackageArns:\n      - ${packageArn("prod", 2)}\n      - ${packageArn("prod", 1)}\n`);
  });

  it("--dry-run needs no --yes", async () => {
    const r = await world.run(["promote", "--from", "staging", "--to", "prod", "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("dry run for prod: nothing was changed");
  });
});

describe("confirmation is a stack setting (mlPlatform:deployer.requireConfirmation), not a stack name", () => {
  const CONFIRM = "  mlPlatform:deployer:\n    requireConfirmation: true\n";

  it("a stack that sets it needs --yes for promote, deploy and rollback, whatever its name", async () => {
    writeFileSync(world.stackPath("staging"), world.stackText("staging").replace("config:\n", `config:\n${CONFIRM}`));
    for (const argv of [promoteToStaging, ["deploy", "--stack", "staging", "--version", "1"], ["rollback", "--stack", "staging"]]) {
      const r = await world.run(argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.stderr).toContain('error: changing stack "staging" needs --yes (mlPlatform:deployer.requireConfirmation is true)');
    }
    expect(world.calls()).toEqual([]);
    expect(world.stacks.calls).toEqual([]);
  });

  it("a stack that does not set it needs no --yes, even one named prod", async () => {
    writeFileSync(world.stackPath("prod"), world.stackText("prod").replace(CONFIRM, ""));
    const r = await world.run(["promote", "--from", "staging", "--to", "prod"]);
    expect(r.code, r.stderr).toBe(0);
    expect(world.stackText("prod")).toContain(`packageArn: ${packageArn("prod", 3)}`);
  });

  it("names the key when its value is not a boolean", async () => {
    writeFileSync(world.stackPath("prod"), world.stackText("prod").replace("requireConfirmation: true", "requireConfirmation: sometimes"));
    const r = await world.run(["rollback", "--stack", "prod", "--yes"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: stack "prod": invalid configuration');
    expect(r.stderr).toContain(`  - prod: mlPlatform:deployer.requireConfirmation ("sometimes") Invalid input: expected boolean, received string`);
  });
});

describe("deploy (pin a version of the stack's own registry)", () => {
  it("pins a dev version, applies and smoke-tests", async () => {
    const r = await world.run(["deploy", "--stack", "dev", "--version", "2", "--json"]);
    expect(r.code).toBe(0);
    expect(world.stackText("dev")).toContain(`packageArn: ${packageArn("dev", 2)}\n    previousPackageArns:\n      - ${packageArn("dev", 1)}\n`);
    expect(world.sent("CreateModelPackageCommand")).toEqual([]);
    expect(r.json().apply.smoke.smoke.passed).toBe(true);
  });

  it("refuses a version of another stack's group", async () => {
    const r = await world.run(["deploy", "--stack", "staging", "--version", packageArn("dev", 1)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("versions move between stages with `ml-deploy promote");
  });

  it("refuses a rejected version even where approval is not required", async () => {
    world.packages.get(packageArn("dev", 2))!.ModelApprovalStatus = "Rejected";
    const r = await world.run(["deploy", "--stack", "dev", "--version", "2"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("not rejected: version 2 was rejected");
  });
});

describe("rollback", () => {
  it("pins the previous version, drops it from the history, applies it", async () => {
    const r = await world.run(["rollback", "--stack", "prod", "--yes", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ from: packageArn("prod", 2), to: { arn: packageArn("prod", 1) } });
    const text = world.stackText("prod");
    expect(text).toContain(`packageArn: ${packageArn("prod", 1)}\n`);
    expect(text).not.toContain("previousPackageArns");
    expect(world.stacks.calls.filter((c) => c.op === "up")).toEqual([{ op: "up", stack: "prod" }]);
  });

  it("says there is nothing to roll back to", async () => {
    const r = await world.run(["rollback", "--stack", "dev"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("there is no previous version to roll back to");
  });

  it("refuses a rejected previous version", async () => {
    world.packages.get(packageArn("prod", 1))!.ModelApprovalStatus = "Rejected";
    const r = await world.run(["rollback", "--stack", "prod", "--yes"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("cannot roll back to version 1: it is rejected");
    expect(world.stackText("prod")).toContain(`packageArn: ${packageArn("prod", 2)}`);
  });

  it("restores the file when pulumi up fails", async () => {
    const before = world.stackText("prod");
    world.stacks.failUp("prod");
    const r = await world.run(["rollback", "--stack", "prod", "--yes"]);
    expect(r.code).toBe(1);
    expect(world.stackText("prod")).toBe(before);
  });
});
