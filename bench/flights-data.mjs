// Turns vega-datasets' flights-3m.parquet (3 million real US domestic flights of 2001: date, delay,
// distance, origin, destination; written by Polars with zstd pages) into CSV files for the training
// benchmark. There is no parquet reader among this repository's dependencies, so this is a minimal
// one for exactly this file's shape (flat schema, optional INT64 and BYTE_ARRAY columns, PLAIN or
// dictionary encoding, data pages v1/v2); page decompression uses the `zstd` command.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const PARQUET = path.join(here, "../node_modules/vega-datasets/data/flights-3m.parquet");
export const DATA_DIR = path.join(here, ".data");

class Thrift {
  constructor(b, p) { this.b = b; this.p = p; }
  byte() { return this.b[this.p++]; }
  varint() { let r = 0, m = 1; for (;;) { const x = this.byte(); r += (x & 0x7f) * m; m *= 128; if (!(x & 0x80)) return r; } }
  zigzag() { const v = this.varint(); return v % 2 === 0 ? v / 2 : -(v + 1) / 2; }
  binary() { const l = this.varint(); const s = this.b.subarray(this.p, this.p + l); this.p += l; return s; }
  struct() {
    const o = {};
    let last = 0;
    for (;;) {
      const h = this.byte();
      if (h === 0) return o;
      const id = h >> 4 === 0 ? this.zigzag() : last + (h >> 4);
      last = id;
      o[id] = this.value(h & 0x0f);
    }
  }
  value(t) {
    switch (t) {
      case 1: return true;
      case 2: return false;
      case 3: return this.byte();
      case 4: case 5: case 6: return this.zigzag();
      case 7: { const d = this.b.readDoubleLE(this.p); this.p += 8; return d; }
      case 8: return this.binary();
      case 9: case 10: {
        const h = this.byte();
        let n = h >> 4;
        if (n === 15) n = this.varint();
        const a = [];
        for (let i = 0; i < n; i++) a.push(this.value(h & 0x0f));
        return a;
      }
      case 12: return this.struct();
      default: throw new Error(`thrift type ${t}`);
    }
  }
}

/** RLE / bit-packed hybrid (parquet's levels and dictionary indices). */
function readHybrid(buf, pos, end, bitWidth, count, out) {
  let k = 0;
  const byteWidth = (bitWidth + 7) >> 3;
  while (k < count && pos < end) {
    const t = new Thrift(buf, pos);
    const header = t.varint();
    pos = t.p;
    if (header & 1) {
      const n = (header >>> 1) * 8;
      let bitPos = pos * 8;
      for (let i = 0; i < n && k < count; i++) {
        let v = 0;
        for (let b = 0; b < bitWidth; b++, bitPos++) v |= ((buf[bitPos >> 3] >> (bitPos & 7)) & 1) << b;
        out[k++] = v;
      }
      pos += (header >>> 1) * bitWidth;
    } else {
      const n = header >>> 1;
      let v = 0;
      for (let b = 0; b < byteWidth; b++) v |= buf[pos + b] << (8 * b);
      pos += byteWidth;
      for (let i = 0; i < n && k < count; i++) out[k++] = v;
    }
  }
  return pos;
}

function zstdDecompress(frames) {
  const r = spawnSync("zstd", ["-d", "-c", "-q"], { input: frames, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr}`);
  return r.stdout;
}

/** Reads every column: numbers as Float64Array (NaN = null), strings as arrays. */
export function readFlightsParquet(file = PARQUET) {
  const buf = fs.readFileSync(file);
  const metaLen = buf.readUInt32LE(buf.length - 8);
  const meta = new Thrift(buf, buf.length - 8 - metaLen).struct();
  const nRows = meta[3];
  const schema = meta[2].slice(1).map((s) => ({ name: s[4].toString(), type: s[1] }));
  const columns = schema.map((s) => (s.type === 6 ? new Array(nRows) : new Float64Array(nRows)));
  let rowBase = 0;
  for (const rg of meta[4]) {
    const rgRows = rg[3];
    rg[1].forEach((chunk, ci) => {
      const m = chunk[3];
      if (m[4] !== 6 && m[4] !== 0) throw new Error(`codec ${m[4]} not supported`);
      // Page headers are never compressed; page bodies are (v2: after the levels).
      let pos = m[11] ?? m[9];
      const end = pos + m[7];
      const pages = [];
      while (pos < end) {
        const t = new Thrift(buf, pos);
        const h = t.struct();
        pages.push({ h, body: buf.subarray(t.p, t.p + h[3]) });
        pos = t.p + h[3];
      }
      const col = columns[ci];
      const isString = schema[ci].type === 6;
      let dict = null;
      let k = rowBase;
      for (const { h, body } of pages) {
        const compressed = m[4] === 6;
        if (h[1] === 2) {
          const data = compressed ? zstdDecompress(body) : body;
          const n = h[7][1];
          dict = new Array(n);
          let p = 0;
          for (let i = 0; i < n; i++) {
            if (isString) { const l = data.readUInt32LE(p); dict[i] = data.toString("utf8", p + 4, p + 4 + l); p += 4 + l; }
            else { dict[i] = Number(data.readBigInt64LE(p)); p += 8; }
          }
          continue;
        }
        let nValues, encoding, defs, values;
        if (h[1] === 0) {
          const data = compressed ? zstdDecompress(body) : body;
          nValues = h[5][1];
          encoding = h[5][2];
          const defLen = data.readUInt32LE(0);
          defs = new Uint8Array(nValues);
          readHybrid(data, 4, 4 + defLen, 1, nValues, defs);
          values = data.subarray(4 + defLen);
        } else if (h[1] === 3) {
          const v2 = h[8];
          nValues = v2[1];
          encoding = v2[4];
          const defLen = v2[5];
          const repLen = v2[6] ?? 0;
          defs = new Uint8Array(nValues);
          if (defLen > 0) readHybrid(body, repLen, repLen + defLen, 1, nValues, defs);
          else defs.fill(1);
          const rest = body.subarray(repLen + defLen);
          values = compressed && v2[7] !== false ? zstdDecompress(rest) : rest;
        } else {
          throw new Error(`page type ${h[1]}`);
        }
        const nonNull = defs.reduce((a, d) => a + d, 0);
        let decoded;
        if (encoding === 8 || encoding === 2) {
          const idx = new Uint32Array(nonNull);
          readHybrid(values, 1, values.length, values[0], nonNull, idx);
          decoded = (i) => dict[idx[i]];
        } else if (encoding === 0 && !isString) {
          decoded = (i) => Number(values.readBigInt64LE(i * 8));
        } else {
          throw new Error(`encoding ${encoding} not supported`);
        }
        let vi = 0;
        for (let i = 0; i < nValues; i++, k++) col[k] = defs[i] ? decoded(vi++) : isString ? "" : NaN;
      }
      if (k !== rowBase + rgRows) throw new Error(`column ${schema[ci].name}: read ${k - rowBase} of ${rgRows} rows`);
    });
    rowBase += rgRows;
  }
  return { nRows, names: schema.map((s) => s.name), columns };
}

/**
 * Writes train.csv and holdout.csv (80/20, a fixed pseudo-random split) with the benchmark's
 * features: departure time (hhmm), day of week, day of year (from the timestamp), distance, origin,
 * destination;
 * labels `delayed` (delay > 15 minutes, the usual on-time definition) and `delay` (minutes).
 * Returns the file paths; reuses them when present.
 */
export function prepareFlights(nRows = 3_000_000) {
  const dir = path.join(DATA_DIR, `flights-${nRows}`);
  const files = { train: path.join(dir, "train.csv"), holdout: path.join(dir, "holdout.csv") };
  if (fs.existsSync(files.train) && fs.existsSync(files.holdout)) return files;
  const { columns, names } = readFlightsParquet();
  const col = (n) => columns[names.indexOf(n)];
  const [date, delay, distance, origin, destination] = ["date", "delay", "distance", "origin", "destination"].map(col);
  fs.mkdirSync(dir, { recursive: true });
  const header = "delayed,delay,dep_time,weekday,yearday,distance,origin,destination\n";
  const out = { train: [header], holdout: [header] };
  let seed = 12345;
  const n = Math.min(nRows, date.length);
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const d = new Date(date[i] / 1000); // microseconds
    const yearday = Math.floor((d - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
    const line = `${delay[i] > 15 ? 1 : 0},${delay[i]},${d.getUTCHours() * 100 + d.getUTCMinutes()},${d.getUTCDay()},${yearday},${distance[i]},${origin[i]},${destination[i]}\n`;
    (seed % 5 === 0 ? out.holdout : out.train).push(line);
  }
  fs.writeFileSync(files.train, out.train.join(""));
  fs.writeFileSync(files.holdout, out.holdout.join(""));
  return files;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  const files = prepareFlights(Number(process.argv[2] ?? 3_000_000));
  console.log(files, `${((Date.now() - t0) / 1000).toFixed(1)}s`);
}
