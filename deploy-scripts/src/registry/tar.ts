import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";

/** 64 MiB: far above any metrics file, far below what would strain the CLI's memory. */
export const DEFAULT_MAX_ENTRY_BYTES = 64 * 1024 * 1024;

/**
 * Finds one regular file in a gzipped tar stream (SageMaker's `model.tar.gz`) and returns its
 * bytes, or undefined when the archive has no such file. The archive is streamed through gunzip
 * and tar-stream (ustar, GNU long names and pax headers, as Python's tarfile and GNU/BSD tar
 * write them): entries before the wanted one are read through without being kept, and reading
 * stops at the wanted one. Only the wanted entry is held in memory, up to `maxBytes`.
 *
 * A corrupt archive (bad gzip data, a header with a bad checksum or size, a truncated entry)
 * rejects with an error saying so; the caller names the archive.
 */
export async function extractFromTarGz(stream: Readable, wanted: (name: string) => boolean, maxBytes = DEFAULT_MAX_ENTRY_BYTES): Promise<Buffer | undefined> {
  const gunzip = createGunzip();
  const entries = extract();
  const fail = (err: Error) => entries.destroy(err);
  stream.on("error", fail);
  gunzip.on("error", fail);
  stream.pipe(gunzip).pipe(entries);
  let tooLarge: string | undefined;
  try {
    for await (const entry of entries) {
      const { name, type, size } = entry.header;
      if ((type === "file" || type === "contiguous-file") && wanted(normalise(name))) {
        if (size > maxBytes) {
          tooLarge = `${name} is ${size} bytes, over the ${maxBytes}-byte limit for a file read from the archive`;
          break;
        }
        const chunks: Buffer[] = [];
        for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
        return Buffer.concat(chunks);
      }
      entry.resume();
    }
  } catch (err) {
    throw new Error(`not a readable gzipped tar archive: ${(err as Error).message}`, { cause: err });
  } finally {
    // Stop reading the rest of the archive (an S3 body stays open otherwise).
    stream.unpipe(gunzip);
    stream.destroy();
    gunzip.destroy();
    entries.destroy();
  }
  if (tooLarge) throw new Error(tooLarge);
  return undefined;
}

/** `./metrics.json` and `metrics.json` are the same entry. */
function normalise(name: string): string {
  return name.replace(/^(\.\/)+/, "");
}
