import { createGunzip } from "node:zlib";
import type { Readable } from "node:stream";

/**
 * Finds one file in a gzipped tar stream (SageMaker's `model.tar.gz`) and returns its bytes, or
 * undefined when the archive has no such file. It reads only as far as the file: a tar archive is
 * a sequence of 512-byte headers, each followed by the entry's data padded to 512 bytes.
 * Supports ustar (name + prefix), GNU long names (type "L") and pax headers ("x" with `path=`),
 * which covers what Python's tarfile (SageMaker) and GNU/BSD tar write.
 */
export async function extractFromTarGz(stream: Readable, wanted: (name: string) => boolean, maxBytes = 64 * 1024 * 1024): Promise<Buffer | undefined> {
  const gunzip = stream.pipe(createGunzip());
  let buffer: Buffer = Buffer.alloc(0);
  let pendingName: string | undefined;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      for (;;) {
        if (buffer.length < 512) break;
        const header = buffer.subarray(0, 512);
        if (header.every((b) => b === 0)) return undefined; // end-of-archive marker
        const size = parseOctal(header.subarray(124, 136));
        const padded = Math.ceil(size / 512) * 512;
        if (buffer.length < 512 + padded) {
          if (size > maxBytes) throw new Error(`tar entry of ${size} bytes exceeds the ${maxBytes}-byte limit`);
          break;
        }
        const data = buffer.subarray(512, 512 + size);
        const type = String.fromCharCode(header[156]!);
        buffer = buffer.subarray(512 + padded);
        if (type === "L") {
          pendingName = cString(data);
          continue;
        }
        if (type === "x") {
          const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString("utf8"));
          if (path) pendingName = path[1];
          continue;
        }
        const name = normalise(pendingName ?? ustarName(header));
        pendingName = undefined;
        if ((type === "0" || type === "\0") && wanted(name)) return Buffer.from(data);
      }
    }
    return undefined;
  } finally {
    gunzip.destroy();
    stream.destroy();
  }
}

function ustarName(header: Buffer): string {
  const name = cString(header.subarray(0, 100));
  const magic = header.subarray(257, 262).toString("latin1");
  const prefix = magic === "ustar" ? cString(header.subarray(345, 500)) : "";
  return prefix ? `${prefix}/${name}` : name;
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString("utf8");
}

function parseOctal(bytes: Buffer): number {
  const text = cString(bytes).trim();
  return text === "" ? 0 : parseInt(text, 8);
}

/** `./metrics.json` and `metrics.json` are the same entry. */
function normalise(name: string): string {
  return name.replace(/^(\.\/)+/, "");
}
