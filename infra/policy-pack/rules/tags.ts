// Every taggable resource carries the platform's required tags (owner, cost centre, stack...).
import { REQUIRED_TAG_KEYS } from "../../tags";
import { type PlatformPolicy } from "../lib/policy";
import { asRecord, describe } from "../lib/resources";

export const requiredTags: PlatformPolicy = {
  name: "required-tags",
  description: `Every taggable AWS resource carries the required tags (${REQUIRED_TAG_KEYS.join(", ")}) with non-empty values.`,
  severity: "low",
  controls: [],
  configSchema: {
    properties: {
      requiredTagKeys: {
        type: "array",
        items: { type: "string" },
        default: [...REQUIRED_TAG_KEYS],
        description: "Tag keys every taggable resource must carry.",
      },
    },
  },
  // A stack policy on outputs: `tagsAll` is what the AWS provider computes from its default tags
  // and the resource's own (the platform sets its tags as provider default tags, so a resource's
  // `tags` input is usually empty), and only taggable resources have it.
  validateStack: (args, reportViolation) => {
    const keys = args.getConfig<{ requiredTagKeys?: string[] }>().requiredTagKeys ?? [...REQUIRED_TAG_KEYS];
    const taggable = args.resources.filter((r) => r.type.startsWith("aws:") && "tagsAll" in r.props);
    if (taggable.length === 0) return args.notApplicable("no taggable AWS resources in the stack");
    for (const resource of taggable) {
      const tags = asRecord(resource.props.tagsAll) ?? {};
      const missing = keys.filter((k) => typeof tags[k] !== "string" || tags[k] === "");
      if (missing.length > 0) {
        reportViolation(
          `${describe(resource)}: missing required tag${missing.length > 1 ? "s" : ""} ${missing.join(", ")}; set them in the stack's mlPlatform:tags (applied as the provider's default tags)`,
          resource.urn,
        );
      }
    }
  },
};

export const tagPolicies: PlatformPolicy[] = [requiredTags];
