import { createHash } from "node:crypto";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { verifyAgainstManifest, withSources } from "../src/train/manifest";
import { tmpDir, writeFile } from "./helpers";

const hex = (s: string) => createHash("sha256").update(s).digest("hex");
const TRAIN = "y,x\n1,2\n";

/** A channel tree as a ManifestFile channel leaves it, and the manifest channel's file. */
function tree(trainContent: string) {
  const data = tmpDir("manifest-");
  const manifest = JSON.stringify({ objects: [{ channel: "train", sha256: hex(TRAIN), uri: "s3://b/datasets/d/train/a.csv" }] });
  const file = writeFile(path.join(data, "train", hex(TRAIN)), trainContent);
  const m = writeFile(path.join(data, "manifest", `${hex(manifest)}.json`), manifest);
  return { data, file, m, id: hex(manifest) };
}

describe("verifying the channels against the dataset manifest", () => {
  it("passes the manifest's bytes and maps each file to its object", () => {
    const t = tree(TRAIN);
    const v = verifyAgainstManifest([t.m], { train: [t.file] }, t.data);
    expect(v).toMatchObject({ id: t.id, files: { train: 1 } });
    expect(withSources(`${t.file}:3: bad`, v.sources)).toBe(`${t.file} (s3://b/datasets/d/train/a.csv):3: bad`);
  });

  it("fails on one changed byte, naming the file, the object, and the expected and actual SHA-256", () => {
    const t = tree(TRAIN.replace("2", "3"));
    expect(() => verifyAgainstManifest([t.m], { train: [t.file] }, t.data)).toThrow(
      `train/${hex(TRAIN)} differs from dataset manifest ${t.id}: expected SHA-256 ${hex(TRAIN)} (s3://b/datasets/d/train/a.csv), actual ${hex(TRAIN.replace("2", "3"))}`,
    );
  });

  it("fails on a file the manifest does not list, and on one it lists that is missing", () => {
    const t = tree(TRAIN);
    const extra = writeFile(path.join(t.data, "train", "extra.csv"), TRAIN);
    expect(() => verifyAgainstManifest([t.m], { train: [t.file, extra] }, t.data)).toThrow("train/extra.csv is not in dataset manifest");
    expect(() => verifyAgainstManifest([t.m], { train: [] }, t.data)).toThrow(`train/${hex(TRAIN)} (s3://b/datasets/d/train/a.csv) is in dataset manifest`);
  });
});
