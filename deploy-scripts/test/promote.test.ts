import { writeFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as lib from "../src/index";
import { World, bucket, endpoint, group, imageIn, packageArn } from "./world";

let world: World;
beforeEach(() => {
  world = new World(lib);
});
afterEach(() => world.dispose());

const promoteToStaging = ["promote", "--from", "dev", "--to", "staging"];

/** The previews and updates the stacks saw, in order: `up staging`. */
const ops = (w: World) => w.stacks.calls.filter((c) => c.op !== "outputs").map((c) => `${c.op} ${c.stack}`);
/** dev/1's copy in staging (staging already has one version). */
const COPY = packageArn("staging", 2);
/** staging requires approval: promotion registers the copy there and stops; the approver approves; deploy pins it. */
const noApprovalIn = (w: World, stack: string) =>
  writeFileSync(w.stackPath(stack), w.stackText(stack).replace("requireApproval: true", "requireApproval: false"));

describe("promote dev → staging: a stage that requires approval", () => {
  it("copies the artifact and the image, registers the copy PendingManualApproval, and pins nothing", async () => {
    const before = world.stackText("staging");
    const r = await world.run([...promoteToStaging, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const result = r.json();
    expect(result.target).toEqual({ arn: COPY, created: true, predicted: false, image: imageIn("staging") });
    expect(result.gates.map((g: { name: string; passed: boolean }) => [g.name, g.passed])).toEqual([
      ["registered", true],
      ["approved", true],
      ["metric validation:auc", true],
      ["metric validation:logloss", true],
      ["served by dev", true],
      ["dev endpoint healthy", true],
    ]);
    expect(result.apply).toBeUndefined();
    expect(result.awaitingApproval.next).toEqual([
      `the approver of stack "staging" reviews and runs: ml-deploy approve --stack staging --version ${COPY} --reason "<why>"`,
      `then the deployer runs: ml-deploy deploy --stack staging --version ${COPY}`,
    ]);

    const [create] = world.sent("CreateModelPackageCommand");
    expect(create).toMatchObject({
      ModelPackageGroupName: group("staging"),
      ModelApprovalStatus: "PendingManualApproval",
      // The target's own repository, by digest.
      InferenceSpecification: {
        Containers: [{ Image: imageIn("staging"), ModelDataUrl: `s3://${bucket("staging", "artifacts")}/models/promoted/${group("dev")}/1/model.tar.gz` }],
      },
      CustomerMetadataProperties: expect.objectContaining({
        promotedFrom: packageArn("dev", 1),
        promotedFromStack: "dev",
        promotedByCommit: "0123456789abcdef0123456789abcdef01234567",
        modelIdentity: world.packages.get(packageArn("dev", 1))!.CustomerMetadataProperties!.modelIdentity,
        "metric:validation:auc": "0.91",
      }),
    });
    // The deployer never approves: no UpdateModelPackage at all.
    expect(world.sent("UpdateModelPackageCommand")).toEqual([]);
    expect(world.packages.get(COPY)!.ModelApprovalStatus).toBe("PendingManualApproval");
    expect(world.stackText("staging")).toBe(before);
    expect(ops(world)).toEqual([]);
    const invoked = world.sent("InvokeEndpointCommand").map((i) => i.EndpointName);
    expect(invoked).toContain(endpoint("dev"));
    expect(invoked).not.toContain(endpoint("staging"));
  });

  it("then the staging approver approves the copy and deploy pins it, keeping comments, applies and smoke-tests", async () => {
    await world.run(promoteToStaging);
    const before = world.stackText("staging");
    expect((await world.run(["approve", "--stack", "staging", "--version", "2", "--reason", "reviewed by the staging approver"])).code).toBe(0);
    const r = await world.run(["deploy", "--stack", "staging", "--version", "2", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const after = world.stackText("staging");
    expect(after).toContain(`packageArn: ${COPY}`);
    expect(after).toContain(`previousPackageArns:\n      - ${packageArn("staging", 1)}`);
    for (const comment of [
      "# staging: like prod, smaller.",
      "# Written by `ml-deploy promote --from dev --to staging`.",
      "mode: serverless # infra's business",
    ]) {
      expect(after).toContain(comment);
    }
    expect(after.replace(/\n {4}packageArn: .*\n {4}previousPackageArns:\n {6}- .*\n/, "\n")).toBe(before.replace(/\n {4}packageArn: .*\n/, "\n"));
    expect(ops(world)).toEqual(["preview staging", "up staging"]);
    expect(r.json().apply.smoke.smoke.passed).toBe(true);
    expect(r.stderr).toContain('==> Previewing stack "staging"');
  });

  it("deploy refuses the copy until the staging approver approved it", async () => {
    await world.run(promoteToStaging);
    const r = await world.run(["deploy", "--stack", "staging", "--version", "2"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('approved: version 2 is PendingManualApproval in stack "staging"; stack "staging" requires Approved');
    expect(ops(world)).toEqual([]);
  });

  it("into a stage that requires approval, the source version must be approved where it is", async () => {
    world.packages.get(packageArn("dev", 1))!.ModelApprovalStatus = "PendingManualApproval";
    const r = await world.run(promoteToStaging);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('approved: version 1 is PendingManualApproval in stack "dev"; stack "staging" requires Approved');
    expect(world.sent("CreateModelPackageCommand")).toEqual([]);
  });

  it("is idempotent: a re-run finds the copy instead of copying and registering again", async () => {
    await world.run(promoteToStaging);
    const again = await world.run([...promoteToStaging, "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().target).toMatchObject({ arn: COPY, created: false, predicted: false });
    expect(world.sent("CreateModelPackageCommand")).toHaveLength(1);
    expect(world.sent("PutObjectCommand").filter((p) => String(p.Key).endsWith("/model.tar.gz"))).toHaveLength(1);
    expect(world.sent("PutImageCommand")).toHaveLength(1);
  });

  it("lists every failed gate and changes nothing", async () => {
    world.packages.get(packageArn("dev", 1))!.ModelApprovalStatus = "PendingManualApproval";
    world.packages.get(packageArn("dev", 1))!.CustomerMetadataProperties = { "metric:validation:auc": "0.79", "metric:validation:logloss": "0.65" };
    world.endpoints.set(endpoint("dev"), "Failed");
    const before = world.stackText("staging");
    const r = await world.run(promoteToStaging);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('error: refusing to promote to "staging": 4 gates failed');
    expect(r.stderr).toContain('approved: version 1 is PendingManualApproval in stack "dev"; stack "staging" requires Approved');
    expect(r.stderr).toContain('metric validation:auc = 0.79 is below stack "staging"\'s minimum 0.8');
    expect(r.stderr).toContain('metric validation:logloss = 0.65 is above stack "staging"\'s maximum 0.6');
    expect(r.stderr).toContain('endpoint churn-dev-endpoint of stack "dev" is Failed, not InService: model container failed its ping');
    expect(world.stackText("staging")).toBe(before);
    for (const c of ["CreateModelPackageCommand", "CopyObjectCommand", "UpdateModelPackageCommand", "PutImageCommand"]) expect(world.sent(c)).toEqual([]);
    expect(world.sent("PutObjectCommand").filter((p) => String(p.Key).endsWith("/model.tar.gz"))).toEqual([]);
    expect(ops(world)).toEqual([]);
  });

  it("refuses a metric the version does not have", async () => {
    delete world.packages.get(packageArn("dev", 1))!.CustomerMetadataProperties!["metric:validation:logloss"];
    const r = await world.run(promoteToStaging);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('metric validation:logloss is not registered with the version (stack "staging" requires <= 0.6)');
  });

  it("refuses when the source endpoint fails its smoke test", async () => {
    world.invoke = "wrong-count";
    const r = await world.run(promoteToStaging);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('dev endpoint healthy: smoke test of stack "dev": csv request: 4 predictions for 5 rows');
  });

  it("refuses a --version the source stack does not serve", async () => {
    const r = await world.run([...promoteToStaging, "--version", "2"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`served by dev: stack "dev" serves ${packageArn("dev", 1)}, not ${packageArn("dev", 2)}`);
  });

  it("--dry-run checks the gates and previews, registering, copying, writing and applying nothing", async () => {
    const before = world.stackText("staging");
    const r = await world.run([...promoteToStaging, "--dry-run", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().target).toEqual({ arn: COPY, created: false, predicted: true, image: imageIn("staging") });
    expect(r.json().apply).toMatchObject({ applied: false, changed: true });
    expect(world.stackText("staging")).toBe(before);
    expect(ops(world)).toEqual(["preview staging"]);
    for (const c of ["CreateModelPackageCommand", "CopyObjectCommand", "PutObjectCommand", "PutImageCommand"]) expect(world.sent(c)).toEqual([]);
  });
});

describe("promote dev → staging: a stage that does not require approval", () => {
  beforeEach(() => noApprovalIn(world, "staging"));

  it("registers the copy pending (never approved by the deployer), pins it, applies and smoke-tests it", async () => {
    const r = await world.run([...promoteToStaging, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(world.stackText("staging")).toContain(`packageArn: ${COPY}`);
    expect(world.packages.get(COPY)!.ModelApprovalStatus).toBe("PendingManualApproval");
    expect(world.sent("UpdateModelPackageCommand")).toEqual([]);
    expect(ops(world)).toEqual(["preview staging", "up staging"]);
  });

  it("restores the stack file and re-applies the previous version when pulumi up fails", async () => {
    const before = world.stackText("staging");
    world.stacks.failUp("staging", new Error("sagemaker:Endpoint update failed: ResourceLimitExceeded"));
    const r = await world.run(promoteToStaging);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: pulumi up of stack "staging" failed; stack "staging" is back on the previous version');
    expect(r.stderr).toContain("ResourceLimitExceeded");
    expect(world.stackText("staging")).toBe(before);
    expect(ops(world)).toEqual(["preview staging", "up staging", "up staging"]);
    // The registered copy stays: the re-run reuses it.
    expect(world.sent("CreateModelPackageCommand")).toHaveLength(1);
  });

  it("rejects the copy, with the reason, when it fails its smoke test in the target; restores and re-applies", async () => {
    const before = world.stackText("staging");
    world.afterUp = () => {
      world.invoke = "wrong-count";
    };
    const r = await world.run(promoteToStaging);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stack "staging" failed its smoke test after the update');
    expect(world.stackText("staging")).toBe(before);
    expect(ops(world)).toEqual(["preview staging", "up staging", "up staging"]);
    expect(world.sent("UpdateModelPackageCommand")).toEqual([
      {
        ModelPackageArn: COPY,
        ModelApprovalStatus: "Rejected",
        ApprovalDescription: expect.stringMatching(
          /^Rejected by ml-deploy: failed on stack staging after it was pinned: smoke test of stack "staging": csv request: 4 predictions for 5 rows/,
        ),
      },
    ]);
    // A re-run refuses the rejected copy rather than trying it again.
    world.invoke = "ok";
    world.afterUp = undefined;
    const again = await world.run(promoteToStaging);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain(`${COPY}, the copy of this version in stack "staging", was rejected: Rejected by ml-deploy`);
  });
});

describe("latest-approved never picks a rejected version", () => {
  it("after an approved copy fails in staging and is rejected, latest-approved is the one before it", async () => {
    await world.run(promoteToStaging);
    await world.run(["approve", "--stack", "staging", "--version", "2", "--reason", "ok"]);
    world.afterUp = () => {
      world.invoke = "error";
    };
    const failed = await world.run(["deploy", "--stack", "staging", "--version", "latest-approved"]);
    expect(failed.code).toBe(1);
    expect(world.packages.get(COPY)!.ModelApprovalStatus).toBe("Rejected");
    world.afterUp = undefined;
    world.invoke = "ok";
    const r = await world.run(["deploy", "--stack", "staging", "--version", "latest-approved", "--dry-run", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().target.arn).toBe(packageArn("staging", 1));
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

  it("with --yes, promotes; once the prod approver approved, deploy --yes pins it, keeping the rollback history newest first", async () => {
    const r = await world.run(["promote", "--from", "staging", "--to", "prod", "--yes", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().awaitingApproval.next[1]).toBe(`then the deployer runs: ml-deploy deploy --stack prod --version ${packageArn("prod", 3)} --yes`);
    expect((await world.run(["approve", "--stack", "prod", "--version", "3", "--reason", "reviewed by the prod approver"])).code).toBe(0);
    const d = await world.run(["deploy", "--stack", "prod", "--version", "3", "--yes"]);
    expect(d.code, d.stderr).toBe(0);
    expect(world.stackText("prod")).toContain(
      `packageArn: ${packageArn("prod", 3)}\n    previousPackageArns:\n      - ${packageArn("prod", 2)}\n      - ${packageArn("prod", 1)}\n`,
    );
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
    expect(world.packages.get(packageArn("prod", 3))).toMatchObject({ ModelApprovalStatus: "PendingManualApproval" });
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
    expect(ops(world)).toEqual(["preview prod", "up prod"]);
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
