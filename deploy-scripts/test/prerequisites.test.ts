import { CredentialsProviderError } from "@smithy/core/config";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as lib from "../src/index";
import type { Exec } from "../src/system/exec";
import { IMAGE, World } from "./world";

let world: World;
beforeEach(() => {
  world = new World(lib);
});
afterEach(() => world.dispose());

// The Automation API builds its errors with these; they are exported at run time but left out of its
// .d.ts (internal), so they are typed here. Using them makes the errors exactly the SDK's own.
const automation = require("@pulumi/pulumi/automation") as {
  CommandResult: new (stdout: string, stderr: string, code: number, err?: Error) => object;
  createCommandError: (result: object) => Error;
};
const { CommandResult, createCommandError } = automation;

/** The errors as the Automation API builds them (its own classes, from a spawn failure or stderr). */
function pulumiNotInstalled(): Error {
  const spawnError = Object.assign(new Error("Command failed with ENOENT: pulumi version\nspawn pulumi ENOENT"), {
    code: "ENOENT",
    syscall: "spawn pulumi",
    path: "pulumi",
  });
  return createCommandError(new CommandResult("", spawnError.message, -2, spawnError));
}
function stackNotInitialised(stack: string): Error {
  return createCommandError(new CommandResult("", `error: no stack named '${stack}' found\n`, 255));
}

/** A stack gateway whose every call fails as the real one does. */
function failingStacks(error: () => Error): lib.StackGateway {
  const fail = async (): Promise<never> => {
    throw error();
  };
  return { outputs: fail, preview: fail, up: fail };
}

/** `docker` as exec finds it: absent (127, as a shell says), or present with no daemon behind it. */
function docker(state: "absent" | "no-daemon"): Exec {
  return async (command) => {
    if (command !== "docker") return { code: 0, stdout: "", stderr: "" };
    return state === "absent"
      ? { code: 127, stdout: "", stderr: "spawn docker ENOENT" }
      : { code: 1, stdout: "", stderr: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n" };
  };
}

/** The lines of stderr other than progress (`==> …` and the indented lines under it). */
const problems = (stderr: string) => stderr.split("\n").filter((l) => l !== "" && !l.startsWith("==>") && !l.startsWith("    "));

const PULUMI_FIX = "install it (https://www.pulumi.com/docs/iac/download-install/), run `pulumi login`, and re-run";
const READS = "reads the stack's outputs (buckets, roles, registry) with it";
const UPDATES = "reads the stacks' outputs and runs preview and update with it";

describe("a missing prerequisite is one line: what, why this command needs it, the next step", () => {
  it.each([
    [["status", "--stack", "dev"], READS],
    [["images", "--stack", "dev"], READS],
    [["train", "--stack", "dev", "--image", IMAGE], READS],
    [["register", "--stack", "dev", "--job", "j"], READS],
    [["smoke", "--stack", "dev"], READS],
    [["promote", "--from", "dev", "--to", "staging"], UPDATES],
    [["deploy", "--stack", "dev", "--version", "1"], UPDATES],
  ])("without the Pulumi CLI: ml-deploy %j", async (argv, why) => {
    const r = await world.run(argv, { stacks: failingStacks(pulumiNotInstalled) });
    expect(r.code).toBe(1);
    expect(problems(r.stderr)).toEqual([`error: the Pulumi CLI is missing (no \`pulumi\` on PATH): ml-deploy ${argv[0]} ${why}; ${PULUMI_FIX}`]);
    expect(r.stderr).not.toContain("ENOENT");
  });

  it("a stack never initialised names the stack and the command that creates it", async () => {
    const r = await world.run(["status", "--stack", "dev"], { stacks: failingStacks(() => stackNotInitialised("dev")) });
    expect(r.code).toBe(1);
    expect(problems(r.stderr)).toEqual([
      'error: stack "dev" does not exist yet: ml-deploy status works on the stack\'s resources, named by its outputs; create it from the repository root: `pulumi stack init dev && pulumi up --stack dev`',
    ]);
  });

  it("without the docker CLI, images says to install Docker", async () => {
    const r = await world.run(["images", "--stack", "dev"], { exec: docker("absent") });
    expect(r.code).toBe(1);
    expect(problems(r.stderr)).toEqual([
      "error: Docker is missing (no `docker` on PATH): ml-deploy images builds and pushes the ml-core image with it; install Docker (https://docs.docker.com/get-started/get-docker/) and re-run",
    ]);
  });

  it("without a Docker daemon, images says to start one", async () => {
    const r = await world.run(["images", "--stack", "dev"], { exec: docker("no-daemon") });
    expect(r.code).toBe(1);
    expect(problems(r.stderr)).toEqual([
      "error: no Docker daemon answered: ml-deploy images builds and pushes the ml-core image with it; start Docker (or point DOCKER_HOST at a daemon) and re-run",
    ]);
  });

  it("train without --image and without Docker says --image is the way around it", async () => {
    const r = await world.run(["train", "--stack", "dev"], { exec: docker("absent") });
    expect(r.code).toBe(1);
    expect(problems(r.stderr)).toEqual([
      "error: Docker is missing (no `docker` on PATH): ml-deploy train looks up the image pushed for the current sources with it (or pass --image <repository>@sha256:<digest>); install Docker (https://docs.docker.com/get-started/get-docker/) and re-run",
    ]);
    expect(world.sent("CreateTrainingJobCommand")).toEqual([]);
  });

  it.each([
    [["status", "--stack", "prod"]],
    [["train", "--stack", "dev", "--image", IMAGE]],
    [["approve", "--stack", "dev", "--version", "2", "--reason", "ok"]],
    [["promote", "--from", "dev", "--to", "staging"]],
  ])("without AWS credentials: ml-deploy %j", async (argv) => {
    const noCredentials = new CredentialsProviderError("Could not load credentials from any providers", { tryNextLink: false });
    world.sm.onAnyCommand().rejects(noCredentials);
    world.s3.onAnyCommand().rejects(noCredentials);
    world.runtime.onAnyCommand().rejects(noCredentials);
    const r = await world.run(argv);
    expect(r.code).toBe(1);
    expect(problems(r.stderr)).toEqual([
      `error: no AWS credentials were found: ml-deploy ${argv[0]} calls SageMaker and S3 with them; run \`aws configure\` or \`aws sso login\`, or set AWS_PROFILE (https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html), and re-run`,
    ]);
  });

  it("with --json, the same line is the error's message, printed once on each stream", async () => {
    const r = await world.run(["status", "--stack", "dev", "--json"], { stacks: failingStacks(pulumiNotInstalled) });
    expect(r.code).toBe(1);
    expect(r.json().error).toEqual({ message: expect.stringMatching(/^the Pulumi CLI is missing/), details: [] });
    expect(problems(r.stderr)).toHaveLength(1);
  });
});
