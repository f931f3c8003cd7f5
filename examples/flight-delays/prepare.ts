// Builds the example dataset from vega-datasets' flights-20k (20,000 real US domestic flights,
// January-March 2001): one row per flight, the features known at departure time, and the label
// `delayed` (arrived 15 minutes or more late, the US DOT's definition of a delayed flight).
// Time-based split: the last two weeks of March validate a model trained on what came before.
//
// It also writes the raw events the feature store is fed with (see features.yaml): `labels.csv`,
// one labelled flight at its scheduled departure, and `feature-records.csv`, the records the
// flight-operations feed writes for each flight, each at its own event time.
//
//   npx tsx examples/flight-delays/prepare.ts   (rewrites the files of data/)
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

const HOUR_MS = 3_600_000;
/** Records are first written when boarding opens, before the scheduled departure. */
const BOARDING_MS = 2 * HOUR_MS;
/** The window of `origin_delayed_share_24h`. */
const SHARE_WINDOW_MS = 24 * HOUR_MS;

/**
 * The dataset's times are local to each airport; they are written as UTC instants. Labels and
 * records share that one clock, which is all the point-in-time join needs.
 */
function instant(date: string): number {
  return Date.parse(`${date.replaceAll("/", "-").replace(" ", "T")}:00Z`);
}
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

/** The data has no landing time: taxi (30 min) + flying at ~480 mph + the arrival delay. */
const landing = (f: Flight) => instant(f.date) + Math.round(30 + f.distance / 8 + f.delay) * 60_000;

/**
 * The feature store's raw events. Each flight gets a record when boarding opens and a rewrite once
 * it has landed, both with the origin's delayed share of the 24 hours before the record's time; the
 * rewrite's share counts the flight itself, so it leaks the label into any join that ignores time.
 */
export function featureEvents(flights: readonly Flight[]): { labels: string[]; records: string[] } {
  const ids = flights.map((_, i) => `F${String(i + 1).padStart(5, "0")}`);
  const landings = new Map<string, Array<{ at: number; delayed: boolean }>>();
  for (const f of flights) (landings.get(f.origin) ?? landings.set(f.origin, []).get(f.origin)!).push({ at: landing(f), delayed: f.delay >= DELAYED_MINUTES });
  for (const l of landings.values()) l.sort((a, b) => a.at - b.at);
  const share = (origin: string, at: number) => {
    const recent = landings.get(origin)!.filter((l) => l.at > at - SHARE_WINDOW_MS && l.at <= at);
    return recent.length === 0 ? "" : (recent.filter((l) => l.delayed).length / recent.length).toFixed(3);
  };
  const labels = ["flight_id,scheduled_departure,delayed"];
  const records: Array<[number, string]> = [];
  flights.forEach((f, i) => {
    const row = toRow(f);
    const departure = instant(f.date);
    labels.push([ids[i], iso(departure), row[6]].join(","));
    for (const at of [departure - BOARDING_MS, landing(f)]) records.push([at, [ids[i], iso(at), ...row.slice(0, 6), share(f.origin, at)].join(",")]);
  });
  // The feed's order: by event time.
  records.sort((a, b) => a[0] - b[0]);
  const header = ["flight_id", "event_time", ...HEADER.slice(0, 6), "origin_delayed_share_24h"].join(",");
  return { labels, records: [header, ...records.map(([, r]) => r)] };
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
  const events = featureEvents(flights);
  for (const [name, lines] of [
    ["labels", events.labels],
    ["feature-records", events.records],
  ] as const) {
    fs.writeFileSync(path.join(__dirname, "data", `${name}.csv`), lines.join("\n") + "\n");
    console.log(`data/${name}.csv: ${lines.length - 1} rows`);
  }
}

if (require.main === module) main();
