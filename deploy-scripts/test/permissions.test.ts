import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { SDK_PERMISSIONS, requiredPermissions } from "../src/aws/permissions";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

describe("SDK_PERMISSIONS", () => {
  it("has an entry for every SDK command the sources send, paginated ones included", () => {
    const sent = new Set<string>();
    for (const file of sources(path.join(__dirname, "../src"))) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/new (\w+Command)\(/g)) sent.add(m[1]!);
      for (const m of text.matchAll(/paginate(\w+)\(/g)) sent.add(`${m[1]}Command`);
    }
    expect([...sent].filter((c) => !(c in SDK_PERMISSIONS))).toEqual([]);
    expect(sent.size).toBeGreaterThanOrEqual(14);
  });

  it("maps a call to the resource AWS authorises it on", () => {
    const env = { partition: "aws", region: "eu-west-1", accountId: "111122223333", kmsKeyOfBucket: (b: string) => `key-of-${b}` };
    // A versioned read is authorised as s3:GetObjectVersion, and decrypted with the bucket's key.
    expect(requiredPermissions("GetObjectCommand", { Bucket: "src", Key: "a b/model.tar.gz", VersionId: "v1" }, env)).toEqual([
      { action: "s3:GetObjectVersion", resource: "arn:aws:s3:::src/a b/model.tar.gz" },
      { action: "kms:Decrypt", resource: "key-of-src" },
    ]);
    expect(requiredPermissions("PutObjectCommand", { Bucket: "dst", Key: "models/m.tar.gz", SSEKMSKeyId: "k2" }, env)).toEqual([
      { action: "s3:PutObject", resource: "arn:aws:s3:::dst/models/m.tar.gz" },
      { action: "kms:GenerateDataKey", resource: "k2" },
    ]);
    expect(() => requiredPermissions("DeleteEndpointCommand", {}, env)).toThrow(/has no entry in SDK_PERMISSIONS/);
  });
});
