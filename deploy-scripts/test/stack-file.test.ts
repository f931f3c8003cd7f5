import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as lib from "../src/index";
import { MAX_PREVIOUS_VERSIONS, parseSettings, pinPackage, pinPrevious } from "../src/config/stack-file";
import { STACK_FILES, World, packageArn } from "./world";

const arn = (n: number) => packageArn("staging", n);

describe("pinPackage", () => {
  it("pins, moves the old pin to the front of the history, and keeps every comment", () => {
    const text = pinPackage(STACK_FILES.staging, arn(2));
    const settings = parseSettings("staging", text);
    expect(settings.model).toEqual({ packageArn: arn(2), previousPackageArns: [arn(1)] });
    expect(text).toContain("# staging: like prod, smaller.");
    expect(text).toContain("mode: serverless # infra's business");
  });

  it("re-pinning the pinned version changes nothing", () => {
    const once = pinPackage(STACK_FILES.staging, arn(2));
    expect(pinPackage(once, arn(2))).toBe(once);
  });

  it(`keeps at most ${MAX_PREVIOUS_VERSIONS} previous versions`, () => {
    let text = STACK_FILES.staging;
    for (let v = 2; v <= 15; v++) text = pinPackage(text, arn(v));
    const model = parseSettings("staging", text).model!;
    expect(model.packageArn).toBe(arn(15));
    expect(model.previousPackageArns).toEqual([14, 13, 12, 11, 10, 9, 8, 7, 6, 5].map(arn));
  });

  it("replaces an artifactUri + image pin, and adds one where there was none", () => {
    const artifact = STACK_FILES.staging.replace(
      / {4}packageArn: .*\n/,
      "    artifactUri: s3://b/training-output/j/output/model.tar.gz\n    image: x@sha256:1\n",
    );
    expect(parseSettings("staging", pinPackage(artifact, arn(3))).model).toEqual({ packageArn: arn(3), previousPackageArns: [] });
    const empty = STACK_FILES.staging.replace(/ {4}packageArn: .*\n/, "").replace("  mlPlatform:model:", "  mlPlatform:model: # nothing yet");
    const pinned = pinPackage(empty, arn(3));
    expect(parseSettings("staging", pinned).model).toEqual({ packageArn: arn(3), previousPackageArns: [] });
    expect(pinned).toContain(`  mlPlatform:model: # nothing yet\n    packageArn: ${arn(3)}\n  mlPlatform:serving:`);
    const none = STACK_FILES.staging.replace(/ {2}mlPlatform:model:\n {4}packageArn: .*\n/, "");
    expect(parseSettings("staging", pinPackage(none, arn(3))).model).toEqual({ packageArn: arn(3), previousPackageArns: [] });
  });
});

describe("pinPrevious", () => {
  it("pins the newest previous version and drops it from the history; --to goes further back", () => {
    let text = STACK_FILES.staging;
    for (let v = 2; v <= 4; v++) text = pinPackage(text, arn(v));
    expect(parseSettings("staging", pinPrevious(text)).model).toEqual({ packageArn: arn(3), previousPackageArns: [arn(2), arn(1)] });
    expect(parseSettings("staging", pinPrevious(text, arn(2))).model).toEqual({ packageArn: arn(2), previousPackageArns: [arn(1)] });
    expect(() => pinPrevious(text, arn(9))).toThrow(/is not in mlPlatform:model.previousPackageArns/);
  });
});

describe("settings", () => {
  it("names every invalid field", () => {
    const bad = STACK_FILES.staging.replace("requireApproval: true", "requireApproval: sometimes").replace("validation:auc: 0.80", "auc: 0.80");
    expect(() => parseSettings("staging", bad)).toThrow(/invalid configuration/);
    try {
      parseSettings("staging", bad);
    } catch (err) {
      const details = (err as lib.CliError).details.join("\n");
      expect(details).toContain("mlPlatform:promotion.requireApproval");
      expect(details).toContain("mlPlatform:promotion.minMetrics.auc");
    }
  });
});

describe("StackFiles.write", () => {
  let world: World;
  beforeEach(() => {
    world = new World(lib);
  });
  afterEach(() => world.dispose());

  it("replaces the file whole and leaves no temporary file behind", async () => {
    const files = new lib.StackFiles(`${world.dir}/stacks`);
    await files.write("dev", "config: {}\n");
    expect(world.stackText("dev")).toBe("config: {}\n");
    expect(readdirSync(`${world.dir}/stacks`).sort()).toEqual(["Pulumi.dev.yaml", "Pulumi.prod.yaml", "Pulumi.staging.yaml"]);
  });

  it("leaves the original intact when the replacement cannot be written", async () => {
    const files = new lib.StackFiles(`${world.dir}/nonexistent`);
    writeFileSync(`${world.dir}/stacks/keep.txt`, "x");
    await expect(files.write("dev", "config: {}\n")).rejects.toThrow(/ENOENT/);
    expect(world.stackText("dev")).toBe(STACK_FILES.dev);
  });
});

describe("the repository's own stack files", () => {
  const dir = `${__dirname}/../../stacks`;
  it.each(["dev", "staging", "prod"])("%s parses, and pinning a version keeps every comment", (stack) => {
    const text = readFileSync(`${dir}/Pulumi.${stack}.yaml`, "utf8");
    const settings = parseSettings(stack, text);
    expect(settings.modelName).toBe("flight-delays");
    const next = "arn:aws:sagemaker:eu-west-1:111122223333:model-package/churn-x/99";
    const pinned = pinPackage(text, next);
    expect(parseSettings(stack, pinned).model?.packageArn).toBe(next);
    const comments = (t: string) => t.split("\n").filter((l) => l.trim().startsWith("#") || l.includes(" # "));
    expect(comments(pinned)).toEqual(comments(text));
  });
});
