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
    const env = {
      partition: "aws",
      region: "eu-west-1",
      accountId: "111122223333",
      kmsKeyOfBucket: (b: string) => `key-of-${b}`,
      enforcedResultLocation: (w: string) => (w === "wg" ? "s3://data/feature-store-queries/" : undefined),
      workgroupOfQuery: () => "wg",
      tableLocation: (db: string, t: string) => `s3://data/${db}/${t}/`,
    };
    // A versioned read is authorised as s3:GetObjectVersion, and decrypted with the bucket's key.
    expect(requiredPermissions("GetObjectCommand", { Bucket: "src", Key: "a b/model.tar.gz", VersionId: "v1" }, env)).toEqual([
      { action: "s3:GetObjectVersion", resource: "arn:aws:s3:::src/a b/model.tar.gz" },
      { action: "kms:Decrypt", resource: "key-of-src" },
    ]);
    expect(requiredPermissions("PutObjectCommand", { Bucket: "dst", Key: "models/m.tar.gz", SSEKMSKeyId: "k2" }, env)).toEqual([
      {
        action: "s3:PutObject",
        resource: "arn:aws:s3:::dst/models/m.tar.gz",
        context: { "s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": "k2" },
      },
      { action: "kms:GenerateDataKey", resource: "k2" },
    ]);
    // Athena: the workgroup's enforced result location, not the request's; the tables the SQL names.
    const select = requiredPermissions(
      "StartQueryExecutionCommand",
      { WorkGroup: "wg", QueryString: 'WITH l AS (SELECT * FROM "fs"."labels_r") SELECT * FROM l JOIN "fs"."t" f', QueryExecutionContext: { Database: "fs" } },
      env,
    );
    expect(select.filter((p) => p.action.startsWith("s3:") || p.action.startsWith("athena:"))).toEqual([
      { action: "athena:StartQueryExecution", resource: "arn:aws:athena:eu-west-1:111122223333:workgroup/wg" },
      { action: "s3:ListBucket", resource: "arn:aws:s3:::data", context: { "s3:prefix": "fs/labels_r/" } },
      { action: "s3:GetObject", resource: "arn:aws:s3:::data/fs/labels_r/*" },
      { action: "s3:ListBucket", resource: "arn:aws:s3:::data", context: { "s3:prefix": "fs/t/" } },
      { action: "s3:GetObject", resource: "arn:aws:s3:::data/fs/t/*" },
      { action: "s3:GetBucketLocation", resource: "arn:aws:s3:::data" },
      {
        action: "s3:PutObject",
        resource: "arn:aws:s3:::data/feature-store-queries/*",
        context: { "s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": "key-of-data" },
      },
    ]);
    const drop = requiredPermissions(
      "StartQueryExecutionCommand",
      { WorkGroup: "wg", QueryString: "DROP TABLE IF EXISTS `fs`.`labels_r`", QueryExecutionContext: { Database: "fs" } },
      env,
    );
    expect(drop.filter((p) => p.action === "glue:DeleteTable").map((p) => p.resource)).toEqual([
      "arn:aws:glue:eu-west-1:111122223333:catalog",
      "arn:aws:glue:eu-west-1:111122223333:database/fs",
      "arn:aws:glue:eu-west-1:111122223333:table/fs/labels_r",
    ]);
    expect(() =>
      requiredPermissions(
        "StartQueryExecutionCommand",
        { WorkGroup: "wg", QueryString: "MSCK REPAIR TABLE t", QueryExecutionContext: { Database: "fs" } },
        env,
      ),
    ).toThrow(/no permissions known for the Athena statement/);
    expect(() => requiredPermissions("DeleteEndpointCommand", {}, env)).toThrow(/has no entry in SDK_PERMISSIONS/);
  });
});
