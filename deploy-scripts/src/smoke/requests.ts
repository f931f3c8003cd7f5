import { csvLine, type SampleRows } from "./sample";

/**
 * What a smoke test sends and what it expects back, independent of how it is sent: the same
 * requests go to a SageMaker endpoint (InvokeEndpoint) and to a local `ml-core serve` (HTTP).
 */
export interface SmokeRequest {
  readonly name: string;
  readonly contentType: string;
  readonly accept: string;
  readonly body: string;
  /** One prediction per input row, in order. */
  readonly rows: number;
}

export interface SmokeResponse {
  /** HTTP status; InvokeEndpoint only returns on 2xx, so the SageMaker transport reports 200. */
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: string;
  readonly latencyMs: number;
  /**
   * Which model answered: `CustomAttributes` of InvokeEndpoint, the `X-Amzn-SageMaker-Custom-Attributes`
   * header over HTTP (`model-sha256=<hex>` from ml-core serve); undefined when the response has none.
   */
  readonly identity?: string;
}

export interface SmokeTransport {
  /** Where requests go, for messages: `endpoint churn-dev-…` or `http://127.0.0.1:8080`. */
  readonly target: string;
  send(request: SmokeRequest): Promise<SmokeResponse>;
}

/**
 * Both content types the container serves: CSV with feature columns in training order and no
 * header, and JSON instances keyed by feature name (so a column-order mistake in either path
 * shows up as a failure of one of them).
 */
export function buildSmokeRequests(sample: SampleRows): SmokeRequest[] {
  const rows = sample.rows.length;
  const instances = sample.rows.map((row) => Object.fromEntries(sample.columns.map((c, i) => [c, jsonCell(row[i] ?? "")])));
  return [
    { name: "csv", contentType: "text/csv", accept: "application/json", body: sample.rows.map(csvLine).join("\n") + "\n", rows },
    { name: "json", contentType: "application/json", accept: "application/json", body: JSON.stringify({ instances }), rows },
  ];
}

/** A CSV cell as JSON: numbers as numbers, an empty cell as a missing value, anything else as text. */
function jsonCell(text: string): number | string | null {
  const t = text.trim();
  if (t === "") return null;
  const n = Number(t);
  return Number.isFinite(n) && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) ? n : text;
}
