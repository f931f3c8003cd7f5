import * as fs from "node:fs";
import * as path from "node:path";

const awsPackage = path.dirname(require.resolve("@pulumi/aws/package.json"));
const cache = new Map<string, boolean>();

/**
 * Whether an AWS resource type supports tags, read from the provider SDK itself: taggable
 * resources have a `tagsAll` output (tags merged with the provider's default tags).
 */
export function isTaggable(type: string): boolean {
  const match = /^aws:([^/]+)\/([^:]+):/.exec(type);
  if (!match) return false;
  const cached = cache.get(type);
  if (cached !== undefined) return cached;
  const [, mod, file] = match;
  const definition = path.join(awsPackage, mod === "index" ? "" : mod, `${file}.d.ts`);
  const taggable = fs.existsSync(definition) && /readonly tagsAll: /.test(fs.readFileSync(definition, "utf8"));
  cache.set(type, taggable);
  return taggable;
}
