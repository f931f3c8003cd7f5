// Builds the example dataset from vega-datasets' flights-20k (20,000 real US domestic flights,
// January-March 2001): one row per flight, the features known at departure time, and the label
// `delayed` (arrived 15 minutes or more late, the US DOT's definition of a delayed flight).
// Time-based split: the last two weeks of March validate a model trained on what came before.
//
//   npx tsx examples/flight-delays/prepare.ts   (rewrites data/train.csv and data/validation.csv)
import * as fs from "node:fs";
import * as path from "node:path";

interface Flight {
  date: string; // "2001/01/01 00:47": scheduled departure, local time
  delay: number; // minutes
  distance: number; // miles
  origin: string;
  destination: string;
}

export const LABEL = "delayed";
export const HEADER = ["departure_hour", "weekday", "month", "distance", "origin", "destination", LABEL];
const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
/** Flights scheduled on or after this day validate. */
const VALIDATION_FROM = "2001/03/18";
const DELAYED_MINUTES = 15;

export function toRow(f: Flight): string[] {
  const match = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2})$/.exec(f.date);
  if (!match) throw new Error(`flight date ${JSON.stringify(f.date)} is not "YYYY/MM/DD hh:mm"`);
  const [y, m, d, hh, mm] = match.slice(1).map(Number) as [number, number, number, number, number];
  const month = MONTHS[m - 1];
  if (month === undefined) throw new Error(`flight date ${JSON.stringify(f.date)} has no month ${m}`);
  // getUTCDay() is 0-6, always an index of WEEKDAYS.
  const weekday = WEEKDAYS[new Date(Date.UTC(y, m - 1, d)).getUTCDay()]!;
  return [(hh + mm / 60).toFixed(2), weekday, month, String(f.distance), f.origin, f.destination, f.delay >= DELAYED_MINUTES ? "1" : "0"];
}

function main(): void {
  const source = path.join(__dirname, "..", "..", "node_modules", "vega-datasets", "data", "flights-20k.json");
  const flights = (JSON.parse(fs.readFileSync(source, "utf8")) as Flight[]).sort((a, b) => a.date.localeCompare(b.date));
  const out = { train: [HEADER.join(",")], validation: [HEADER.join(",")] };
  for (const f of flights) out[f.date >= VALIDATION_FROM ? "validation" : "train"].push(toRow(f).join(","));
  for (const [name, lines] of Object.entries(out)) {
    fs.writeFileSync(path.join(__dirname, "data", `${name}.csv`), lines.join("\n") + "\n");
    console.log(`data/${name}.csv: ${lines.length - 1} rows`);
  }
}

if (require.main === module) main();
