/**
 * Which body format a request carries (Content-Type) and which one the client wants back (Accept).
 * Three formats, each under its registered name and the aliases clients actually send.
 */
import { HttpError } from "./errors";

export type Format = "csv" | "json" | "jsonlines";

/** The media type written in responses for each format. */
export const MEDIA_TYPE: Readonly<Record<Format, string>> = {
  csv: "text/csv",
  json: "application/json",
  jsonlines: "application/jsonlines",
};

/**
 * Accepted spellings. `application/jsonlines` is SageMaker's (batch transform, built-in
 * algorithms); the others are what JSON-lines tools and libraries send.
 */
const FORMAT_OF: ReadonlyMap<string, Format> = new Map<string, Format>([
  ["text/csv", "csv"],
  ["application/csv", "csv"],
  ["application/json", "json"],
  ["application/jsonlines", "jsonlines"],
  ["application/jsonl", "jsonlines"],
  ["application/x-jsonlines", "jsonlines"],
  ["application/x-ndjson", "jsonlines"],
  ["application/json-seq", "jsonlines"],
]);

const SUPPORTED_LIST = "text/csv, application/json, application/jsonlines";
const CHARSETS: ReadonlySet<string> = new Set(["utf-8", "utf8", "us-ascii", "ascii"]);

/**
 * Header values repeat (one client, one content type), so parsing results are cached; the cache is
 * bounded because the header is client-controlled.
 */
const CACHE_LIMIT = 256;

interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  readonly q: number;
  readonly params: ReadonlyMap<string, string>;
}

function parseMediaRange(text: string): MediaRange | undefined {
  const parts = text.split(";");
  const essence = parts[0]!.trim().toLowerCase();
  const slash = essence.indexOf("/");
  if (slash <= 0 || slash === essence.length - 1) return undefined;
  const params = new Map<string, string>();
  let q = 1;
  for (let i = 1; i < parts.length; i++) {
    const eq = parts[i]!.indexOf("=");
    if (eq < 0) continue;
    const key = parts[i]!.slice(0, eq).trim().toLowerCase();
    let value = parts[i]!.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (key === "q") {
      const parsed = Number(value);
      q = Number.isFinite(parsed) ? Math.min(1, Math.max(0, parsed)) : 0;
    } else {
      params.set(key, value.toLowerCase());
    }
  }
  return { type: essence.slice(0, slash), subtype: essence.slice(slash + 1), q, params };
}

const requestCache = new Map<string, Format | HttpError>();

/**
 * The format of a request body from its Content-Type. A missing header means CSV, the format of
 * SageMaker's own examples and of batch transform jobs that leave ContentType unset.
 * Throws 415 naming the supported types.
 */
export function requestFormat(contentType: string | undefined): Format {
  if (contentType === undefined || contentType.trim() === "") return "csv";
  let result = requestCache.get(contentType);
  if (result === undefined) {
    result = resolveRequestFormat(contentType);
    if (requestCache.size >= CACHE_LIMIT) requestCache.clear();
    requestCache.set(contentType, result);
  }
  if (result instanceof HttpError) throw result;
  return result;
}

function resolveRequestFormat(contentType: string): Format | HttpError {
  const range = parseMediaRange(contentType);
  const format = range && FORMAT_OF.get(`${range.type}/${range.subtype}`);
  if (range === undefined || format === undefined) {
    return new HttpError(415, `unsupported content type ${JSON.stringify(contentType)}; send one of: ${SUPPORTED_LIST}`);
  }
  const charset = range.params.get("charset");
  if (charset !== undefined && !CHARSETS.has(charset)) {
    return new HttpError(415, `unsupported charset ${JSON.stringify(charset)}; send UTF-8`);
  }
  return format;
}

const responseCache = new Map<string, Format | HttpError>();

/**
 * The response format from the Accept header (RFC 9110 §12.5.1: the highest quality wins, a more
 * specific range overrides a wildcard, q=0 excludes). Ties go to the earlier range in the header,
 * then to `preferred`. A missing or empty header, or `*` / `*` alone, means `preferred`.
 * Throws 406 naming the supported types.
 */
export function responseFormat(accept: string | undefined, preferred: Format): Format {
  if (accept === undefined || accept === "" || accept === "*/*") return preferred;
  const key = `${preferred}|${accept}`;
  let result = responseCache.get(key);
  if (result === undefined) {
    result = negotiate(accept, preferred);
    if (responseCache.size >= CACHE_LIMIT) responseCache.clear();
    responseCache.set(key, result);
  }
  if (result instanceof HttpError) throw result;
  return result;
}

function negotiate(accept: string, preferred: Format): Format | HttpError {
  const ranges: MediaRange[] = [];
  for (const part of accept.split(",")) {
    if (part.trim() === "") continue;
    const range = parseMediaRange(part);
    if (range !== undefined) ranges.push(range);
  }
  if (ranges.length === 0 && accept.trim() === "") return preferred;
  const candidates: Format[] = [preferred, ...(["csv", "json", "jsonlines"] as const).filter((f) => f !== preferred)];
  let best: Format | undefined;
  let bestQ = 0;
  let bestPos = Infinity;
  for (const format of candidates) {
    // Every spelling of the format counts: a client asking for application/x-ndjson gets JSON lines.
    let q = -1;
    let pos = Infinity;
    let specificity = -1;
    for (const [name, f] of FORMAT_OF) {
      if (f !== format) continue;
      const slash = name.indexOf("/");
      const type = name.slice(0, slash);
      const subtype = name.slice(slash + 1);
      // Wildcards match the canonical name only: `application/*` must not select CSV through its
      // `application/csv` alias, since the response would then be labelled text/csv.
      const canonical = MEDIA_TYPE[format] === name;
      ranges.forEach((r, i) => {
        const s =
          r.type === type && r.subtype === subtype
            ? 2
            : !canonical
              ? -1
              : r.type === type && r.subtype === "*"
                ? 1
                : r.type === "*" && r.subtype === "*"
                  ? 0
                  : -1;
        if (s > specificity || (s === specificity && s >= 0 && i < pos)) {
          specificity = s;
          q = r.q;
          pos = i;
        }
      });
    }
    if (q > bestQ || (q === bestQ && q > 0 && pos < bestPos)) {
      best = format;
      bestQ = q;
      bestPos = pos;
    }
  }
  return best ?? new HttpError(406, `cannot produce ${JSON.stringify(accept)}; accept one of: ${SUPPORTED_LIST}`);
}
