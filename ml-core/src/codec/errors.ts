/**
 * An error the client caused, with the status and message to send back. Anything else thrown while
 * handling a request is a bug and is answered with a bare 500 whose details go only to the log.
 */
export class HttpError extends Error {
  override readonly name = "HttpError";

  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export interface Column {
  readonly index: number;
  readonly name: string;
}

/** A 400 naming the row (1-based, in the order rows appear in the body) and, when known, the column. */
export class RowError extends HttpError {
  constructor(
    readonly row: number,
    readonly detail: string,
    readonly column?: Column,
  ) {
    super(400, `${column === undefined ? `row ${row}` : `row ${row}, column ${column.index + 1} (${column.name})`}: ${detail}`);
  }
}

export function badRow(row: number, detail: string, column?: Column): RowError {
  return new RowError(row, detail, column);
}
