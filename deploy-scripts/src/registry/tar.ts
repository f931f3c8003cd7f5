import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";

/** 64 MiB: far above any metrics file, far below what would strain the CLI's memory. */
export const DEFAULT_MAX_ENTRY_BYTES = 64 * 1024 * 1024;

/**
 * Reads a whole gzipped tar stream and returns the wanted regular files by name (each up to
 * `maxBytes`). The stream is read to
 * its end, so `onChunk` sees every byte as it arrives (to hash the archive in the same pass), and
 * only the wanted entries are held in memory. A corrupt archive (bad gzip data, a header with a bad
 * checksum or size, a truncated entry) rejects with an error saying so; the caller names it.
 */
export async function readFromTarGz(
  stream: Readable,
  wanted: (name: string) => boolean,
  opts: { maxBytes?: number; onChunk?: (chunk: Buffer) => void } = {},
): Promise<Map<string, Buffer>> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const gunzip = createGunzip();
  const entries = extract();
  const fail = (err: Error) => entries.destroy(err);
  stream.on("error", fail);
  gunzip.on("error", fail);
  if (opts.onChunk) stream.on("data", opts.onChunk);
  stream.pipe(gunzip).pipe(entries);
  const found = new Map<string, Buffer>();
  try {
    for await (const entry of entries) {
      const { name, type, size } = entry.header;
      const normalised = normalise(name);
      if ((type === "file" || type === "contiguous-file") && wanted(normalised)) {
        if (size > maxBytes) throw new Error(`${name} is ${size} bytes, over the ${maxBytes}-byte limit for a file read from the archive`);
        const chunks: Buffer[] = [];
        for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
        found.set(normalised, Buffer.concat(chunks));
      } else {
        entry.resume();
      }
    }
  } catch (err) {
    stream.destroy();
    gunzip.destroy();
    if ((err as Error).message.includes("-byte limit")) throw err;
    throw new Error(`not a readable gzipped tar archive: ${(err as Error).message}`, { cause: err });
  }
  return found;
}

/** `./metrics.json` and `metrics.json` are the same entry. */
function normalise(name: string): string {
  return name.replace(/^(\.\/)+/, "");
}
