// The smoke test over the Open Inference Protocol (KServe V2 REST), as a Kubernetes stack's pods
// serve it: the same rows as the SageMaker smoke test, sent as `POST /v2/models/{name}/infer` with
// one tensor per feature typed as the model's metadata lists them, and the response's tensors read
// back as one prediction per row for the same checks.
import { MODEL_IDENTITY_HEADER } from "@ml-platform/ml-core";
import type { SmokeRequest, SmokeResponse, SmokeTransport } from "./requests";
import type { SampleRows } from "./sample";

interface MetadataTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape?: readonly number[];
}
interface OutputTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: readonly unknown[];
}

/** The `$inference_request` for `sample`: one [N] tensor per feature, FP64 or BYTES as the model lists it. */
export function inferenceRequest(sample: SampleRows, inputs: readonly MetadataTensor[]): string {
  const column = new Map(sample.columns.map((c, i) => [c, i]));
  const missing = inputs.filter((t) => !column.has(t.name)).map((t) => t.name);
  if (missing.length > 0) throw new Error(`the sample rows have no column for the model's input${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
  const tensors = inputs.map((t) => {
    const j = column.get(t.name)!;
    const data = sample.rows.map((row) => {
      const text = (row[j] ?? "").trim();
      if (text === "") return null;
      return t.datatype === "BYTES" ? text : Number(text);
    });
    return { name: t.name, shape: [sample.rows.length], datatype: t.datatype, data };
  });
  return JSON.stringify({ inputs: tensors });
}

/** The response's tensors as one prediction per row: a score, or `{predicted_label, probabilities}`. */
export function predictionsOf(outputs: readonly OutputTensor[]): unknown[] {
  const byName = new Map(outputs.map((o) => [o.name, o]));
  const probabilities = byName.get("probabilities");
  const labels = byName.get("label");
  if (probabilities) {
    const width = probabilities.shape[1] ?? 1;
    const rows = probabilities.shape[0] ?? 0;
    return Array.from({ length: rows }, (_, r) => ({ predicted_label: labels?.data[r], probabilities: probabilities.data.slice(r * width, (r + 1) * width) }));
  }
  return [...(byName.get("score")?.data ?? outputs[0]?.data ?? [])];
}

/**
 * Smoke requests to an OIP server at `baseUrl` (a port forward to the Service, or the ingress).
 * The model's metadata is read once, for its inputs' datatypes. The identity is the response's
 * `model_version` (ml-core reports its `model-sha256=<hex>` there) or, failing that, the
 * custom-attributes header.
 */
export function oipTransport(
  baseUrl: string,
  modelName: string,
  sample: SampleRows,
  opts: { timeoutMs?: number; now?: () => number; target?: string } = {},
): SmokeTransport {
  const now = opts.now ?? performance.now.bind(performance);
  const model = new URL(`/v2/models/${encodeURIComponent(modelName)}`, baseUrl).toString();
  let inputs: Promise<readonly MetadataTensor[]> | undefined;
  const metadata = async () => {
    const res = await fetch(model, { signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000) });
    if (!res.ok) throw new Error(`GET ${model}: HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
    return ((await res.json()) as { inputs?: MetadataTensor[] }).inputs ?? [];
  };
  return {
    target: opts.target ?? baseUrl,
    async send(request: SmokeRequest): Promise<SmokeResponse> {
      inputs ??= metadata();
      const body = inferenceRequest(sample, await inputs);
      const start = now();
      const res = await fetch(`${model}/infer`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
      });
      const text = await res.text();
      const latencyMs = now() - start;
      if (!res.ok) return { status: res.status, contentType: res.headers.get("content-type") ?? undefined, body: text, latencyMs };
      const parsed = JSON.parse(text) as { model_version?: string; outputs?: OutputTensor[] };
      const identity = parsed.model_version ?? res.headers.get(MODEL_IDENTITY_HEADER) ?? undefined;
      // Rows come from `sample`; the request's own body (CSV or JSON instances) is SageMaker's format.
      void request;
      return {
        status: res.status,
        contentType: "application/json",
        body: JSON.stringify({ predictions: predictionsOf(parsed.outputs ?? []) }),
        latencyMs,
        identity,
      };
    },
  };
}
