import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { extractFromTarGz } from "../src/registry/tar";
import { tarGz } from "./world";

const find = (archive: Buffer, name: string) => extractFromTarGz(Readable.from([archive]), (n) => n === name).then((b) => b?.toString());

function entry(name: string, type: string, data: Buffer): Buffer[] {
  const header = Buffer.alloc(512);
  header.write(name.slice(0, 99), 0);
  header.write(data.length.toString(8).padStart(11, "0") + "\0", 124);
  header.write(type, 156);
  header.write("ustar\0", 257);
  return [header, data, Buffer.alloc((512 - (data.length % 512)) % 512)];
}

describe("extractFromTarGz", () => {
  it("finds a file named ./name or name, after other entries", async () => {
    const archive = tarGz({ "model.json": "x".repeat(2000), "metrics.json": '{"validation:auc":0.9}' });
    expect(await find(archive, "metrics.json")).toBe('{"validation:auc":0.9}');
    expect(await find(tarGz({ "metrics.json": "{}" }, ""), "metrics.json")).toBe("{}");
  });

  it("returns undefined when the file is absent", async () => {
    expect(await find(tarGz({ "model.json": "{}" }), "metrics.json")).toBeUndefined();
  });

  it("honours GNU long names and pax path headers", async () => {
    const long = "d/".repeat(60) + "metrics.json";
    const gnu = gzipSync(Buffer.concat([...entry("././@LongLink", "L", Buffer.from(long + "\0")), ...entry("truncated", "0", Buffer.from("gnu")), Buffer.alloc(1024)]));
    expect(await find(gnu, long)).toBe("gnu");
    const record = `${"path=metrics.json\n".length + 3} path=metrics.json\n`;
    const pax = gzipSync(Buffer.concat([...entry("PaxHeader/x", "x", Buffer.from(record)), ...entry("x", "0", Buffer.from("pax")), Buffer.alloc(1024)]));
    expect(await find(pax, "metrics.json")).toBe("pax");
  });
});
