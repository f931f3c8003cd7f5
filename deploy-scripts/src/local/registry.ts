import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { CreateModelPackageCommandInput, DescribeModelPackageCommandOutput } from "@aws-sdk/client-sagemaker";
import { CliError } from "../errors";
import { toModelVersion, type ModelVersion } from "../registry/model-version";

/** A registered version as stored: SageMaker's DescribeModelPackage fields, nothing else. */
export type LocalModelPackage = Omit<DescribeModelPackageCommandOutput, "$metadata" | "CreationTime"> & {
  CreationTime: string;
  /** Kept so that registering the same request twice finds the first version (as SageMaker does). */
  ClientToken?: string;
};

/**
 * A model registry in files, for a machine without an AWS account: one directory per model package
 * group, one JSON file per version (`<n>.json`), holding the same fields SageMaker's registry
 * returns for a version. Versions are never overwritten or removed: each is created with an
 * exclusive create, so two registrations can never take the same number.
 */
export class LocalModelRegistry {
  constructor(readonly root: string) {}

  /** Registers a version (CreateModelPackage's request); a repeated ClientToken returns the existing one. */
  register(input: CreateModelPackageCommandInput, now: Date = new Date()): ModelVersion {
    const group = input.ModelPackageGroupName;
    if (!group) throw new CliError("a local registration needs ModelPackageGroupName");
    const dir = this.groupDir(group);
    fs.mkdirSync(dir, { recursive: true });
    const existing = input.ClientToken ? this.list(group).find((p) => p.ClientToken === input.ClientToken) : undefined;
    if (existing) return toModelVersion({ ...existing, CreationTime: new Date(existing.CreationTime) });

    for (let version = this.latestVersion(group) + 1; ; version++) {
      const entry: LocalModelPackage = {
        ...input,
        ModelPackageName: group,
        ModelPackageVersion: version,
        ModelPackageArn: localArn(group, version),
        ModelPackageStatus: "Completed",
        // Nothing validates or scans a local version.
        ModelPackageStatusDetails: { ValidationStatuses: [] },
        CreationTime: now.toISOString(),
      };
      const file = path.join(dir, `${version}.json`);
      try {
        // "wx": fails if another registration took this number first; then try the next one.
        fs.writeFileSync(file, JSON.stringify(entry, null, 2) + "\n", { flag: "wx" });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
        throw err;
      }
      return toModelVersion({ ...entry, CreationTime: now });
    }
  }

  /** Every version of a group, oldest first. */
  list(group: string): LocalModelPackage[] {
    const dir = this.groupDir(group);
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir)
      .filter((f) => /^\d+\.json$/.test(f))
      .sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
      .map((f) => this.read(path.join(dir, f)));
  }

  describe(group: string, version: number): ModelVersion {
    const file = path.join(this.groupDir(group), `${version}.json`);
    if (!fs.existsSync(file)) throw new CliError(`no version ${version} in the local registry's group "${group}" (${file})`);
    const entry = this.read(file);
    return toModelVersion({ ...entry, CreationTime: new Date(entry.CreationTime) });
  }

  private latestVersion(group: string): number {
    return this.list(group).reduce((max, p) => Math.max(max, p.ModelPackageVersion ?? 0), 0);
  }

  private groupDir(group: string): string {
    if (!/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(group)) throw new CliError(`"${group}" is not a valid model package group name`);
    return path.join(this.root, group);
  }

  private read(file: string): LocalModelPackage {
    try {
      return JSON.parse(fs.readFileSync(file, "utf8")) as LocalModelPackage;
    } catch (err) {
      throw new CliError(`the local registry entry ${file} cannot be read: ${(err as Error).message}`);
    }
  }
}

/** The ARN-shaped name of a local version; the "local" partition and zero account say it is not AWS's. */
export function localArn(group: string, version: number): string {
  return `arn:aws:sagemaker:local:000000000000:model-package/${group.toLowerCase()}/${version}`;
}

/**
 * A digest of a directory's files (paths relative to it, and contents), in the form of an image
 * digest: the identity of the code a local version runs, where no container image is built.
 */
export function contentDigest(root: string): string {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) files.push(full);
    }
  };
  walk(root);
  const hash = createHash("sha256");
  for (const file of files.sort()) {
    hash.update(path.relative(root, file).split(path.sep).join("/"));
    hash.update("\0");
    hash.update(fs.readFileSync(file));
  }
  return `sha256:${hash.digest("hex")}`;
}
