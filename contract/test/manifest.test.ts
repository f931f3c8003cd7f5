import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { buildManifest, canonicalJson, channelManifestFile, parseManifest, type ManifestObject } from "../src/manifest";

const object = (over: Partial<ManifestObject> = {}): ManifestObject => ({
  channel: "train",
  uri: "s3://b/datasets/d/train/a.csv",
  versionId: "v1",
  size: 8,
  sha256: "a".repeat(64),
  rows: 1,
  schemaSha256: "c".repeat(64),
  ...over,
});

describe("dataset manifests", () => {
  it("canonical JSON sorts keys at every level and has no whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
  });

  it("the id is the SHA-256 of the stored bytes, independent of the objects' order", () => {
    const v = object({ channel: "validation", uri: "s3://b/datasets/d/validation/v.csv" });
    const one = buildManifest("s3://b/datasets/d/", [object(), v]);
    const two = buildManifest("s3://b/datasets/d/", [v, object()]);
    expect(one.id).toBe(two.id);
    expect(one.id).toBe(createHash("sha256").update(one.bytes).digest("hex"));
    expect(parseManifest(one.bytes, "m.json", one.id).manifest).toEqual(one.manifest);
  });

  it("a different hash of one object is a different id, and stored bytes that are not the id are refused", () => {
    const one = buildManifest("s3://b/datasets/d/", [object()]);
    const other = buildManifest("s3://b/datasets/d/", [object({ sha256: "b".repeat(64) })]);
    expect(other.id).not.toBe(one.id);
    expect(() => parseManifest(other.bytes, "m.json", one.id)).toThrow(`m.json: its SHA-256 is ${other.id}, not the manifest id ${one.id}`);
    expect(() => parseManifest(JSON.stringify(one.manifest, null, 1), "m.json")).toThrow("not in canonical form");
  });

  it("a channel's SageMaker ManifestFile lists each content once under the content-addressed prefix", () => {
    const { manifest } = buildManifest("s3://b/datasets/d/", [object(), object({ uri: "s3://b/datasets/d/train/copy.csv" })]);
    expect(JSON.parse(channelManifestFile("b", manifest, "train"))).toEqual([{ prefix: "s3://b/datasets/sha256/" }, "a".repeat(64)]);
  });
});
