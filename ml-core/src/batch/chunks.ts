/**
 * Input cut into chunks of complete records, so each chunk can be parsed on its own (on any thread)
 * and memory stays flat for any file size.
 */
import * as fs from "node:fs";
import type { Readable } from "node:stream";
import { lastRecordEnd } from "../codec/csv";
import type { Format } from "../codec/media-types";

/**
 * The records of a file in chunks of about `chunkBytes`, each read at a record boundary into a
 * buffer of its own; `shared` puts that buffer in shared memory, so a scoring thread can be handed
 * it as is (threads.ts). The partial record at the end of a read is read again at the start of the
 * next, instead of being joined to it by a copy; a chunk without a complete record is read again
 * twice as large. `chunkBytes` may depend on the position (threads cut a file into jobs that
 * shrink toward its end).
 */
export async function* fileRecordChunks(
  file: string,
  format: Format,
  chunkBytes: number | ((position: number) => number),
  shared = false,
): AsyncGenerator<Buffer> {
  const fh = await fs.promises.open(file, "r");
  const sizeAt = typeof chunkBytes === "number" ? () => chunkBytes : chunkBytes;
  const readAt = async (position: number, size: number): Promise<{ buf: Buffer; filled: number }> => {
    const buf = shared ? Buffer.from(new SharedArrayBuffer(size)) : Buffer.allocUnsafeSlow(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await fh.read(buf, filled, size - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return { buf, filled };
  };
  // The next read is under way while the caller scores this chunk.
  let pending: Promise<{ buf: Buffer; filled: number }> | undefined;
  try {
    let position = 0;
    let size = sizeAt(0);
    pending = readAt(position, size);
    for (;;) {
      const { buf, filled } = await pending;
      pending = undefined;
      if (filled < size) {
        // The end of the file: the rest, whether or not its last record ends with a line feed.
        if (filled > 0) yield buf.subarray(0, filled);
        return;
      }
      const end = format === "csv" ? lastRecordEnd(buf, 0, filled) : buf.lastIndexOf(10) + 1;
      if (end === 0) {
        size *= 2;
        pending = readAt(position, size);
        continue;
      }
      position += end;
      size = sizeAt(position);
      pending = readAt(position, size);
      yield buf.subarray(0, end);
    }
  } finally {
    // A read still under way must end before the file closes; its error, if any, no longer matters.
    await pending?.catch(() => undefined);
    await fh.close();
  }
}

/**
 * Chunks of the input cut after their last complete record (CSV quoting respected). Only the record
 * that straddles two reads is copied (into a small seam buffer); the rest are views of the reads.
 */
export async function* recordChunks(input: Readable, format: Format): AsyncGenerator<Buffer> {
  const recordEnd = (buf: Buffer, start: number): number => (format === "csv" ? lastRecordEnd(buf, start, buf.length) : buf.lastIndexOf(10) + 1);
  let carry: Buffer | undefined;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let start = 0;
    if (carry !== undefined) {
      // Complete the carried record with this read's first line(s); retry further when the line
      // feed found was inside a quoted field.
      let head = chunk.indexOf(10);
      while (head >= 0) {
        const seam = Buffer.concat([carry, chunk.subarray(0, head + 1)]);
        if (recordEnd(seam, 0) === seam.length) {
          yield seam;
          start = head + 1;
          carry = undefined;
          break;
        }
        head = chunk.indexOf(10, head + 1);
      }
      if (carry !== undefined) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
    }
    const end = Math.max(start, recordEnd(chunk, start));
    if (end > start) yield chunk.subarray(start, end);
    carry = end < chunk.length ? chunk.subarray(end) : undefined;
  }
  if (carry !== undefined && carry.length > 0) yield carry;
}

/** The size of a file, or 0 when it cannot be read (opening it will say why). */
export function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** The whole input, for formats that cannot be cut (a JSON document). */
export async function readAll(input: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of input as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
