// The Pulumi side of the config: the stack files as `pulumi up` hands them to the program (every
// value a string), validated by infra/config.ts. The schema's own rules are tested in
// contract/test/settings.test.ts; the program registering nothing on invalid config in platform.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StackFiles, type CliError } from "@ml-platform/deploy-scripts";
import { parseHyperparameters } from "@ml-platform/ml-core";
import { ConfigError, decodeConfig, parsePlatformConfig } from "../infra/config";
import { listStacks, readStackConfig } from "../infra/offline/mock-run";

/** A stack's config as the program sees it: the Pulumi CLI's strings, decoded. */
function programConfig(stack: string): { config: Record<string, unknown>; region: string | undefined } {
  const all = readStackConfig(stack);
  return { config: decodeConfig(all), region: all["aws:region"] };
}

describe("stack config files, as pulumi up hands them over", () => {
  it("has the three environments, and dev served from Kubernetes", () => {
    expect(listStacks()).toEqual(["dev", "dev-k8s", "prod", "staging"]);
  });

  it.each(["dev", "staging", "prod", "dev-k8s"])("%s validates, with the stack, project and region Pulumi knows", (stack) => {
    const { config, region } = programConfig(stack);
    const parsed = parsePlatformConfig(stack, config, region, "mlPlatform");
    expect(parsed).toMatchObject({ stack, project: "mlPlatform", region: "eu-west-1" });
    expect(parsed.modelName).toBe("flight-delays");
  });

  it("decodes structured and numeric values from Pulumi's strings, and leaves plain strings", () => {
    expect(
      decodeConfig({ "mlPlatform:logRetentionDays": "365", "mlPlatform:tags": '{"owner":"a","costCenter":"b"}', "mlPlatform:modelName": "churn" }),
    ).toEqual({ "mlPlatform:logRetentionDays": 365, "mlPlatform:tags": { owner: "a", costCenter: "b" }, "mlPlatform:modelName": "churn" });
  });
});

describe("invalid config", () => {
  it("names the missing region together with the settings' problems, in one error", () => {
    const { config } = programConfig("dev");
    const error = (() => {
      try {
        parsePlatformConfig("dev", { ...config, "mlPlatform:logRetentionDays": 10 }, undefined);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "dev: aws:region is missing (set it with `pulumi config set aws:region <region>`)",
      expect.stringMatching(/^dev: mlPlatform:logRetentionDays \(10\) must be one of/),
    ]);
    expect((error as ConfigError).message).toMatch(/^invalid configuration for stack "dev" \(2 problems\):\n {2}dev: aws:region is missing/);
  });

  it("reports a typo in a stack file as the key it is", () => {
    const { config, region } = programConfig("prod");
    expect(() => parsePlatformConfig("prod", { ...config, "mlPlatform:servng": "{}" }, region)).toThrow("prod: mlPlatform:servng is not a known setting");
  });
});

describe("training settings against ml-core", () => {
  it.each(["dev", "staging", "prod", "dev-k8s"])("%s's hyperparameters are ones ml-core train accepts", (stack) => {
    const { config, region } = programConfig(stack);
    const parsed = parsePlatformConfig(stack, config, region);
    // SageMaker hands every hyperparameter to the container as a string.
    const asStrings = Object.fromEntries(Object.entries(parsed.training.hyperparameters).map(([k, v]) => [k, String(v)]));
    expect(() => parseHyperparameters(asStrings)).not.toThrow();
    expect(() => parseHyperparameters({ ...asStrings, num_rounds: "5" })).toThrow(/unknown hyperparameter "num_rounds"/);
  });
});

describe("ml-deploy reads the stack files with the same schema", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The real stack file, changed by `edit`, in a directory of its own. */
  function stackDir(stack: string, edit: (text: string) => string): string {
    dir = mkdtempSync(path.join(tmpdir(), "ml-platform-config-"));
    writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), edit(readFileSync(path.join(__dirname, "..", "stacks", `Pulumi.${stack}.yaml`), "utf8")));
    return dir;
  }

  it("rejects a typo pulumi up rejects, naming the stack and the key", async () => {
    const stacks = stackDir("prod", (t) => t.replace("  mlPlatform:alarms:\n", "  mlPlatform:alarms:\n    modelLatencyP99: 5\n"));
    const error = (await new StackFiles(stacks).read("prod").catch((e: unknown) => e)) as CliError;
    expect(error.message).toBe('stack "prod": invalid configuration');
    // The same line, word for word, as `pulumi up` prints.
    expect(error.details).toEqual(["prod: mlPlatform:alarms.modelLatencyP99 is not a known setting"]);
    expect(() => parsePlatformConfig("prod", decodeConfig(readStackConfig("prod", stacks)), "eu-west-1")).toThrow(
      "prod: mlPlatform:alarms.modelLatencyP99 is not a known setting",
    );
  });

  it("rejects a value outside the schema, not only the keys the commands use", async () => {
    const stacks = stackDir("staging", (t) => t.replace(/mlPlatform:logRetentionDays: \d+/, "mlPlatform:logRetentionDays: 10"));
    const error = (await new StackFiles(stacks).read("staging").catch((e: unknown) => e)) as CliError;
    expect(error.details).toEqual([expect.stringMatching(/^staging: mlPlatform:logRetentionDays \(10\) must be one of CloudWatch Logs' retention periods/)]);
  });

  it("sees the settings, defaults included, that pulumi up sees", async () => {
    const stacks = stackDir("prod", (t) => t);
    const { settings } = await new StackFiles(stacks).read("prod");
    const { config, region } = programConfig("prod");
    const { stack: _stack, project: _project, ...program } = parsePlatformConfig("prod", config, region);
    expect(settings).toEqual(program);
    expect(settings.deployer.requireConfirmation).toBe(true);
  });
});
