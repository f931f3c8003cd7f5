// What a dataset manifest records about one CSV object, computed in one pass over its bytes. Shared
// by `ml-core snapshot` (the pipeline's Snapshot step) and `ml-deploy data snapshot` (deploy-scripts).
import { createHash } from "node:crypto";

/** What a snapshot records about one object's bytes, computed in one pass over its stream. */
export interface ObjectFacts {
  readonly size: number;
  readonly sha256: string;
  /** CSV records after the header. */
  readonly rows: number;
  /** SHA-256 of the header row without its line break. */
  readonly schemaSha256: string;
}

const NEWLINE = 0x0a;
const QUOTE = 0x22;
const CR = 0x0d;
/** A header longer than this is not a CSV header this platform trains on. */
const MAX_HEADER_BYTES = 1 << 20;

/**
 * Hashes a CSV object's bytes chunk by chunk and counts its records: a line break inside a quoted
 * field (RFC 4180: quotes toggle, `""` toggles twice) does not end a record.
 */
export class CsvDigest {
  private readonly hash = createHash("sha256");
  private size = 0;
  private breaks = 0;
  private inQuotes = false;
  private last = -1;
  private header: Buffer[] | undefined = [];
  private headerBytes = 0;

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === QUOTE) this.inQuotes = !this.inQuotes;
      else if (b === NEWLINE && !this.inQuotes) {
        if (this.header) this.endHeader(chunk.subarray(0, i));
        this.breaks++;
      }
    }
    if (this.header) {
      this.header.push(Buffer.from(chunk));
      this.headerBytes += chunk.length;
      if (this.headerBytes > MAX_HEADER_BYTES) throw new Error(`no line break in the first ${MAX_HEADER_BYTES} bytes: not a CSV file with a header row`);
    }
    if (chunk.length > 0) this.last = chunk[chunk.length - 1]!;
  }

  digest(): ObjectFacts {
    if (this.header) this.endHeader(Buffer.alloc(0));
    // A last record without a trailing line break is still a record; the header is not one.
    const records = this.breaks + (this.size > 0 && this.last !== NEWLINE ? 1 : 0);
    return { size: this.size, sha256: this.hash.digest("hex"), rows: Math.max(0, records - 1), schemaSha256: this.schema! };
  }

  private schema: string | undefined;

  private endHeader(rest: Uint8Array): void {
    let line = Buffer.concat([...this.header!, rest]);
    if (line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    this.schema = createHash("sha256").update(line).digest("hex");
    this.header = undefined;
  }
}

/** The facts of a whole stream (an S3 object body, a file). */
export async function digestStream(body: AsyncIterable<Uint8Array>): Promise<ObjectFacts> {
  const d = new CsvDigest();
  for await (const chunk of body) d.update(chunk);
  return d.digest();
}
