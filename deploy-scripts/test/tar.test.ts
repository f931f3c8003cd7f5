import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import { createGzip, gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import { describe, expect, it } from "vitest";
import { readFromTarGz } from "../src/registry/tar";
import { tarGz } from "./world";

const find = (archive: Buffer | Readable, name: string, maxBytes?: number) =>
  readFromTarGz(Buffer.isBuffer(archive) ? Readable.from([archive]) : archive, (n) => n === name, { maxBytes }).then((m) => m.get(name)?.toString());

/** One ustar header with a valid checksum over whatever the fields hold (so only the field is bad). */
function header(name: string, sizeField: string, type = "0"): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write("0000644\0", 100);
  h.write("0000000\0", 108);
  h.write("0000000\0", 116);
  h.write(sizeField, 124);
  h.write("00000000000\0", 136);
  h.write("        ", 148);
  h.write(type, 156);
  h.write("ustar\0", 257);
  h.write("00", 263);
  h.write(
    h
      .reduce((a, b) => a + b, 0)
      .toString(8)
      .padStart(6, "0") + "\0 ",
    148,
  );
  return h;
}

describe("readFromTarGz", () => {
  it("reads metrics.json from a model.tar.gz written as SageMaker writes it (Python's tarfile, pax, ./ names)", async () => {
    const archive = readFileSync(path.join(__dirname, "fixtures", "model.tar.gz"));
    expect(JSON.parse((await find(archive, "metrics.json"))!)).toEqual({ "validation:auc": 0.8123, "validation:logloss": 0.41, "train:auc": 0.85 });
    expect(await find(archive, `${"nested/".repeat(20)}feature-schema.json`)).toBe("{}");
  });

  it("finds a file named ./name or name, after other entries", async () => {
    const archive = tarGz({ "model.json": "x".repeat(2000), "metrics.json": '{"validation:auc":0.9}' });
    expect(await find(archive, "metrics.json")).toBe('{"validation:auc":0.9}');
    expect(await find(tarGz({ "metrics.json": "{}" }, ""), "metrics.json")).toBe("{}");
  });

  it("returns undefined when the file is absent", async () => {
    expect(await find(tarGz({ "model.json": "{}" }), "metrics.json")).toBeUndefined();
  });

  // The hand-written reader spun forever on the first of these (a size of NaN never moved past the
  // header) and returned an empty metrics.json for the second.
  it.each([
    ["before the wanted one", "model.json"],
    ["of the wanted one", "metrics.json"],
  ])("fails fast, saying why, on a header whose size field is not octal: %s", { timeout: 5_000 }, async (_, name) => {
    const corrupt = gzipSync(Buffer.concat([header(name, "zzzzzzzzzzz\0"), Buffer.alloc(512, 65), Buffer.alloc(1024)]));
    await expect(find(corrupt, "metrics.json")).rejects.toThrow(/^not a readable gzipped tar archive: Invalid header/);
  });

  it.each([
    [
      "a bad header checksum",
      gzipSync(Buffer.concat([Buffer.from(header("metrics.json", "00000000002\0").fill(7, 148, 150)), Buffer.alloc(512), Buffer.alloc(1024)])),
      /Invalid tar header/,
    ],
    ["data that is not gzip", Buffer.from("PK\u0003\u0004 a zip file"), /incorrect header check/],
    ["an archive cut inside an entry", gzipSync(Buffer.concat([header("model.json", "00000010000\0"), Buffer.alloc(1024)])), /Unexpected end of data/],
  ])("rejects %s", { timeout: 5_000 }, async (_, archive, reason) => {
    await expect(find(archive, "metrics.json")).rejects.toThrow(reason);
  });

  it("streams past a member larger than it would ever buffer, and refuses to buffer a wanted one that large", async () => {
    const big = 16 * 1024 * 1024;
    const archive = () => {
      const p = pack();
      p.entry({ name: "./model.json", size: big }, Buffer.alloc(big, 48));
      p.entry({ name: "./metrics.json" }, '{"validation:auc":0.7}');
      p.finalize();
      return Readable.from(p).pipe(createGzip());
    };
    // A 1 MiB limit: the 32 MiB member before metrics.json is read through, never held.
    expect(await find(archive(), "metrics.json", 1024 * 1024)).toBe('{"validation:auc":0.7}');
    await expect(find(archive(), "model.json", 1024 * 1024)).rejects.toThrow("./model.json is 16777216 bytes, over the 1048576-byte limit");
  });

  it("honours GNU long names", async () => {
    const long = "d/".repeat(60) + "metrics.json";
    const longLink = header("././@LongLink", (long.length + 1).toString(8).padStart(11, "0") + "\0", "L");
    const data = Buffer.concat([Buffer.from(long + "\0"), Buffer.alloc(512 - ((long.length + 1) % 512))]);
    const gnu = gzipSync(Buffer.concat([longLink, data, header("truncated", "00000000003\0"), Buffer.from("gnu"), Buffer.alloc(509), Buffer.alloc(1024)]));
    expect(await find(gnu, long)).toBe("gnu");
  });
});
