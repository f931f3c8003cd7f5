/**
 * SageMaker's data capture format: one JSON object per line in `.jsonl` objects under
 * `<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/`, each
 * `{"captureData": {"endpointInput": {observedContentType, mode: "INPUT", data, encoding},
 * "endpointOutput": {...}}, "eventMetadata": {eventId, inferenceTime}, "eventVersion": "0"}`, where
 * `encoding` says how `data` holds the body: CSV or JSON (the text itself, for the content types the
 * endpoint config lists as CSV or JSON) or BASE64.
 */
import { randomUUID } from "node:crypto";

export type CaptureEncoding = "CSV" | "JSON" | "BASE64";

export interface CapturedPayload {
  readonly observedContentType: string;
  readonly mode: "INPUT" | "OUTPUT";
  readonly data: string;
  readonly encoding: CaptureEncoding;
}

export interface CaptureRecord {
  readonly captureData: { readonly endpointInput?: CapturedPayload; readonly endpointOutput?: CapturedPayload };
  readonly eventMetadata: { readonly eventId: string; readonly inferenceTime: string };
  readonly eventVersion: "0";
}

/** A captured request, decoded. */
export interface CapturedRequest {
  readonly contentType: string;
  readonly body: Buffer;
  /** When the endpoint served it (eventMetadata.inferenceTime), if recorded. */
  readonly time: Date | undefined;
}

/**
 * The request of one capture line; undefined for a record without an input (an output-only
 * capture). Throws naming what is wrong; the caller adds the object key and line number.
 */
export function parseCaptureLine(line: string): CapturedRequest | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (e) {
    throw new Error(`not a JSON object: ${(e as Error).message}`);
  }
  const obj = (v: unknown): Record<string, unknown> | undefined =>
    typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  const record = obj(doc);
  const capture = obj(record?.captureData);
  if (!capture) throw new Error('no "captureData" object: not a SageMaker data capture record');
  if (capture.endpointInput === undefined) return undefined;
  const input = obj(capture.endpointInput);
  if (!input) throw new Error('"captureData.endpointInput" must be an object');
  const { observedContentType, data, encoding } = input;
  if (typeof data !== "string") throw new Error('"captureData.endpointInput.data" must be a string');
  if (encoding !== "CSV" && encoding !== "JSON" && encoding !== "BASE64")
    throw new Error(`"captureData.endpointInput.encoding" is ${JSON.stringify(encoding)}; expected CSV, JSON or BASE64`);
  const time = obj(record?.eventMetadata)?.inferenceTime;
  const parsedTime = typeof time === "string" ? new Date(time) : undefined;
  return {
    contentType: typeof observedContentType === "string" ? observedContentType : "",
    body: encoding === "BASE64" ? Buffer.from(data, "base64") : Buffer.from(data, "utf8"),
    time: parsedTime && !Number.isNaN(parsedTime.getTime()) ? parsedTime : undefined,
  };
}

/**
 * A record as SageMaker writes it, for a request and its response served at `time`. The bodies
 * are stored as text for the endpoint's CSV and JSON content types (infra's
 * captureContentTypeHeader), base64 otherwise.
 */
export function captureRecord(
  request: { contentType: string; body: string },
  response: { contentType: string | undefined; body: string },
  time: Date,
  eventId: string = randomUUID(),
): CaptureRecord {
  const payload = (mode: "INPUT" | "OUTPUT", contentType: string, body: string): CapturedPayload => {
    const encoding = textEncoding(contentType);
    return { observedContentType: contentType, mode, data: encoding === "BASE64" ? Buffer.from(body).toString("base64") : body, encoding };
  };
  return {
    captureData: {
      endpointInput: payload("INPUT", request.contentType, request.body),
      endpointOutput: payload("OUTPUT", response.contentType ?? "", response.body),
    },
    eventMetadata: { eventId, inferenceTime: time.toISOString() },
    eventVersion: "0",
  };
}

function textEncoding(contentType: string): CaptureEncoding {
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  if (type === "text/csv") return "CSV";
  if (type === "application/json" || type === "application/jsonlines") return "JSON";
  return "BASE64";
}

/** `<endpoint>/<variant>/yyyy/mm/dd/hh/` of an instant (UTC), the folder SageMaker writes it under. */
export function captureHourPrefix(endpoint: string, variant: string, time: Date): string {
  return `${endpoint}/${variant}/${hourPath(time)}/`;
}

/** `yyyy/mm/dd/hh` (UTC): zero-padded, so keys sort in time order. */
export function hourPath(time: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${time.getUTCFullYear()}/${pad(time.getUTCMonth() + 1)}/${pad(time.getUTCDate())}/${pad(time.getUTCHours())}`;
}

/**
 * `--since`: an ISO 8601 instant, or a duration back from `now` (`90m`, `24h`, `7d`). Throws
 * naming the accepted forms.
 */
export function parseSince(value: string, now: number): Date {
  const m = /^(\d+)\s*(m|h|d)$/.exec(value.trim());
  if (m) return new Date(now - Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "m" | "h" | "d"]);
  const t = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : undefined;
  if (t === undefined || Number.isNaN(t.getTime()))
    throw new Error(`--since "${value}" is neither an ISO 8601 time (2026-01-31T12:00Z) nor a duration (90m, 24h, 7d)`);
  return t;
}
