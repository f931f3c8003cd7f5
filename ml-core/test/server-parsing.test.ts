/**
 * Request bodies → encoded rows, and predictions → response text, in process.
 */
import { describe, expect, it } from "vitest";
import { CsvRows, headerLayout, lastRecordEnd, readRecord } from "../src/codec/csv";
import { Formatter, csvField } from "../src/codec/format";
import { FeatureSchema } from "../src/codec/rows";
import { Scorer } from "../src/codec/scoring";
import { fakePredictor } from "./server-fake-predictor.cjs";
import { rng } from "./server-helpers";
import { ChainPredictor } from "../src/model/chain-predictor";
import { FlatPredictor } from "../src/model/flat-predictor";
import type { Predictor } from "../src/model/predictor";
import { testModel, testRows } from "./server-model";

/** One numeric feature whose `encode` is Number() on the trimmed text (the reference). */
const oneNumber: Predictor = {
  objective: "regression",
  features: [{ name: "v", kind: "numeric" }],
  classes: undefined,
  encode: (_j, raw) => {
    if (raw === null || raw === undefined) return NaN;
    if (typeof raw !== "string") return Number(raw);
    const t = raw.trim();
    if (t === "" || t === "NA") return NaN;
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) throw new RangeError(`not a number: ${JSON.stringify(raw)}`);
    return Number(t);
  },
  predict: (x, n) => x.slice(0, n),
};

function parseCsv(text: string, predictor: Predictor = fakePredictor() as Predictor): number[][] {
  const schema = new FeatureSchema(predictor);
  const rows = new CsvRows(Buffer.from(text), 0, Buffer.byteLength(text), schema);
  const x = new Float64Array(1000 * schema.nFeatures);
  const out: number[][] = [];
  for (let n = rows.next(x, 1000); n > 0; n = rows.next(x, 1000)) {
    for (let r = 0; r < n; r++) out.push(Array.from(x.subarray(r * schema.nFeatures, (r + 1) * schema.nFeatures)));
  }
  return out;
}

describe("CSV numbers", () => {
  it("reads every spelling exactly as Number() does, including -0 and long mantissas (20,000 seeded cases)", () => {
    const rand = rng(7);
    const digits = (n: number): string => Array.from({ length: n }, () => Math.floor(rand() * 10)).join("");
    const cases: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const sign = ["", "-", "+"][Math.floor(rand() * 3)];
      const int = digits(Math.floor(rand() * 20));
      const frac = rand() < 0.6 ? "." + digits(Math.floor(rand() * 20)) : "";
      const exp = rand() < 0.3 ? ["e", "E"][Math.floor(rand() * 2)] + ["", "-", "+"][Math.floor(rand() * 3)] + digits(1 + Math.floor(rand() * 3)) : "";
      const text = sign + int + frac + exp;
      if (/\d/.test(int + frac)) cases.push(text);
    }
    cases.push(
      "0",
      "-0",
      "0.1",
      "9007199254740993",
      "123456789012345678901234567890",
      "1e22",
      "1e23",
      "4.9e-324",
      "1.7976931348623157e308",
      "1e400",
      ".5",
      "5.",
      "-.5e-3",
    );
    const body = cases.join("\n") + "\n";
    const got = parseCsv(body, oneNumber).map((r) => r[0]);
    expect(got).toHaveLength(cases.length);
    const mismatches = cases.filter((c, i) => !Object.is(got[i], Number(c)));
    expect(mismatches).toEqual([]);
  });

  it.each([
    [" 12 ", 12],
    ["NA", NaN],
    ['""', NaN],
    ["1_000", "error"],
    ["0x1F", "error"],
    ["1e", "error"],
    ["--1", "error"],
  ])("hands %j to the predictor's encode (→ %s)", (text, expected) => {
    if (expected === "error") expect(() => parseCsv(`${text}\n`, oneNumber)).toThrow(/^row 1, column 1 \(v\): not a number/);
    else expect(parseCsv(`${text}\n`, oneNumber)).toEqual([[expected]]);
  });

  it("never takes the numeric shortcut for a categorical column", () => {
    const seen: unknown[] = [];
    const predictor: Predictor = {
      ...oneNumber,
      features: [{ name: "c", kind: "categorical" }],
      encode: (_j, raw) => {
        seen.push(raw);
        return 0;
      },
    };
    parseCsv("1\n2.50\n", predictor);
    expect(seen).toEqual(["1", "2.50"]);
  });

  it("reads a shipped model's numbers before a comma as its encode reads them (its integer shortcut included)", () => {
    const predictor = new ChainPredictor(testModel({ seed: 3 }));
    const rand = rng(11);
    const texts = ["0", "-0", "007", "-12", "123456789012345", "-999999999999999", "1234567890123456", "9007199254740993", "+5", "1.5", "2e3", "NA", "", " 4"];
    for (let i = 0; i < 2000; i++) texts.push(String(Math.floor(rand() * 10 ** Math.floor(rand() * 18)) * (rand() < 0.3 ? -1 : 1)));
    const body = texts.map((t) => `${t},${t},1,2,red`).join("\n") + "\n";
    const got = parseCsv(body, predictor);
    const mismatches = texts.filter((t, i) => !Object.is(got[i]![0], predictor.encode(0, t)) || !Object.is(got[i]![1], predictor.encode(1, t)));
    expect(mismatches).toEqual([]);
  });

  it("encodes a shipped model's categories as its encode does, seen before or not, past the memo's size", () => {
    // The parser memoises a categorical field's bytes (codec/rows.ts): repeats, near misses,
    // quoted and missing texts, and more distinct unseen texts than the memo keeps. Fields of up to
    // four bytes are compared packed in an integer (data/byte-codes.ts): a leading NUL packs alike
    // ("\0red" and "red"), in either order; multi-byte UTF-8 sets the packed integer's sign bit.
    const predictor = new ChainPredictor(testModel({ seed: 3 }));
    const c = predictor.features.length - 1;
    const texts = ["red", "green", "red", "re", "redd", "", "NA", '"red"', " red", "blue", "green", "\0red", "red", "\0\0re", "\0re", "re", "\0blue"];
    texts.push("\0\0\0\0", "\0", "é", "éé", "\0é", "é", "ü", "日本", "xgreen", "green", "xred", "red");
    for (let i = 0; i < 1500; i++) texts.push(`unseen${i}`, "red", "NA");
    const body = texts.map((t) => `1,2,3,4,${t}`).join("\n") + "\n";
    const decoded = parseCsv(body, predictor).map((r) => r[c]);
    const expected = texts.map((t) => predictor.encode(c, t.startsWith('"') ? t.slice(1, -1) : t));
    expect(decoded).toEqual(expected);
    expect(new Set(decoded.filter((v) => v === v)).size).toBeGreaterThan(1);
  });
});

describe("CSV records", () => {
  it("reads RFC 4180 quoting: commas, doubled quotes and newlines inside quotes", () => {
    const buf = Buffer.from('"a,b","say ""hi""","two\nlines",plain\nnext');
    expect(readRecord(buf, 0, buf.length, 1)).toEqual({ fields: ["a,b", 'say "hi"', "two\nlines", "plain"], next: 37 });
  });

  it("finds the end of the last complete record, never inside quotes", () => {
    const buf = Buffer.from('1,2\n3,"x\ny"\n4,"open\n');
    expect(lastRecordEnd(buf, 0, buf.length)).toBe(12);
    expect(lastRecordEnd(Buffer.from("1,2\n3,4"), 0, 7)).toBe(4);
    expect(lastRecordEnd(Buffer.from("no newline"), 0, 10)).toBe(0);
  });

  it("matches a header to features by name, ignoring extra columns, and rejects a line that is not one", () => {
    const schema = new FeatureSchema(fakePredictor() as Predictor);
    const layout = headerLayout(["label", "color", "age", "income"], schema);
    expect(layout && Array.from(layout.target)).toEqual([-1, 2, 0, 1]);
    expect(headerLayout(["30", "1000", "red"], schema)).toBeUndefined();
    expect(headerLayout(["age", "income"], schema)).toBeUndefined();
  });

  it("reads a large body in slices with continuous row numbers", () => {
    const schema = new FeatureSchema(fakePredictor() as Predictor);
    const text = "1,2,red\n".repeat(10) + "1,x,red\n";
    const rows = new CsvRows(Buffer.from(text), 0, text.length, schema);
    const x = new Float64Array(4 * 3);
    expect([rows.next(x, 4), rows.next(x, 4)]).toEqual([4, 4]);
    expect(() => rows.next(x, 4)).toThrow(/^row 11, column 2 \(income\)/);
  });
});

describe("response formats", () => {
  const y2 = Float64Array.from([0.25, 0.75, 0.5, 0.5]);

  it.each([
    ["csv", "yes,0.25,0.75\nno,0.5,0.5\n"],
    ["json", '{"predicted_label":"yes","probabilities":{"no":0.25,"yes":0.75}},{"predicted_label":"no","probabilities":{"no":0.5,"yes":0.5}}'],
    ["jsonlines", '{"predicted_label":"yes","probabilities":{"no":0.25,"yes":0.75}}\n{"predicted_label":"no","probabilities":{"no":0.5,"yes":0.5}}\n'],
  ] as const)("formats binary predictions as %s (ties go to the first class)", (format, expected) => {
    expect(new Formatter(fakePredictor() as Predictor).format(format, y2, 2)).toBe(expected);
  });

  it("formats regression as the value, and multiclass with every class", () => {
    expect(new Formatter(fakePredictor({ objective: "regression" }) as Predictor).format("csv", Float64Array.from([1.5, -2]), 2)).toBe("1.5\n-2\n");
    expect(new Formatter(fakePredictor({ objective: "regression" }) as Predictor).format("jsonlines", Float64Array.from([1.5]), 1)).toBe('{"score":1.5}\n');
    expect(new Formatter(fakePredictor({ objective: "multiclass" }) as Predictor).format("csv", Float64Array.from([0.2, 0.3, 0.5]), 1)).toBe("c,0.2,0.3,0.5\n");
  });

  it("quotes labels that need it and escapes them in JSON", () => {
    const predictor = { ...(fakePredictor() as Predictor), classes: ['a,"b"', "ü"] };
    const f = new Formatter(predictor);
    expect(f.format("csv", Float64Array.from([0.9, 0.1]), 1)).toBe('"a,""b""",0.9,0.1\n');
    expect(JSON.parse(f.format("json", Float64Array.from([0.9, 0.1]), 1))).toEqual({ predicted_label: 'a,"b"', probabilities: { 'a,"b"': 0.9, ü: 0.1 } });
    expect(f.csvHeader()).toBe('predicted_label,"probability_a,""b""",probability_ü\n');
    expect(csvField("plain")).toBe("plain");
  });

  it("writes a non-finite value as null in JSON and empty in CSV", () => {
    const f = new Formatter(fakePredictor({ objective: "regression" }) as Predictor);
    expect(f.format("json", Float64Array.from([NaN]), 1)).toBe('{"score":null}');
    expect(f.format("csv", Float64Array.from([Infinity]), 1)).toBe("\n");
  });
});

describe("the scorer", () => {
  it.each(["binary", "multiclass", "regression"] as const)(
    "scores a %s row alone exactly as within a batch (one-row requests take another path)",
    (objective) => {
      // With and without the categorical feature, through both predictors.
      const categorical = testModel({ objective, trees: 23, depth: 5, seed: 9 });
      const numeric = testModel({ objective, trees: 23, depth: 5, seed: 9, categorical: false });
      for (const [predictor, hasCategorical] of [
        [new FlatPredictor(categorical), true],
        [new ChainPredictor(categorical), true],
        [new ChainPredictor(numeric), false],
      ] as const) {
        expect(predictor instanceof FlatPredictor || predictor.fast).toBe(true);
        const body = testRows(203, 4, 5, hasCategorical).join("\n");
        const batch = [...new Scorer(predictor).score(Buffer.from(body), "csv", "csv")].join("");
        const alone = body
          .split("\n")
          .map((row) => Buffer.from(new Scorer(predictor).scoreAll(Buffer.from(row), "csv", "csv")).toString("utf8"))
          .join("");
        expect(alone).toBe(batch);
      }
    },
  );

  it.each([
    ["csv", "csv"],
    ["csv", "json"],
    ["jsonlines", "jsonlines"],
    ["json", "csv"],
  ] as const)("answers a %s body as %s alike in one call (small bodies) and in slices (large ones)", (input, output) => {
    const rows = testRows(57, 4, 11, false);
    const arrays = rows.map((r) => `[${r.split(",").map((c) => (c === "" ? "null" : c))}]`);
    const body = Buffer.from(input === "csv" ? rows.join("\n") : input === "json" ? `{"instances":[${arrays.join(",")}]}` : arrays.join("\n"));
    const predictor = new ChainPredictor(testModel({ objective: "multiclass", trees: 12, depth: 4, seed: 12, categorical: false }));
    const counts = { sliced: { rows: 0 }, whole: { rows: 0 } };
    const sliced = [...new Scorer(predictor, 5).score(body, input, output, counts.sliced)].join("");
    expect(Buffer.from(new Scorer(predictor, 5).scoreAll(body, input, output, counts.whole)).toString("utf8")).toBe(sliced);
    expect(counts).toEqual({ sliced: { rows: 57 }, whole: { rows: 57 } });
    expect(() => new Scorer(predictor).scoreAll(Buffer.from("\n\n"), "csv", output)).toThrow("the request body holds no rows");
  });

  it("gives the same bytes for one body whatever the slice size", () => {
    const body = Buffer.from(Array.from({ length: 999 }, (_, i) => `${i % 500},${i * 3},${["red", "green", "blue"][i % 3]}`).join("\n"));
    const whole = [...new Scorer(fakePredictor() as Predictor, 4096).score(body, "csv", "json")].join("");
    const sliced = [...new Scorer(fakePredictor() as Predictor, 7).score(body, "csv", "json")].join("");
    expect(sliced).toBe(whole);
    expect((JSON.parse(whole) as { predictions: unknown[] }).predictions).toHaveLength(999);
  });

  it("reports the rows it scored", () => {
    const count = { rows: 0 };
    const chunks = [...new Scorer(fakePredictor() as Predictor, 2).score(Buffer.from('[1,2,"red"]\n[1,2,"red"]\n[1,2,"red"]\n'), "jsonlines", "csv", count)];
    expect(chunks).toHaveLength(2);
    expect(count.rows).toBe(3);
  });
});
