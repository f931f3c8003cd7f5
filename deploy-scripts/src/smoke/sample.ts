/**
 * Sample rows for a smoke test: feature columns only (the label dropped), as text cells exactly as
 * they appear in the dataset, so the request exercises the same parsing as real traffic.
 */
export interface SampleRows {
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
}

/**
 * Reads the header and up to `maxRows` records of a CSV text (RFC 4180 quoting). `partial` says the
 * text may be cut mid-record (a ranged read of a large file): the last, possibly incomplete line is
 * dropped. `label`, when given, names the column to remove.
 */
export function sampleFromCsv(text: string, opts: { label?: string; maxRows: number; partial?: boolean }): SampleRows {
  let records = parseCsv(text.replace(/^\uFEFF/, ""));
  if (opts.partial && !/\r?\n$/.test(text)) records = records.slice(0, -1);
  const [header, ...body] = records.filter((r) => !(r.length === 1 && r[0] === ""));
  if (!header) throw new Error("the sample has no header line");
  const drop = opts.label === undefined ? -1 : header.indexOf(opts.label);
  if (opts.label !== undefined && drop < 0) throw new Error(`the sample has no column named "${opts.label}" (the label); columns: ${header.join(", ")}`);
  const keep = (row: readonly string[]) => row.filter((_, i) => i !== drop);
  const rows = body
    .filter((r) => r.length === header.length)
    .slice(0, opts.maxRows)
    .map(keep);
  if (rows.length === 0) throw new Error("the sample has no complete data rows");
  return { columns: keep(header), rows };
}

export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

export function csvLine(cells: readonly string[]): string {
  return cells.map((c) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(",");
}
