import { Readable } from "node:stream";
import { DescribeEndpointCommand } from "@aws-sdk/client-sagemaker";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { createAwsClients } from "../src/aws/clients";

/**
 * These go through the SDK's real middleware (aws-sdk-client-mock replaces `send`, and with it the
 * retry logic), with a stub HTTP layer that throttles before it answers.
 */
function handler(responses: Array<{ statusCode: number; headers?: Record<string, string>; body: string }>) {
  const requests: string[] = [];
  return {
    requests,
    handle: async (request: { hostname: string; path: string }) => {
      requests.push(`${request.hostname}${request.path}`);
      const next = responses.shift()!;
      return { response: { statusCode: next.statusCode, headers: next.headers ?? {}, body: Readable.from([Buffer.from(next.body)]) } };
    },
  };
}

describe("throttling", () => {
  it("SageMaker calls are retried with the SDK's retry strategy until they succeed", async () => {
    const throttled = {
      statusCode: 400,
      headers: { "x-amzn-errortype": "ThrottlingException", "content-type": "application/x-amz-json-1.1" },
      body: '{"__type":"ThrottlingException","message":"Rate exceeded"}',
    };
    const http = handler([
      throttled,
      throttled,
      { statusCode: 200, headers: { "content-type": "application/x-amz-json-1.1" }, body: '{"EndpointName":"e","EndpointStatus":"InService"}' },
    ]);
    const aws = createAwsClients({ retry: { maxAttempts: 4, delayMs: 1 }, requestHandler: http });
    const sm = aws.sagemaker("eu-west-1");
    (sm.config as { credentials: unknown }).credentials = async () => ({ accessKeyId: "AKID", secretAccessKey: "secret" });
    const out = await sm.send(new DescribeEndpointCommand({ EndpointName: "e" }));
    expect(out.EndpointStatus).toBe("InService");
    expect(http.requests).toHaveLength(3);
  });

  it("gives up after maxAttempts with the service's error", async () => {
    const slowDown = { statusCode: 503, body: "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>" };
    const http = handler([slowDown, slowDown, slowDown]);
    const aws = createAwsClients({ retry: { maxAttempts: 3, delayMs: 1 }, requestHandler: http });
    const s3 = aws.s3("eu-west-1");
    (s3.config as { credentials: unknown }).credentials = async () => ({ accessKeyId: "AKID", secretAccessKey: "secret" });
    await expect(s3.send(new HeadObjectCommand({ Bucket: "b", Key: "k" }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 503, attempts: 3 } });
    expect(http.requests).toHaveLength(3);
  });
});
