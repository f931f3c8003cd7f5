// The pipeline's Snapshot step (`ml-core snapshot`, in the image, without zod or the AWS SDK)
// writes dataset manifests in the contract's format: the same canonical bytes, the same id, the
// same SageMaker ManifestFiles as `ml-deploy data snapshot` for the same objects.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { buildManifest, canonicalJson, channelManifestFile, parseManifest } from "@ml-platform/contract";
import { canonicalJson as coreCanonicalJson } from "../ml-core/src/train/manifest";
import { snapshot, SNAPSHOT_RECORD_FILE } from "../ml-core/src/runtime/snapshot";
import { snapshotS3 } from "../deploy-scripts/src/data/snapshot";
import { snapshotLocal } from "../deploy-scripts/src/data/local";

const BUCKET = "datasets-b";
const PREFIX = "datasets/flight-delays/v1";
/** Key below the prefix → bytes: a quoted line break, CRLF, a file without a trailing newline, a nested key, a duplicate content. */
const FILES: Record<string, string> = {
  "train/part-1.csv": 'y,x,note\n1,2,"two\nlines"\n0,3,plain\n',
  "train/2024/part-2.csv": "y,x,note\r\n1,5,a\r\n0,6,b",
  "validation/valid.csv": "y,x,note\n1,2,c\n",
  "validation/copy.csv": "y,x,note\n1,2,c\n",
};

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "pipeline-snapshot-"));
}

/** The tree a Processing job's inputs leave: `<input>/<channel>/<key below the channel prefix>`. */
function processingTree(): { input: string; output: string } {
  const root = tmp();
  for (const [key, text] of Object.entries(FILES)) {
    const file = path.join(root, "input", key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  return { input: path.join(root, "input"), output: path.join(root, "output") };
}

function runCoreSnapshot(manifest = "") {
  const t = processingTree();
  const record = snapshot({
    input: t.input,
    output: t.output,
    source: `s3://${BUCKET}/${PREFIX}/`,
    objects: `s3://${BUCKET}/datasets/sha256/`,
    manifests: `s3://${BUCKET}/datasets/manifests/`,
    manifest,
  });
  return { ...t, record };
}

/** An unversioned bucket holding FILES, as S3Client.send answers for snapshotS3. */
function fakeS3(): { s3: S3Client; puts: Map<string, string> } {
  const objects = new Map(Object.entries(FILES).map(([k, v]) => [`${PREFIX}/${k}`, v]));
  const puts = new Map<string, string>();
  const s3 = new S3Client({ region: "eu-west-1" });
  const body = (text: string) => Readable.from([Buffer.from(text)]);
  s3.send = (async (command: unknown) => {
    if (command instanceof ListObjectsV2Command) {
      const prefix = command.input.Prefix ?? "";
      return { Contents: [...objects.keys()].filter((k) => k.startsWith(prefix)).map((Key) => ({ Key })), IsTruncated: false };
    }
    if (command instanceof GetObjectCommand) return { Body: body(objects.get(command.input.Key!)!) };
    if (command instanceof HeadObjectCommand) {
      if (!puts.has(command.input.Key!)) throw Object.assign(new Error("NotFound"), { name: "NotFound" });
      return {};
    }
    if (command instanceof PutObjectCommand) {
      const b = command.input.Body;
      let text = typeof b === "string" ? b : "";
      if (b && typeof b !== "string") for await (const chunk of b as AsyncIterable<Uint8Array>) text += Buffer.from(chunk).toString("utf8");
      puts.set(command.input.Key!, text);
      return {};
    }
    throw new Error(`unexpected ${String((command as object).constructor.name)}`);
  }) as S3Client["send"];
  return { s3, puts };
}

const quiet = { info: () => undefined, step: () => undefined } as never;

describe("ml-core's canonical JSON", () => {
  it.each([
    ["nested objects, sorted at every level", { b: { z: 1, a: [3, { y: null, x: "é" }] }, a: true }],
    ["keys sorted by UTF-16 code unit, not locale", { é: 1, Z: 2, a: 3, "10": 4, "9": 5, "\u{1F600}": 6, "\uFFFF": 7 }],
    ["escapes and numbers", { s: 'quote " backslash \\ newline \n tab \t \u0001', n: [0, -0, 1e21, 1.5, 123456789012] }],
    ["a manifest-shaped value", { objects: [{ versionId: null, uri: "s3://b/k", size: 3 }], format: "f", source: "s" }],
  ])("gives the contract's bytes: %s", (_name, value) => {
    expect(coreCanonicalJson(value)).toBe(canonicalJson(value));
  });
});

describe("ml-core snapshot (the pipeline's Snapshot step)", () => {
  it("gives the manifest id ml-deploy data snapshot gives for the same objects of an unversioned bucket", async () => {
    const core = runCoreSnapshot();
    const { s3, puts } = fakeS3();
    const cli = await snapshotS3(s3, { bucket: BUCKET, prefix: PREFIX, kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/k" }, quiet);
    expect(core.record.manifestId).toBe(cli.id);
    // The same bytes at the same keys: what its ProcessingOutputs upload is what the CLI writes.
    const uploaded = (dir: string, prefix: string) =>
      Object.fromEntries(
        (fs.readdirSync(dir, { recursive: true }) as string[])
          .filter((f) => fs.statSync(path.join(dir, f)).isFile())
          .map((f) => [`${prefix}/${f.split(path.sep).join("/")}`, fs.readFileSync(path.join(dir, f), "utf8")]),
      );
    expect({
      ...uploaded(path.join(core.output, "objects"), "datasets/sha256"),
      ...uploaded(path.join(core.output, "manifests"), "datasets/manifests"),
    }).toEqual(Object.fromEntries(puts));
    expect(parseManifest(puts.get(`datasets/manifests/${cli.id}.json`)!, "manifest", cli.id).manifest.objects.every((o) => o.versionId === null)).toBe(true);
  });

  it("writes a contract manifest and ManifestFiles, and a record with the URIs the later steps read", () => {
    const core = runCoreSnapshot();
    const id = core.record.manifestId;
    const bytes = fs.readFileSync(path.join(core.output, "manifests", `${id}.json`), "utf8");
    const { manifest } = parseManifest(bytes, "ml-core's manifest", id);
    expect(buildManifest(manifest.source, manifest.objects).id).toBe(id);
    for (const channel of ["train", "validation"] as const)
      expect(fs.readFileSync(path.join(core.output, "manifests", id, `${channel}.manifest`), "utf8")).toBe(channelManifestFile(BUCKET, manifest, channel));
    expect(manifest.objects.map((o) => [o.channel, o.uri, o.rows])).toEqual([
      ["train", `s3://${BUCKET}/${PREFIX}/train/2024/part-2.csv`, 2],
      ["train", `s3://${BUCKET}/${PREFIX}/train/part-1.csv`, 2],
      ["validation", `s3://${BUCKET}/${PREFIX}/validation/copy.csv`, 1],
      ["validation", `s3://${BUCKET}/${PREFIX}/validation/valid.csv`, 1],
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(core.output, "record", SNAPSHOT_RECORD_FILE), "utf8"))).toEqual({
      manifestId: id,
      snapshotted: true,
      manifest: `s3://${BUCKET}/datasets/manifests/${id}.json`,
      channels: {
        train: `s3://${BUCKET}/datasets/manifests/${id}/train.manifest`,
        validation: `s3://${BUCKET}/datasets/manifests/${id}/validation.manifest`,
      },
      objects: 4,
    });
  });

  it("records per file what snapshotLocal records (size, SHA-256, rows, header hash); only the URIs differ", async () => {
    // snapshotLocal reads <dir>/<channel>.csv and names each by its file:// URL: the same bytes, another place.
    const dir = tmp();
    fs.writeFileSync(path.join(dir, "train.csv"), FILES["train/part-1.csv"]!);
    fs.writeFileSync(path.join(dir, "validation.csv"), FILES["validation/valid.csv"]!);
    const local = await snapshotLocal(dir, path.join(dir, "store"));
    const core = runCoreSnapshot();
    const { manifest } = parseManifest(fs.readFileSync(path.join(core.output, "manifests", `${core.record.manifestId}.json`), "utf8"), "m");
    const facts = (o: (typeof manifest.objects)[number]) => ({
      channel: o.channel,
      size: o.size,
      sha256: o.sha256,
      rows: o.rows,
      schemaSha256: o.schemaSha256,
    });
    for (const o of local.manifest.objects) expect(manifest.objects.map(facts)).toContainEqual(facts(o));
    // With the same URIs and source, the same id.
    const same = buildManifest(
      local.manifest.source,
      manifest.objects
        .filter((o) => o.uri.endsWith("/part-1.csv") || o.uri.endsWith("/valid.csv"))
        .map((o) => ({ ...o, uri: local.manifest.objects.find((l) => l.channel === o.channel)!.uri })),
    );
    expect(same.id).toBe(local.id);
  });

  it("a changed byte changes the manifest id", () => {
    const a = runCoreSnapshot();
    const t = processingTree();
    fs.writeFileSync(path.join(t.input, "train/part-1.csv"), FILES["train/part-1.csv"]!.replace("0,3", "0,4"));
    const b = snapshot({
      ...t,
      source: `s3://${BUCKET}/${PREFIX}/`,
      objects: `s3://${BUCKET}/datasets/sha256/`,
      manifests: `s3://${BUCKET}/datasets/manifests/`,
    });
    expect(b.manifestId).not.toBe(a.record.manifestId);
  });

  it("with a given manifest id, snapshots nothing and points the record at it", () => {
    const id = "a".repeat(64);
    const core = runCoreSnapshot(id);
    expect(core.record).toMatchObject({ manifestId: id, snapshotted: false, manifest: `s3://${BUCKET}/datasets/manifests/${id}.json` });
    expect(fs.existsSync(path.join(core.output, "manifests"))).toBe(false);
    expect(() => runCoreSnapshot("latest")).toThrow("--manifest latest: a dataset manifest id is 64 lowercase hex digits");
  });

  it("fails naming the channel and its prefix when a channel is empty", () => {
    const t = processingTree();
    fs.rmSync(path.join(t.input, "validation"), { recursive: true });
    expect(() =>
      snapshot({ ...t, source: `s3://${BUCKET}/${PREFIX}/`, objects: `s3://${BUCKET}/datasets/sha256/`, manifests: `s3://${BUCKET}/datasets/manifests/` }),
    ).toThrow(`the validation channel is empty: no objects under s3://${BUCKET}/${PREFIX}/validation/`);
  });
});
