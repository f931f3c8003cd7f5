/**
 * The served model's identity: `model-sha256=<hex of model.json's bytes>`. `ml-core serve` puts it in
 * the `X-Amzn-SageMaker-Custom-Attributes` header of its responses, which InvokeEndpoint returns to
 * callers as `CustomAttributes`; the deploy tools compute the same value from the artifact at
 * registration and compare it at smoke time, so a test request proves which model answered.
 */
import { createHash } from "node:crypto";

/** The response header SageMaker passes back to the caller of InvokeEndpoint as `CustomAttributes`. */
export const MODEL_IDENTITY_HEADER = "X-Amzn-SageMaker-Custom-Attributes";

/**
 * CustomAttributes: "Maximum length of 1024", visible US-ASCII characters
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html).
 * The identity is 77 characters.
 */
export const CUSTOM_ATTRIBUTES_MAX_LENGTH = 1024;

/** The hex SHA-256 of a model file's bytes (exactly as stored: no parsing, no re-serialization). */
export function modelSha256(modelFileBytes: Uint8Array): string {
  return createHash("sha256").update(modelFileBytes).digest("hex");
}

/** The header value that identifies the model file `modelFileBytes`: `model-sha256=<hex>`. */
export function modelIdentity(modelFileBytes: Uint8Array): string {
  return `model-sha256=${modelSha256(modelFileBytes)}`;
}
