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
export async function runSmoke(transport: SmokeTransport, sample: SampleRows, opts: { maxLatencyMs: number; warmUp?: boolean }): Promise<SmokeResult> {
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
      results.push({ name: request.name, latencyMs: Math.round(response.latencyMs), problems: checkSmokeResponse(request, response, opts.maxLatencyMs) });
    } catch (err) {
      results.push({ name: request.name, latencyMs: 0, problems: [`${request.name} request failed: ${(err as Error).name}: ${(err as Error).message}`] });
    }
  }
  const problems = results.flatMap((r) => r.problems);
  return { target: transport.target, passed: problems.length === 0, rows: sample.rows.length, requests: results, problems, maxLatencyMs: opts.maxLatencyMs };
}
