/**
 * SageMaker's limits on a hosting container, in one place.
 */

/**
 * Largest real-time request: InvokeEndpoint's `Body` has "Length Constraints: Maximum length of
 * 6291456" (6 MiB). https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html
 */
export const REALTIME_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/**
 * Batch transform defaults when the job leaves them unset: MaxPayloadInMB 6 (0 = unlimited,
 * chunked), MaxConcurrentTransforms 1–100, BatchStrategy MULTI_RECORD.
 * https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-batch-code.html
 */
export const BATCH_DEFAULT_MAX_PAYLOAD_MB = 6;
export const BATCH_MAX_PAYLOAD_MB_LIMIT = 100;
export const MAX_CONCURRENT_TRANSFORMS_LIMIT = 100;

/**
 * Model containers must answer real-time requests within 60 s and batch requests within 600 s
 * (InvokeEndpoint API reference; "Use Your Own Inference Code with Batch Transform").
 */
export const REALTIME_RESPONSE_TIMEOUT_MS = 60_000;
export const BATCH_RESPONSE_TIMEOUT_MS = 600_000;

/**
 * On instance replacement SageMaker sends SIGTERM, then SIGKILL 30 s later ("Use Your Own Inference
 * Code with Hosting Services"). Draining stops a little earlier so the exit is ours.
 */
export const SIGKILL_AFTER_MS = 30_000;
export const DEFAULT_DRAIN_TIMEOUT_MS = 25_000;

/**
 * /ping times out after 2 s. Scoring yields to the event loop at least this often so a health
 * check queued behind a large batch is answered well inside that.
 */
export const PING_TIMEOUT_MS = 2_000;
export const YIELD_AFTER_MS = 20;

/**
 * A keep-alive timeout longer than the usual 60 s idle timeout of the proxies in front, so the
 * proxy, not the server, closes an idle connection: otherwise a request sent just as the server
 * closes fails with a reset.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
