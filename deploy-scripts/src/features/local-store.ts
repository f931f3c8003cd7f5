// The local feature store: DuckDB, one table per feature set with the offline store's shape (the
// features plus api_invocation_time, write_time, is_deleted), so the Athena query runs on it as is.
// Training sets come from an ASOF JOIN: the latest record at or before each label's time.
import * as fs from "node:fs";
import * as path from "node:path";
import { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { EVENT_TIME, OFFLINE_STORE_COLUMNS, offlineStoreColumns, type FeatureSet } from "@ml-platform/contract";
import { CliError } from "../errors";
import { asofSql, ident, resultColumns } from "./sql";

/** A training set as rows of text cells (empty: missing), in `resultColumns` order. */
export interface TrainingRows {
  readonly columns: string[];
  readonly rows: string[][];
}

/** Where the local store of a feature set lives under the work directory (`.local`). */
export function localStoreFile(workDir: string, set: Pick<FeatureSet, "name">): string {
  return path.join(workDir, "feature-store", `${set.name}.duckdb`);
}

type Column = { readonly name: string; readonly type: string };

const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

export class LocalFeatureStore {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  /** Opens (creating if needed) the store in `file`; `:memory:` for a throwaway one. */
  static async open(file: string): Promise<LocalFeatureStore> {
    const instance = await DuckDBInstance.create(file);
    return new LocalFeatureStore(instance, await instance.connect());
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }

  /** Creates the feature set's table; an existing one must have the definition's columns. */
  async ensureTable(set: FeatureSet): Promise<void> {
    const wanted = offlineStoreColumns(set, "duckdb");
    const existing = (
      await this.connection.runAndReadAll(
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ${literal(set.name)} ORDER BY ordinal_position`,
      )
    ).getRowsJS() as Array<[string, string]>;
    if (existing.length === 0) {
      await this.connection.run(`CREATE TABLE ${ident(set.name)} (${wanted.map((c) => `${ident(c.name)} ${c.type}`).join(", ")})`);
      return;
    }
    const has = existing.map(([n, t]) => `${n} ${t}`).join(", ");
    const want = wanted.map((c) => `${c.name} ${c.type}`).join(", ");
    if (has !== want)
      throw new CliError(`the local store's table "${set.name}" has columns (${has}), but the feature set defines (${want})`, {
        hint: "delete the local store's file to rebuild it from the definition",
      });
  }

  /**
   * Writes a CSV of records (header: the record identifier, the event time and every feature, in
   * any order) as one batch, stamped with this call's time as SageMaker stamps a PutRecord. A bad
   * value stops it before anything is written, naming file, line and column.
   */
  async ingest(set: FeatureSet, file: string): Promise<number> {
    await this.ensureTable(set);
    const columns = offlineStoreColumns(set, "duckdb").slice(0, 2 + set.features.length);
    const staged = await this.stageCsv(file, columns, [set.entity.recordIdentifier, set.eventTime], set.eventTime);
    const names = columns.map((c) => ident(c.name)).join(", ");
    const { apiInvocationTime, writeTime, isDeleted } = OFFLINE_STORE_COLUMNS;
    await this.connection.run(
      `INSERT INTO ${ident(set.name)} (${names}, ${ident(apiInvocationTime)}, ${ident(writeTime)}, ${ident(isDeleted)})
       SELECT ${names}, now()::TIMESTAMP, now()::TIMESTAMP, false FROM ${staged}`,
    );
    return this.count(staged);
  }

  /** Loads the label source (record identifier, the label's time, the label) into a table of this connection. */
  async loadLabels(set: FeatureSet, file: string, table = "labels"): Promise<string> {
    const labelType = set.label.type === "integral" ? "BIGINT" : "DOUBLE";
    const columns = [
      { name: set.entity.recordIdentifier, type: "VARCHAR" },
      { name: set.label.eventTime, type: "VARCHAR" },
      { name: set.label.name, type: labelType },
    ];
    return this.stageCsv(
      file,
      columns,
      columns.map((c) => c.name),
      set.label.eventTime,
      table,
    );
  }

  /** The point-in-time training set for the labels in `labelsFile` (ASOF JOIN). */
  async trainingSet(set: FeatureSet, labelsFile: string): Promise<TrainingRows> {
    const labels = await this.loadLabels(set, labelsFile);
    return this.query(resultColumns(set), asofSql(set, { features: ident(set.name), labels }));
  }

  /** Runs a query and returns its rows as text cells (null: empty). */
  async query(columns: string[], sql: string): Promise<TrainingRows> {
    const reader = await this.connection.runAndReadAll(sql);
    return { columns, rows: reader.getRowsJS().map((r) => r.map(cell)) };
  }

  private async count(table: string): Promise<number> {
    return Number((await this.connection.runAndReadAll(`SELECT count(*) FROM ${table}`)).getRowsJS()[0]![0]);
  }

  /**
   * Reads a CSV into a temporary table of typed columns, after checking its header names exactly
   * `columns` (any order), that `required` columns have values, that `timeColumn` holds EVENT_TIME
   * values and that every value has its column's type. Every check names file, line and column.
   */
  private async stageCsv(file: string, columns: readonly Column[], required: readonly string[], timeColumn: string, table = "staged_records"): Promise<string> {
    if (!fs.existsSync(file)) throw new CliError(`${file} does not exist`);
    const header = (fs.readFileSync(file, "utf8").split(/\r?\n/, 1)[0] ?? "").split(",").map((h) => h.trim());
    const names = columns.map((c) => c.name);
    const missing = names.filter((n) => !header.includes(n));
    const unknown = header.filter((h) => !names.includes(h));
    const repeated = header.filter((h, i) => header.indexOf(h) !== i);
    if (missing.length || unknown.length || repeated.length)
      throw new CliError(`${file}:1: the header must name exactly the columns ${names.join(", ")}`, {
        details: [
          ...missing.map((m) => `missing column "${m}"`),
          ...unknown.map((u) => `unknown column "${u}"`),
          ...repeated.map((r) => `column "${r}" appears twice`),
        ],
      });
    const raw = ident(`${table}_raw`);
    const types = `{${header.map((h) => `${literal(h)}: 'VARCHAR'`).join(", ")}}`;
    await this.connection.run(
      `CREATE OR REPLACE TEMP TABLE ${raw} AS SELECT row_number() OVER () + 1 AS line, * FROM read_csv(${literal(file)}, header = true, columns = ${types}, quote = '"', escape = '"')`,
    );
    const problems: string[] = [];
    for (const c of columns) {
      const at = `column "${c.name}" (column ${header.indexOf(c.name) + 1})`;
      const checks: Array<[string, string]> = [];
      if (required.includes(c.name)) checks.push([`${ident(c.name)} IS NULL`, "is empty"]);
      if (c.name === timeColumn)
        checks.push([`NOT regexp_full_match(${ident(c.name)}, ${literal(EVENT_TIME.source)})`, "is not a UTC time yyyy-MM-ddTHH:mm:ssZ"]);
      if (c.type !== "VARCHAR")
        checks.push([
          `${ident(c.name)} IS NOT NULL AND TRY_CAST(${ident(c.name)} AS ${c.type}) IS NULL`,
          `is not ${c.type === "BIGINT" ? "an integer" : "a number"}`,
        ]);
      for (const [where, what] of checks) {
        const bad = (await this.connection.runAndReadAll(`SELECT line, ${ident(c.name)} FROM ${raw} WHERE ${where} ORDER BY line LIMIT 1`)).getRowsJS()[0];
        if (bad) problems.push(`${file}:${String(bad[0])}:${header.indexOf(c.name) + 1}: ${at} ${what}${bad[1] === null ? "" : `: ${JSON.stringify(bad[1])}`}`);
      }
    }
    if (problems.length) throw new CliError(`${file} has values the feature set does not allow; nothing was written`, { details: problems });
    const target = ident(table);
    await this.connection.run(
      `CREATE OR REPLACE TEMP TABLE ${target} AS SELECT ${columns.map((c) => `CAST(${ident(c.name)} AS ${c.type}) AS ${ident(c.name)}`).join(", ")} FROM ${raw} ORDER BY line`,
    );
    await this.connection.run(`DROP TABLE ${raw}`);
    return target;
  }
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  return String(v);
}
