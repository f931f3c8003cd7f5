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

/** A 400 naming the row (1-based, in the order rows appear in the body) and, when known, the column. */
export function badRow(row: number, message: string, column?: { index: number; name: string }): HttpError {
  const where = column === undefined ? `row ${row}` : `row ${row}, column ${column.index + 1} (${column.name})`;
  return new HttpError(400, `${where}: ${message}`);
}
