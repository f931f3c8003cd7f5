// The plan's one-line summaries are what a reviewer reads before `pulumi up`: they must not
// overstate who may assume a role.
import { describe, expect, it } from "vitest";
import { summarize } from "../infra/offline/plan-report";
import { principalTrustPolicy } from "../infra/policies/documents";

const role = (assumeRolePolicy: unknown) =>
  summarize({ type: "aws:iam/role:Role", name: "r", urn: "urn", inputs: { assumeRolePolicy: JSON.stringify(assumeRolePolicy) } } as never);

describe("a role's summary in the plan", () => {
  it("lists the principals an Allow trusts", () => {
    expect(role(principalTrustPolicy("Trusted", ["arn:aws:iam::111122223333:role/pipeline"])).settings.trustedBy).toEqual([
      "arn:aws:iam::111122223333:role/pipeline",
    ]);
  });

  it("shows a role whose trust only denies (no principals configured) as trusted by nobody, not by *", () => {
    expect(role(principalTrustPolicy("Trusted", [])).settings.trustedBy).toEqual([]);
  });
});
