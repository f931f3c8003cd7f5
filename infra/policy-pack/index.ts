// The CrossGuard entry point: `pulumi preview|up --policy-pack infra/policy-pack` runs this file.
// Every policy is mandatory; dev may relax that with --policy-pack-config config/dev.json.
import { PolicyPack } from "@pulumi/policy";
import { policies, POLICY_PACK_NAME } from "./policies";

// The engine reads only the fields it knows; `controls` stays ours (it is in each policy's tags).
new PolicyPack(POLICY_PACK_NAME, {
  description: "ml-platform guardrails: encrypted, private storage; least-privilege IAM; hardened SageMaker serving; tagged resources.",
  enforcementLevel: "mandatory",
  policies: policies.map(({ controls: _controls, ...policy }) => policy),
});
