import { describe, expect, it } from "vitest";
import { ARTIFACT_PREFIXES, DATASET_CHANNELS, VALIDATION_CHANNEL, promotedModelPrefix, registeredReportKey, trainingArtifactKey } from "../src/layout";
import { MODEL_ARTIFACT_URI } from "../src/patterns";

describe("artifact layout", () => {
  it("keeps every kind of object under its own prefix, so each gets its own grant and lifecycle rule", () => {
    const prefixes = Object.values(ARTIFACT_PREFIXES);
    expect(new Set(prefixes).size).toBe(prefixes.length);
    for (const a of prefixes) for (const b of prefixes) if (a !== b) expect(a.startsWith(b)).toBe(false);
    expect(prefixes.every((p) => !p.includes("/"))).toBe(true);
  });

  it("puts a training job's artifact where a pinned artifactUri may point", () => {
    const key = trainingArtifactKey("churn-dev-20250101-000000");
    expect(key).toBe("training-output/churn-dev-20250101-000000/output/model.tar.gz");
    expect(MODEL_ARTIFACT_URI.test(`s3://churn-dev-artifacts/${key}`)).toBe(true);
  });

  it("keeps registry-owned objects under models/", () => {
    expect(registeredReportKey("job-1")).toBe("models/registered/job-1/model-quality.json");
    expect(promotedModelPrefix("churn-staging", 3)).toBe("models/promoted/churn-staging/3");
  });

  it("evaluates on one of the channels training reads", () => {
    expect(DATASET_CHANNELS).toContain(VALIDATION_CHANNEL);
  });
});
