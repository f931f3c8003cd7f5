import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as lib from "../src/index";
import type { Exec } from "../src/system/exec";
import { ACCOUNT, REGION, World } from "./world";

const REPO = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/ml-core-dev`;
const DIGEST = `sha256:${"b".repeat(64)}`;
const BASE_DIGEST = `sha256:${"c".repeat(64)}`;

let world: World;
let commands: string[];
let pushed: Set<string>;

/** Docker and git as `images` drives them (a missing Docker: prerequisites.test.ts). */
function fakeExec(opts: { loginNeeded?: boolean } = {}): Exec {
  let loggedIn = !opts.loginNeeded;
  return async (command, args) => {
    const line = `${command} ${args.join(" ")}`;
    commands.push(line);
    if (command === "git") return { code: 0, stdout: ["ml-core/src/a.ts", "package.json", "ml-core/Dockerfile"].join("\0"), stderr: "" };
    if (command === "aws") return { code: 0, stdout: "token\n", stderr: "" };
    if (args[0] === "version") return { code: 0, stdout: "27.0.1\n", stderr: "" };
    if (args[0] === "buildx") {
      const ref = args[3]!;
      if (ref.startsWith("node:")) return { code: 0, stdout: JSON.stringify({ digest: BASE_DIGEST }), stderr: "" };
      return pushed.has(ref) ? { code: 0, stdout: JSON.stringify({ digest: DIGEST }), stderr: "" } : { code: 1, stdout: "", stderr: "not found" };
    }
    if (args[0] === "build") return { code: 0, stdout: "", stderr: "#1 DONE\n" };
    if (args[0] === "login") {
      loggedIn = true;
      return { code: 0, stdout: "Login Succeeded\n", stderr: "" };
    }
    if (args[0] === "push") {
      if (!loggedIn) return { code: 1, stdout: "", stderr: "no basic auth credentials\n" };
      pushed.add(args[1]!);
      return { code: 0, stdout: `${args[1]!.split(":").pop()}: digest: ${DIGEST} size: 1234\n`, stderr: "" };
    }
    return { code: 1, stdout: "", stderr: `unexpected ${line}` };
  };
}

beforeEach(() => {
  world = new World(lib);
  commands = [];
  pushed = new Set();
  mkdirSync(path.join(world.dir, "ml-core/src"), { recursive: true });
  writeFileSync(path.join(world.dir, "ml-core/Dockerfile"), "ARG NODE_IMAGE=node:20.20.2-bookworm-slim\nFROM ${NODE_IMAGE}\n");
  writeFileSync(path.join(world.dir, "ml-core/src/a.ts"), "export {};\n");
  writeFileSync(path.join(world.dir, "package.json"), "{}\n");
});
afterEach(() => world.dispose());

describe("images", () => {
  it("builds on the digest-pinned base image, pushes under a content tag and prints the image by digest", async () => {
    const r = await world.run(["images", "--stack", "dev", "--json"], { exec: fakeExec() });
    expect(r.code).toBe(0);
    const result = r.json();
    expect(result).toMatchObject({
      repositoryUrl: REPO,
      tag: expect.stringMatching(/^src-[0-9a-f]{16}$/),
      digest: DIGEST,
      imageUri: `${REPO}@${DIGEST}`,
      built: true,
      baseImage: `node:20.20.2-bookworm-slim@${BASE_DIGEST}`,
    });
    expect(commands).toContain(
      `docker build --platform linux/amd64 --build-arg NODE_IMAGE=node:20.20.2-bookworm-slim@${BASE_DIGEST} -f ml-core/Dockerfile -t ${REPO}:${result.tag} .`,
    );
    expect(commands).toContain(`docker push ${REPO}:${result.tag}`);
  });

  it("pins the pushed image as the training pipeline's image in a stack that declares a pipeline, keeping the file's comments", async () => {
    const declared = world.stackText("dev").replace("config:\n", "config:\n  # retrain weekly\n  mlPlatform:pipeline:\n    schedule: rate(7 days)\n");
    writeFileSync(world.stackPath("dev"), declared);
    const r = await world.run(["images", "--stack", "dev", "--json"], { exec: fakeExec() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().pipelineImagePinned).toBe(true);
    const text = world.stackText("dev");
    expect(text).toContain(`  mlPlatform:pipeline:\n    schedule: rate(7 days)\n    image: ${REPO}@${DIGEST}\n`);
    expect(text).toContain("# retrain weekly");
    // The same image again: the file is left as it is.
    const again = await world.run(["images", "--stack", "dev", "--json"], { exec: fakeExec() });
    expect(again.json().pipelineImagePinned).toBe(false);
    expect(world.stackText("dev")).toBe(text);
  });

  it("leaves a stack without a pipeline untouched", async () => {
    const before = world.stackText("dev");
    const r = await world.run(["images", "--stack", "dev", "--json"], { exec: fakeExec() });
    expect(r.json().pipelineImagePinned).toBe(false);
    expect(world.stackText("dev")).toBe(before);
  });

  it("does nothing when the image for these sources is already pushed", async () => {
    const first = await world.run(["images", "--stack", "dev", "--json"], { exec: fakeExec() });
    commands = [];
    const second = await world.run(["images", "--stack", "dev", "--json"], { exec: fakeExec() });
    expect(second.json()).toMatchObject({ tag: first.json().tag, built: false, imageUri: `${REPO}@${DIGEST}` });
    expect(commands.filter((c) => c.startsWith("docker build ") || c.startsWith("docker push "))).toEqual([]);
  });

  it("a source change is a new tag", async () => {
    const first = await world.run(["images", "--stack", "dev", "--json"], { exec: fakeExec() });
    writeFileSync(path.join(world.dir, "ml-core/src/a.ts"), "export const x = 1;\n");
    const second = await world.run(["images", "--stack", "dev", "--json"], { exec: fakeExec() });
    expect(second.json().tag).not.toBe(first.json().tag);
  });

  it("logs in to ECR with the AWS CLI when Docker has no credentials, then retries the push", async () => {
    const r = await world.run(["images", "--stack", "dev"], { exec: fakeExec({ loginNeeded: true }) });
    expect(r.code).toBe(0);
    expect(commands).toContain(`aws ecr get-login-password --region ${REGION}`);
    expect(commands).toContain(`docker login --username AWS --password-stdin ${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`);
    expect(commands.filter((c) => c.startsWith("docker push"))).toHaveLength(2);
  });

  it("train without --image uses the image pushed for the current sources", async () => {
    await world.run(["images", "--stack", "dev"], { exec: fakeExec() });
    await world.run(["data", "snapshot", "--stack", "dev"]);
    const r = await world.run(["train", "--stack", "dev", "--json"], { exec: fakeExec() });
    expect(r.code).toBe(0);
    expect(r.json().image).toBe(`${REPO}@${DIGEST}`);
  });
});
