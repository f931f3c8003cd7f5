import { once } from "node:events";
import type { Writable } from "node:stream";
import type { Format } from "../codec/media-types";

/** Writes formatted chunks with back-pressure, adding the JSON document's framing. */
export class Sink {
  private first = true;

  constructor(
    private readonly out: Writable,
    readonly format: Format,
  ) {}

  header(text: string): void {
    if (this.format === "csv") this.out.write(text);
  }

  /** Writes a chunk of records; `continues` when it continues the previous chunk's records. */
  async write(chunk: string | Uint8Array, continues = false): Promise<void> {
    if (chunk.length === 0) return;
    if (this.format === "json" && !continues) this.out.write(this.first ? '{"predictions":[' : ",");
    this.first = false;
    if (!this.out.write(chunk)) await once(this.out, "drain");
  }

  async end(): Promise<void> {
    if (this.format === "json" && !this.first && !this.out.write("]}\n")) await once(this.out, "drain");
  }
}
