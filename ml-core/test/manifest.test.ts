import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "..");

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

describe("ml-core stays portable", () => {
  it("its manifest depends on nothing from @pulumi/* or @aws-sdk/*", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies });
    expect(deps.filter((d) => d.startsWith("@pulumi/") || d.startsWith("@aws-sdk/") || d === "aws-sdk")).toEqual([]);
  });

  it("no source file imports a cloud SDK", () => {
    const offenders = sourceFiles(path.join(root, "src")).filter((f) =>
      /(from\s+|require\(|import\()\s*["'](@pulumi\/|@aws-sdk\/|aws-sdk)/.test(fs.readFileSync(f, "utf8")),
    );
    expect(offenders).toEqual([]);
  });

  it("pure ML code reads no environment variables and no fixed paths (only runtime/ and server/ do)", () => {
    const pure = ["data", "gbdt", "eval", "model"].flatMap((d) => sourceFiles(path.join(root, "src", d)));
    expect(pure.length).toBeGreaterThan(10);
    const offenders = pure.filter((f) => /process\.env|\/opt\/ml/.test(fs.readFileSync(f, "utf8")));
    expect(offenders).toEqual([]);
  });
});
