import { AthenaClient } from "@aws-sdk/client-athena";
import { ECRClient } from "@aws-sdk/client-ecr";
import { S3Client } from "@aws-sdk/client-s3";
import { SageMakerClient } from "@aws-sdk/client-sagemaker";
import { SageMakerFeatureStoreRuntimeClient } from "@aws-sdk/client-sagemaker-featurestore-runtime";
import { SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { STSClient } from "@aws-sdk/client-sts";
// The SDK's own retry strategies, from `@smithy/core`, what every v3 client is built on.
import { ConfiguredRetryStrategy, StandardRetryStrategy } from "@smithy/core/retry";

/** The AWS clients the commands use, one per service and region; tests pass their own. */
export interface AwsClients {
  sagemaker(region: string): SageMakerClient;
  runtime(region: string): SageMakerRuntimeClient;
  s3(region: string): S3Client;
  ecr(region: string): ECRClient;
  sts(region: string): STSClient;
  athena(region: string): AthenaClient;
  /** PutRecord: one attempt per call, since `features ingest` retries throttled records itself (with backoff, counted in its summary). */
  featureStoreRuntime(region: string): SageMakerFeatureStoreRuntimeClient;
}

export interface RetrySettings {
  /** Attempts per call, first included. */
  readonly maxAttempts: number;
  /** Fixed delay between attempts, in ms; absent: the SDK's exponential backoff with jitter. */
  readonly delayMs?: number;
}

/**
 * Polling a training job or an endpoint is a long run of Describe calls; SageMaker throttles those
 * per account, so allow more attempts than the SDK's default of 3 before giving up.
 */
export const DEFAULT_RETRY: RetrySettings = { maxAttempts: 8 };

export interface ClientOptions {
  readonly retry?: RetrySettings;
  /** Replaces the HTTP layer (tests of the SDK's retry behaviour). */
  readonly requestHandler?: unknown;
}

export function clientConfig(region: string, opts: ClientOptions = {}) {
  const retry = opts.retry ?? DEFAULT_RETRY;
  return {
    region,
    maxAttempts: retry.maxAttempts,
    retryStrategy:
      retry.delayMs === undefined ? new StandardRetryStrategy(retry.maxAttempts) : new ConfiguredRetryStrategy(retry.maxAttempts, () => retry.delayMs ?? 0),
    ...(opts.requestHandler === undefined ? {} : { requestHandler: opts.requestHandler as never }),
  };
}

export function createAwsClients(opts: ClientOptions = {}): AwsClients {
  const cache = new Map<string, unknown>();
  function memo<T>(key: string, make: () => T): T {
    if (!cache.has(key)) cache.set(key, make());
    return cache.get(key) as T;
  }
  return {
    sagemaker: (region) => memo(`sagemaker:${region}`, () => new SageMakerClient(clientConfig(region, opts))),
    runtime: (region) => memo(`runtime:${region}`, () => new SageMakerRuntimeClient(clientConfig(region, opts))),
    s3: (region) => memo(`s3:${region}`, () => new S3Client(clientConfig(region, opts))),
    ecr: (region) => memo(`ecr:${region}`, () => new ECRClient(clientConfig(region, opts))),
    sts: (region) => memo(`sts:${region}`, () => new STSClient(clientConfig(region, opts))),
    athena: (region) => memo(`athena:${region}`, () => new AthenaClient(clientConfig(region, opts))),
    featureStoreRuntime: (region) =>
      memo(`featurestore-runtime:${region}`, () => new SageMakerFeatureStoreRuntimeClient(clientConfig(region, { ...opts, retry: { maxAttempts: 1 } }))),
  };
}
