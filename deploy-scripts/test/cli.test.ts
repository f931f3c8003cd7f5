import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as lib from "../src/index";
import { World } from "./world";

let world: World;
beforeEach(() => {
  world = new World(lib);
});
afterEach(() => world.dispose());

const COMMANDS: Array<[string, string[]]> = [
  ["images", ["--stack", "--dockerfile", "--hash-path"]],
  ["train", ["--stack", "--image", "--wait", "--max-retries"]],
  ["register", ["--stack", "--job"]],
  ["approve", ["--stack", "--version", "--reason"]],
  ["reject", ["--stack", "--version", "--reason"]],
  ["deploy", ["--stack", "--version", "--dry-run", "--yes"]],
  ["promote", ["--from", "--to", "--version", "--dry-run", "--yes", "--no-rollback"]],
  ["smoke", ["--stack", "--samples", "--rows", "--max-latency-ms"]],
  ["rollback", ["--stack", "--to", "--dry-run", "--yes"]],
  ["status", ["--stack"]],
  ["local", ["--stack", "--data", "--work-dir", "--rows"]],
];

describe("ml-deploy --help", () => {
  it("lists every command", async () => {
    const r = await world.run(["--help"]);
    expect(r.code).toBe(0);
    for (const [name] of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
  });

  it.each(COMMANDS)("%s --help shows its usage and options, --json included", async (name, options) => {
    const r = await world.run([name, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: ml-deploy ${name} [options]`);
    for (const option of [...options, "--json"]) expect(r.stdout).toContain(option);
    expect(world.calls()).toEqual([]);
  });
});

describe("usage errors", () => {
  it("exits 2 on a missing required option, naming it", async () => {
    const r = await world.run(["register", "--stack", "dev"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '--job <name>' not specified");
  });

  it("exits 2 on an unknown command", async () => {
    const r = await world.run(["deploy-everything"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command");
  });

  it("rejects a non-numeric --rows", async () => {
    const r = await world.run(["smoke", "--stack", "dev", "--rows", "many"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--rows must be a positive integer");
  });
});

describe("errors", () => {
  it("prints one clear message and exits 1 when a stack has no outputs", async () => {
    world.stacks.setOutputs("dev", { region: "eu-west-1" });
    const r = await world.run(["status", "--stack", "dev"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: stack "dev" does not have the outputs ml-deploy needs');
    expect(r.stderr).toContain("artifactBucketName");
    expect(r.stderr).toContain("hint: run `pulumi up --stack dev` first");
  });

  it("with --json, prints the error as JSON on stdout too", async () => {
    const r = await world.run(["status", "--stack", "qa", "--json"]);
    expect(r.code).toBe(1);
    expect(r.json().error.message).toContain('cannot read the config of stack "qa"');
  });
});

describe("status", () => {
  it("shows the pinned version, its approval and metrics, and the endpoint", async () => {
    const r = await world.run(["status", "--stack", "prod", "--json"]);
    expect(r.code).toBe(0);
    const status = r.json();
    expect(status.pinned).toMatch(/churn-prod-group\/2$/);
    expect(status.previous).toEqual([expect.stringMatching(/churn-prod-group\/1$/)]);
    expect(status.version.approval).toBe("Approved");
    expect(status.version.metrics).toEqual({ "validation:auc": 0.9, "validation:logloss": 0.4 });
    expect(status.endpoint).toEqual({ name: "churn-prod-endpoint", status: "InService" });
  });
});
