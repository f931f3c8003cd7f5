import { describe, expect, it } from "vitest";
import { hasLocalInstanceStorage } from "../src/limits";

describe("hasLocalInstanceStorage: the one rule for whether SageMaker accepts a volume KMS key", () => {
  it.each([
    ["ml.m5.large", false],
    ["ml.c6i.xlarge", false],
    ["ml.inf2.xlarge", false],
    ["ml.p3.2xlarge", false],
    ["ml.g4dn.xlarge", true],
    ["ml.m5d.2xlarge", true],
    ["ml.c6id.large", true],
    ["ml.r5d.4xlarge", true],
    ["ml.p4d.24xlarge", true],
    ["ml.g5.2xlarge", true],
    ["ml.g6e.xlarge", true],
    ["ml.p5.48xlarge", true],
    ["ml.trn1.32xlarge", true],
  ])("%s: local instance storage %s", (type, local) => {
    expect(hasLocalInstanceStorage(type)).toBe(local);
  });

  it("is false for a string that is not an instance type (the schema rejects those first)", () => {
    expect(hasLocalInstanceStorage("")).toBe(false);
    expect(hasLocalInstanceStorage("ml")).toBe(false);
  });
});
