import { describe, expect, it } from "vitest";
import { parseStackSettings } from "../src/settings";
import { stackConfig } from "./stacks";

function problems(stack: string, featureStore: unknown): string[] {
  const result = parseStackSettings(stack, { ...stackConfig(stack), "mlPlatform:featureStore": featureStore });
  return result.ok ? [] : result.problems.map((p) => p.text);
}

function settings(stack: string) {
  const result = parseStackSettings(stack, stackConfig(stack));
  if (!result.ok) throw new Error(result.problems.map((p) => p.text).join("\n"));
  return result.settings;
}

const SETS = ["examples/flight-delays/features.yaml"];

describe("mlPlatform:featureStore", () => {
  it("keeps an online store, with a TTL, in prod only; every SageMaker stack has the offline store in Iceberg", () => {
    expect(settings("prod").featureStore).toMatchObject({ onlineStore: { enabled: true, ttl: { unit: "Days" } }, offlineStore: { tableFormat: "Iceberg" } });
    for (const stack of ["dev", "staging"]) {
      expect(settings(stack).featureStore, stack).toMatchObject({ onlineStore: { enabled: false }, offlineStore: { tableFormat: "Iceberg" } });
    }
  });

  it("is optional: no block, no feature store", () => {
    expect(settings("dev-k8s").featureStore).toBeUndefined();
  });

  it("defaults to an Iceberg offline store, no online store, ingestion by the deployer", () => {
    const result = parseStackSettings("dev", { ...stackConfig("dev"), "mlPlatform:featureStore": { featureSets: SETS } });
    expect(result.ok && result.settings.featureStore).toEqual({
      featureSets: SETS,
      offlineStore: { tableFormat: "Iceberg" },
      onlineStore: { enabled: false },
      ingestion: { byDeployer: true, trustedPrincipalArns: [] },
    });
  });

  it.each([
    [{}, "dev: mlPlatform:featureStore.featureSets is missing"],
    [{ featureSets: [] }, "dev: mlPlatform:featureStore.featureSets ([]) Too small"],
    [{ featureSets: ["features.json"] }, 'dev: mlPlatform:featureStore.featureSets.0 ("features.json") must name a .yaml file'],
    [
      { featureSets: ["../secrets/features.yaml"] },
      "dev: mlPlatform:featureStore.featureSets.0 (\"../secrets/features.yaml\") must not contain '.' or '..' segments",
    ],
    [{ featureSets: ["/etc/features.yaml"] }, 'dev: mlPlatform:featureStore.featureSets.0 ("/etc/features.yaml") must be a file path'],
    [{ featureSets: [SETS[0], SETS[0]] }, ") must not list a file twice"],
    [{ featureSets: SETS, offlineStore: { tableFormat: "Delta" } }, 'dev: mlPlatform:featureStore.offlineStore.tableFormat ("Delta")'],
    [
      { featureSets: SETS, onlineStore: { enabled: true, ttl: { value: 0, unit: "Days" } } },
      "dev: mlPlatform:featureStore.onlineStore.ttl.value (0) Too small",
    ],
    [{ featureSets: SETS, onlineStore: { enabled: true, ttl: { value: 3, unit: "Months" } } }, 'dev: mlPlatform:featureStore.onlineStore.ttl.unit ("Months")'],
    [
      { featureSets: SETS, onlineStore: { enabled: false, ttl: { value: 3, unit: "Days" } } },
      "dev: mlPlatform:featureStore.onlineStore.ttl is set but featureStore.onlineStore.enabled is false: only an online store expires records",
    ],
    [
      { featureSets: SETS, ingestion: { trustedPrincipalArns: ["pipeline"] } },
      'dev: mlPlatform:featureStore.ingestion.trustedPrincipalArns.0 ("pipeline") must be an IAM principal ARN',
    ],
    [
      { featureSets: SETS, onlineStore: { enabled: true, storageType: "InMemory" } },
      "dev: mlPlatform:featureStore.onlineStore.storageType is not a known setting",
    ],
  ])("rejects %j", (featureStore, message) => {
    expect(problems("dev", featureStore).join("\n")).toContain(message);
  });
});
