import { InvokeEndpointCommand, type SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { MODEL_IDENTITY_HEADER } from "@ml-platform/ml-core";
import type { SmokeRequest, SmokeResponse, SmokeTransport } from "./requests";

/** Sends smoke requests to a SageMaker endpoint. Errors (4xx/5xx from the model) are thrown by the SDK. */
export function sageMakerTransport(
  client: SageMakerRuntimeClient,
  endpointName: string,
  now: () => number = performance.now.bind(performance),
): SmokeTransport {
  return {
    target: `endpoint ${endpointName}`,
    async send(request: SmokeRequest): Promise<SmokeResponse> {
      const start = now();
      const out = await client.send(
        new InvokeEndpointCommand({
          EndpointName: endpointName,
          ContentType: request.contentType,
          Accept: request.accept,
          Body: Buffer.from(request.body, "utf8"),
        }),
      );
      const latencyMs = now() - start;
      const body = out.Body === undefined ? "" : Buffer.from(out.Body).toString("utf8");
      return { status: 200, contentType: out.ContentType, body, latencyMs, identity: out.CustomAttributes };
    },
  };
}

/** Sends smoke requests to a container's `POST /invocations` over plain HTTP (a local `ml-core serve`). */
export function httpTransport(baseUrl: string, opts: { timeoutMs?: number; now?: () => number } = {}): SmokeTransport {
  const now = opts.now ?? performance.now.bind(performance);
  const url = new URL("/invocations", baseUrl).toString();
  return {
    target: baseUrl,
    async send(request: SmokeRequest): Promise<SmokeResponse> {
      const start = now();
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": request.contentType, accept: request.accept },
        body: request.body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
      });
      const body = await res.text();
      return {
        status: res.status,
        contentType: res.headers.get("content-type") ?? undefined,
        body,
        latencyMs: now() - start,
        identity: res.headers.get(MODEL_IDENTITY_HEADER) ?? undefined,
      };
    },
  };
}
