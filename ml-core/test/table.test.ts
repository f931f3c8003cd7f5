import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ByteCodes } from "../src/data/byte-codes";
import { readTableWithSchema, readTrainingTable } from "../src/data/table";
import { readBinnedTable, readBinnedTrainingData } from "../src/train/binned-data";
import { BinMapper } from "../src/gbdt/binning";
import { Random } from "../src/gbdt/random";
import { lcg, tmpDir, writeFile } from "./helpers";

const layout = { labelColumn: "y", maxCategories: 255 };

function csvFiles(...texts: string[]): string[] {
  const dir = tmpDir();
  return texts.map((t, i) => writeFile(path.join(dir, `part-${i}.csv`), t));
}

describe("reading the training channel", () => {
  it("decodes repeated categorical fields alike, however they are spelled (quoted, escaped quotes, missing, long)", () => {
    // Each value twice or more: the second read comes from the memo of raw bytes (data/byte-codes.ts).
    const long = "x".repeat(80);
    const rows = ['"a""b"', "NA", '"red"', "red", long, '"a""b"', "", "NA", "red", '"red"', long, "blue", ""];
    const text = "color,y\n" + rows.map((c, i) => `${c},${i % 2}`).join("\n") + "\n";
    const { schema, table } = readTrainingTable(csvFiles(text), "train", { ...layout, categoricalColumns: ["color"] });
    const cats = schema.features[0]!.categories as string[];
    const decoded = Array.from(table.columns[0]!, (v) => (v !== v ? null : cats[v]));
    expect(decoded).toEqual(['a"b', null, "red", "red", long, 'a"b', null, null, "red", "red", long, "blue", null]);
    // Against a schema (no learning): unknown texts read as missing, every time.
    const other = readTableWithSchema(csvFiles("color,y\ngreen,0\nred,1\ngreen,0\nred,1\n"), "validation", schema);
    expect(Array.from(other.columns[0]!, (v) => (v !== v ? null : cats[v]))).toEqual([null, "red", null, "red"]);
  });

  it("memoises raw bytes to codes without mixing keys up, through growth", () => {
    const memo = new ByteCodes();
    const rand = lcg(3);
    const keys = Array.from({ length: 5000 }, (_, i) => Buffer.from(`k${Math.floor(rand() * 1e9)}-${i}`.slice(0, 1 + (i % 12))));
    const expected = new Map<string, number>();
    keys.forEach((k, i) => {
      const id = k.toString("latin1");
      if (expected.has(id)) return;
      expect(memo.get(k, 0, k.length)).toBeUndefined();
      memo.set(k, 0, k.length, i);
      expected.set(id, i);
    });
    // Read back from inside a larger buffer, as fields are.
    for (const [id, v] of expected) {
      const buf = Buffer.from(`,,${id},`, "latin1");
      expect(memo.get(buf, 2, 2 + id.length)).toBe(v);
    }
    expect(memo.get(Buffer.from("absent-key"), 0, 10)).toBeUndefined();
  });

  it("memoises keys of up to four bytes packed, telling apart keys that pack alike", () => {
    // A leading NUL byte packs alike ("a" and "\0a"); multi-byte UTF-8 sets the sign bit.
    const keys = ["a", "\0a", "\0\0a", "\0\0\0a", "\0\0\0\0a", "", "\0", "ab", "\0ab", "ÿÿÿÿ", "ÿÿÿ", "日", "ab日", "abcd", "xabcd"].map((k) => Buffer.from(k));
    const memo = new ByteCodes();
    keys.forEach((k, i) => {
      expect(memo.get(k, 0, k.length)).toBeUndefined();
      memo.set(k, 0, k.length, i);
    });
    keys.forEach((k, i) => expect(memo.get(Buffer.concat([Buffer.from(","), k, Buffer.from(",")]), 1, 1 + k.length)).toBe(i));
  });

  it("with a header: the label is the named column, text columns become categorical", () => {
    const { schema, table } = readTrainingTable(csvFiles("x,color,y\n1.5,red,0\n2.5,blue,1\n,red,1\n"), "train", layout);
    expect(schema.features.map((f) => [f.name, f.kind])).toEqual([
      ["x", "numeric"],
      ["color", "categorical"],
    ]);
    expect(schema.features[1].categories).toEqual(["blue", "red"]);
    expect(Array.from(table.columns[0])).toEqual([1.5, 2.5, NaN]);
    expect(Array.from(table.columns[1])).toEqual([1, 0, 1]);
    expect(Array.from(table.label.numeric)).toEqual([0, 1, 1]);
  });

  it("without a header: the label is the first column and features are f0, f1, ...", () => {
    const { schema, table } = readTrainingTable(csvFiles("1,0.5,a\n0,0.25,b\n"), "train", { maxCategories: 255 });
    expect(schema.label).toBe("label");
    expect(schema.features.map((f) => f.name)).toEqual(["f0", "f1"]);
    expect(table.nRows).toBe(2);
  });

  it("reads several files of a channel in order, checking that their headers agree", () => {
    const { table } = readTrainingTable(csvFiles("x,y\n1,0\n", "x,y\n2,1\n3,0\n"), "train", layout);
    expect(Array.from(table.columns[0])).toEqual([1, 2, 3]);
    expect(() => readTrainingTable(csvFiles("x,y\n1,0\n", "x,z\n2,1\n"), "train", layout)).toThrow(/part-1\.csv:1: header \(x,z\) differs/);
  });

  it("treats listed numeric-looking columns as categorical and drops ignored ones", () => {
    const { schema } = readTrainingTable(csvFiles("zip,id,y\n98101,1,0\n10001,2,1\n"), "train", {
      ...layout,
      categoricalColumns: ["zip"],
      ignoreColumns: ["id"],
    });
    expect(schema.features).toEqual([{ name: "zip", kind: "categorical", column: 0, categories: ["10001", "98101"] }]);
  });

  it("keeps the most frequent categories when there are more than maxCategories", () => {
    const rows = ["c,y", ...["a", "a", "a", "b", "b", "c"].map((c) => `${c},1`)].join("\n");
    const { schema, table } = readTrainingTable(csvFiles(rows), "train", { ...layout, maxCategories: 2 });
    expect(schema.features[0].categories).toEqual(["a", "b"]);
    expect(table.columns[0][5]).toBeNaN();
  });

  it.each([
    [
      "a non-numeric value in a numeric column",
      "x,y\n" + "1,0\n".repeat(1000) + "oops,1\n",
      /part-0\.csv:1002:1: column "x" \(column 1\) is numeric but has "oops".*list "x" in categorical_columns/,
    ],
    ["a wrong field count", "x,y\n1,0\n2\n", /part-0\.csv:3: expected 2 fields, found 1/],
    ["a missing label", "x,y\n1,0\n2,\n", /part-0\.csv:3: column "y" \(the label\) is missing/],
    ["an unknown label column", "a,b\n1,0\n", /label column "y" not found; columns are: a, b/],
    ["an empty channel", "x,y\n", /no data rows/],
  ])("fails clearly on %s", (_, text, message) => {
    expect(() => readTrainingTable(csvFiles(text), "train", layout)).toThrow(message);
  });

  it("refuses a column that mixes numbers and text in its sample, naming file, line, column and value", () => {
    const files = csvFiles("id,age,y\n1,34,0\n2,abc,1\n3,51,0\n");
    expect(() => readTrainingTable(files, "train", layout)).toThrow(
      new RegExp(
        String.raw`part-0\.csv:3:2: column "age" \(column 2\) mixes numbers \(first at line 2\) and text: "abc" is not a number; ` +
          String.raw`fix the value, or list "age" in categorical_columns if the column really holds categories`,
      ),
    );
    // The binned reader, which training uses, infers the same way.
    expect(() => readBinnedTrainingData(files, "train", layout, 16, new Random(1))).toThrow(/part-0\.csv:3:2: column "age"/);
  });

  it("reports every mixed column at once, and ignores missing cells when deciding", () => {
    const files = csvFiles("a,b,c,y\n1,x,NA,0\n?,2,,1\nq,3,red,0\n");
    let message = "";
    try {
      readTrainingTable(files, "train", layout);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.split("\n")).toEqual([
      expect.stringMatching(/^.*part-0\.csv:4:1: column "a" \(column 1\) mixes numbers \(first at line 2\) and text: "q"/),
      expect.stringMatching(/^.*part-0\.csv:2:2: column "b" \(column 2\) mixes numbers \(first at line 3\) and text: "x"/),
    ]);
  });

  it("infers a column categorical when every non-missing value in the sample is text", () => {
    const { schema, table } = readTrainingTable(csvFiles("color,y\nred,0\n,1\nNA,0\nblue,1\n"), "train", layout);
    expect(schema.features).toEqual([{ name: "color", kind: "categorical", column: 0, categories: ["blue", "red"] }]);
    expect(Array.from(table.columns[0]!)).toEqual([1, NaN, NaN, 0]);
  });

  it("reads a column declared in categorical_columns as categories even when it mixes numbers and text", () => {
    const { schema, table } = readTrainingTable(csvFiles("code,y\n12,0\nabc,1\n7,0\n12,1\n"), "train", { ...layout, categoricalColumns: ["code"] });
    expect(schema.features).toEqual([{ name: "code", kind: "categorical", column: 0, categories: ["12", "7", "abc"] }]);
    expect(Array.from(table.columns[0]!)).toEqual([0, 2, 1, 0]);
  });

  it("fails clearly on a channel without files", () => {
    expect(() => readTrainingTable([], "train", layout)).toThrow(/channel "train" has no files/);
  });
});

describe("reading the validation channel", () => {
  it("uses the training categories; unseen categories read as missing", () => {
    const { schema } = readTrainingTable(csvFiles("c,y\nred,0\nblue,1\n"), "train", layout);
    const v = readTableWithSchema(csvFiles("c,y\nblue,1\ngreen,0\n"), "validation", schema);
    expect(Array.from(v.columns[0])).toEqual([0, NaN]);
  });
});

describe("reading straight into bins (two passes, as training does)", () => {
  it("gives the bins of the raw columns binned afterwards, with the same schema and labels", () => {
    const rows = Array.from({ length: 700 }, (_, i) => `${((i * 37) % 101) / 7},${["a", "b", "c", "NA"][i % 4]},${i % 3 === 0 ? "" : i % 17},${i % 2}`);
    const files = csvFiles(["x,c,m,y", ...rows].join("\n"));
    const raw = readTrainingTable(files, "train", layout);
    const binned = readBinnedTrainingData(files, "train", layout, 16, new Random(1));
    expect(binned.schema).toEqual(raw.schema);
    const mapper = BinMapper.fit(
      raw.table.columns,
      raw.table.nRows,
      raw.schema.features.map((f) => f.categories?.length),
      16,
      new Random(1),
    );
    expect(binned.mapper.features).toEqual(mapper.features);
    expect(Array.from(binned.table.bins)).toEqual(Array.from(mapper.transform(raw.table.columns, raw.table.nRows)));
    expect(Array.from(binned.table.label.numeric)).toEqual(Array.from(raw.table.label.numeric));
    expect(binned.table.dataHash).toBe(raw.table.dataHash);

    const valid = csvFiles("x,c,m,y\n3.5,b,,1\n99,zzz,4,0\n");
    const vb = readBinnedTable(valid, "validation", binned.schema, binned.mapper);
    const vr = readTableWithSchema(valid, "validation", raw.schema);
    expect(Array.from(vb.bins)).toEqual(Array.from(mapper.transform(vr.columns, vr.nRows)));
  });
});
