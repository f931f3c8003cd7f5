import * as path from "node:path";
import * as zlib from "node:zlib";
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { fieldText, readCsv } from "../src/data/csv";
import { tmpDir, writeFile } from "./helpers";

function records(text: string | Buffer, name = "a.csv"): { line: number; fields: string[] }[] {
  const file = writeFile(path.join(tmpDir(), name), "");
  fs.writeFileSync(file, text);
  const out: { line: number; fields: string[] }[] = [];
  readCsv(file, (r) => {
    out.push({ line: r.line, fields: Array.from({ length: r.nFields }, (_, i) => fieldText(r, i)) });
  });
  return out;
}

describe("readCsv", () => {
  it("reads quoted fields with commas, escaped quotes and newlines, and CRLF line ends", () => {
    const rows = records('a,b\r\n"x,1","say ""hi"""\r\n"multi\nline",2\r\n');
    expect(rows.map((r) => r.fields)).toEqual([
      ["a", "b"],
      ["x,1", 'say "hi"'],
      ["multi\nline", "2"],
    ]);
    expect(rows.map((r) => r.line)).toEqual([1, 2, 3]);
  });

  it("skips blank lines but counts them in line numbers, and reads a last line without newline", () => {
    const rows = records("a,b\n\n1,2\n3,4");
    expect(rows).toEqual([
      { line: 1, fields: ["a", "b"] },
      { line: 3, fields: ["1", "2"] },
      { line: 4, fields: ["3", "4"] },
    ]);
  });

  it("keeps empty fields (missing values)", () => {
    expect(records("1,,3\n,,\n").map((r) => r.fields)).toEqual([
      ["1", "", "3"],
      ["", "", ""],
    ]);
  });

  it("strips a UTF-8 byte order mark", () => {
    expect(records(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("x,y\n")]))[0].fields).toEqual(["x", "y"]);
  });

  it("reads gzip-compressed files", () => {
    expect(records(zlib.gzipSync("a,b\n1,2\n"), "a.csv.gz").map((r) => r.fields)).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
  });

  it("reads a record longer than its read buffer", () => {
    const long = "x".repeat(3 << 20);
    expect(records(`a,b\n1,"${long}"\n2,z\n`).map((r) => r.fields[1].length)).toEqual([1, 3 << 20, 1]);
  });

  it("reads records that straddle its 1 MiB read chunks", () => {
    const line = '123456.789,abcdefgh,"q,q"\n';
    const n = Math.ceil((9 << 20) / line.length);
    const rows = records(line.repeat(n));
    expect(rows.length).toBe(n);
    expect(rows.every((r) => r.fields[0] === "123456.789" && r.fields[2] === "q,q")).toBe(true);
  });

  it("names the file and line of an unterminated quote", () => {
    expect(() => records('a\n"open\n', "bad.csv")).toThrow(/bad\.csv:2: unterminated quoted field/);
  });
});
