import { checkSmokeResponse } from "./checks";
import { buildSmokeRequests, type SmokeTransport } from "./requests";
import type { SampleRows } from "./sample";

export interface SmokeResult {
  readonly target: string;
  readonly passed: boolean;
  readonly rows: number;
  readonly requests: ReadonlyArray<{ name: string; latencyMs: number; problems: string[] }>;
  readonly problems: readonly string[];
  readonly maxLatencyMs: number;
}

/**
 * Sends the smoke requests and checks the answers. One untimed warm-up request goes first: a
 * serverless endpoint that scaled to zero cold-starts on it, and the latency limit is about serving,
 * not provisioning.
 */
export interface SmokeOptions {
  readonly maxLatencyMs: number;
  readonly warmUp?: boolean;
  /**
   * The identity the expected model answers with (`model-sha256=<hex>`, recorded at registration):
   * every response must carry it, so the test proves which version answered, not only that one did.
   */
  readonly expectedIdentity?: string;
}

export async function runSmoke(transport: SmokeTransport, sample: SampleRows, opts: SmokeOptions): Promise<SmokeResult> {
  const requests = buildSmokeRequests(sample);
  const [first] = requests;
  if (first && (opts.warmUp ?? true)) {
    try {
      await transport.send({ ...first, name: "warm-up" });
    } catch {
      // The timed request that follows reports the failure with its details.
    }
  }
  const results: Array<{ name: string; latencyMs: number; problems: string[] }> = [];
  for (const request of requests) {
    try {
      const response = await transport.send(request);
      const problems = checkSmokeResponse(request, response, opts.maxLatencyMs);
      if (opts.expectedIdentity !== undefined && response.identity !== opts.expectedIdentity) {
        problems.push(
          `${request.name} request: answered by ${response.identity ? `model ${response.identity}` : "a model that sent no identity (no CustomAttributes)"}, expected model ${opts.expectedIdentity}`,
        );
      }
      results.push({ name: request.name, latencyMs: Math.round(response.latencyMs), problems });
    } catch (err) {
      results.push({ name: request.name, latencyMs: 0, problems: [`${request.name} request failed: ${(err as Error).name}: ${(err as Error).message}`] });
    }
  }
  const problems = results.flatMap((r) => r.problems);
  return { target: transport.target, passed: problems.length === 0, rows: sample.rows.length, requests: results, problems, maxLatencyMs: opts.maxLatencyMs };
}
