// Turns vega-datasets' flights-3m.parquet (3 million real US domestic flights of 2001: date, delay,
// distance, origin, destination; written by Polars with zstd pages) into CSV files for the training
// benchmark. DuckDB's embedded engine (@duckdb/node-api, prebuilt binaries in the npm package)
// reads the parquet file; the CSV lines and the split are written here, in the file's row order.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";

const here = path.dirname(fileURLToPath(import.meta.url));
export const PARQUET = path.join(here, "../node_modules/vega-datasets/data/flights-3m.parquet");
export const DATA_DIR = path.join(here, ".data");

const COLUMNS = ["date", "delay", "distance", "origin", "destination"];

/**
 * Reads every column in file order: numbers as Float64Array (NaN = null; `date` in microseconds
 * since the epoch), strings as arrays ("" = null).
 */
export async function readFlightsParquet(file = PARQUET) {
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist: run npm ci (vega-datasets is a devDependency)`);
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const literal = `'${file.replaceAll("'", "''")}'`;
    const [{ n }] = (await connection.runAndReadAll(`SELECT count(*)::DOUBLE AS n FROM read_parquet(${literal})`)).getRowObjectsJS();
    const nRows = Number(n);
    // Numbers as DOUBLE, so the vectors hand over JS numbers rather than BigInts and timestamp
    // objects; a plain scan keeps the file's row order (DuckDB's preserve_insertion_order).
    const result = await connection.stream(
      `SELECT epoch_us("date")::DOUBLE, delay::DOUBLE, distance::DOUBLE, origin, destination FROM read_parquet(${literal})`,
    );
    const columns = [new Float64Array(nRows), new Float64Array(nRows), new Float64Array(nRows), new Array(nRows), new Array(nRows)];
    let k = 0;
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      const n = chunk.rowCount;
      columns.forEach((col, ci) => {
        const vector = chunk.getColumnVector(ci);
        const isString = ci >= 3;
        for (let i = 0; i < n; i++) {
          const v = vector.getItem(i);
          col[k + i] = v === null ? (isString ? "" : NaN) : v;
        }
      });
      k += n;
    }
    if (k !== nRows) throw new Error(`${file}: read ${k} of ${nRows} rows`);
    return { nRows, names: COLUMNS, columns };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * Writes train.csv and holdout.csv (80/20, a fixed pseudo-random split) with the benchmark's
 * features: departure time (hhmm), day of week, day of year (from the timestamp), distance, origin,
 * destination;
 * labels `delayed` (delay > 15 minutes, the usual on-time definition) and `delay` (minutes).
 * Returns the file paths; reuses them when present.
 */
export async function prepareFlights(nRows = 3_000_000) {
  const dir = path.join(DATA_DIR, `flights-${nRows}`);
  const files = { train: path.join(dir, "train.csv"), holdout: path.join(dir, "holdout.csv") };
  if (fs.existsSync(files.train) && fs.existsSync(files.holdout)) return files;
  const { columns, names } = await readFlightsParquet();
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
  const files = await prepareFlights(Number(process.argv[2] ?? 3_000_000));
  console.log(files, `${((Date.now() - t0) / 1000).toFixed(1)}s`);
}
