import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { namespacedSettings } from "@ml-platform/contract";
import { ConfigError, decodeConfig, parsePlatformConfig } from "../infra/config";
import { readStackConfig, REPO_ROOT } from "../infra/offline/mock-run";

/** The stack's `mlPlatform:` settings as one object (namespace stripped), and back to the flat config form. */
const platformSettings = (all: Record<string, string>): Record<string, unknown> => namespacedSettings(decodeConfig(all));
const flat = (raw: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(raw).map(([k, v]) => [`mlPlatform:${k}`, v]));

function problemsOf(stack: string, mutate: (raw: Record<string, any>) => void): string[] {
  const all = readStackConfig(stack);
  const raw = structuredClone(platformSettings(all)) as Record<string, any>;
  mutate(raw);
  try {
    parsePlatformConfig(stack, flat(raw), all["aws:region"]);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  return [];
}

describe("names used in paths", () => {
  it.each([
    ["../other-team/data", "must not contain '.' or '..' segments"],
    ["datasets/./v1", "must not contain '.' or '..' segments"],
    ["/datasets/v1", "must be an S3 key prefix of letters"],
    ["datasets/v1/", "must be an S3 key prefix of letters"],
    ["datasets//v1", "must be an S3 key prefix of letters"],
    ["datasets/*", "must be an S3 key prefix of letters"],
    ["datasets/v1 copy", "must be an S3 key prefix of letters"],
  ])("rejects training.datasetPrefix %j", (prefix, message) => {
    const problems = problemsOf("staging", (raw) => {
      raw.training.datasetPrefix = prefix;
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`staging: mlPlatform:training.datasetPrefix (${JSON.stringify(prefix)}) ${message}`);
  });

  it("accepts a nested prefix of safe characters", () => {
    expect(
      problemsOf("staging", (raw) => {
        raw.training.datasetPrefix = "datasets/flight-delays/v1.2_(eu)";
      }),
    ).toEqual([]);
  });

  it("rejects a stack name with '..' in deployer.promotesFrom", () => {
    expect(
      problemsOf("prod", (raw) => {
        raw.deployer.promotesFrom = "../dev";
      })[0],
    ).toContain("prod: mlPlatform:deployer.promotesFrom");
  });
});

describe("policy pack settings", () => {
  it.each([
    ["dev", false],
    ["staging", true],
    ["prod", true],
  ])("%s: the pack is required: %s", (stack, required) => {
    const all = readStackConfig(stack);
    const config = parsePlatformConfig(stack, flat(platformSettings(all)), all["aws:region"]);
    expect(config.policyPack.required).toBe(required);
    if (config.policyPack.config) expect(fs.existsSync(path.join(REPO_ROOT, config.policyPack.config)), config.policyPack.config).toBe(true);
  });

  it("uses prod's rules in prod", () => {
    const all = readStackConfig("prod");
    expect(parsePlatformConfig("prod", flat(platformSettings(all)), all["aws:region"]).policyPack.config).toBe("infra/policy-pack/config/prod.json");
  });

  it.each([
    ["../secrets.json", "must not contain '.' or '..' segments"],
    ["infra/policy-pack/config/prod.yaml", "must name a .json file"],
  ])("rejects policyPack.config %j", (file, message) => {
    expect(
      problemsOf("prod", (raw) => {
        raw.policyPack.config = file;
      })[0],
    ).toContain(`prod: mlPlatform:policyPack.config (${JSON.stringify(file)}) ${message}`);
  });
});

describe("training instance types the deployer may use", () => {
  it("must include the configured instance type", () => {
    expect(
      problemsOf("staging", (raw) => {
        raw.training.allowedInstanceTypes = ["ml.m5.large"];
      }),
    ).toEqual(['staging: mlPlatform:training.allowedInstanceTypes (["ml.m5.large"]) does not include training.instanceType (ml.m5.xlarge)']);
  });
});
