/**
 * Pure pieces of the serving contract: content negotiation, and the configuration read from
 * SageMaker's environment.
 */
import { describe, expect, it } from "vitest";
import { resolveServeConfig } from "../src/runtime/serve";
import { requestFormat, responseFormat } from "../src/codec/media-types";
import { parseLogLevel } from "../src/server/logger";

describe("content negotiation", () => {
  it.each([
    [undefined, "csv"],
    ["text/csv", "csv"],
    ["Text/CSV; charset=UTF-8", "csv"],
    ['text/csv; charset="utf-8"; header=absent', "csv"],
    ["application/json", "json"],
    ["application/jsonlines", "jsonlines"],
    ["application/x-jsonlines", "jsonlines"],
    ["application/jsonl", "jsonlines"],
    ["application/x-ndjson", "jsonlines"],
  ])("reads Content-Type %s as %s", (header, format) => {
    expect(requestFormat(header)).toBe(format);
  });

  it.each([
    ["text/plain", /^unsupported content type "text\/plain"; send one of: text\/csv, application\/json, application\/jsonlines$/],
    ["text/csv; charset=utf-16", /^unsupported charset "utf-16"; send UTF-8$/],
    ["csv", /^unsupported content type "csv"/],
    ["text/", /^unsupported content type/],
  ])("refuses Content-Type %s with 415", (header, message) => {
    expect(() => requestFormat(header)).toThrow(message);
    try {
      requestFormat(header);
    } catch (e) {
      expect((e as { status: number }).status).toBe(415);
    }
  });

  it.each([
    [undefined, "json", "json"],
    ["", "jsonlines", "jsonlines"],
    ["*/*", "csv", "csv"],
    ["*/*;q=0.8", "json", "json"],
    ["text/csv", "json", "csv"],
    ["application/json, text/csv", "csv", "json"],
    ["text/csv, application/json", "json", "csv"],
    ["application/json;q=0.4, text/csv;q=0.9", "json", "csv"],
    ["application/*", "csv", "json"],
    ["application/*", "jsonlines", "jsonlines"],
    ["text/*", "json", "csv"],
    ["*/*, text/csv;q=0", "csv", "json"],
    ["application/x-ndjson", "csv", "jsonlines"],
    ["image/png, */*;q=0.1", "json", "json"],
  ] as const)("picks the response format for Accept %s (request %s) → %s", (accept, preferred, expected) => {
    expect(responseFormat(accept, preferred)).toBe(expected);
  });

  it.each([["application/xml"], ["text/html;q=1, application/json;q=0"], ["*/*;q=0"], ["garbage"]])("refuses Accept %s with 406", (accept) => {
    expect(() => responseFormat(accept, "csv")).toThrow(/^cannot produce .*; accept one of: text\/csv, application\/json, application\/jsonlines$/);
  });
});

describe("serving configuration", () => {
  it("defaults to SageMaker's paths and port, one worker per CPU, the real-time payload limit", () => {
    expect(resolveServeConfig({}, {}, 4)).toEqual({
      modelDir: "/opt/ml/model",
      host: "0.0.0.0",
      port: 8080,
      workers: 4,
      batch: false,
      maxPayloadBytes: 6 * 1024 * 1024,
      executionParameters: { MaxConcurrentTransforms: 4, BatchStrategy: "MULTI_RECORD", MaxPayloadInMB: 6 },
      defaultAccept: undefined,
      logLevel: "info",
      requestTimeoutMs: 60_000,
      drainTimeoutMs: 25_000,
      modelName: "model",
    });
  });

  it("reads the Open Inference Protocol's model name from ML_CORE_MODEL_NAME; --model-name wins", () => {
    expect(resolveServeConfig({ ML_CORE_MODEL_NAME: "fraud" }, {}, 1).modelName).toBe("fraud");
    expect(resolveServeConfig({ ML_CORE_MODEL_NAME: "fraud" }, { modelName: "churn" }, 1).modelName).toBe("churn");
    expect(resolveServeConfig({ ML_CORE_MODEL_NAME: " " }, {}, 1).modelName).toBe("model");
    expect(() => resolveServeConfig({}, { modelName: "a/b" }, 1)).toThrow(
      '--model-name "a/b" must be 1-253 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  });

  it("reads SAGEMAKER_BASE_DIR, SAGEMAKER_BIND_TO_PORT and SAGEMAKER_MODEL_SERVER_WORKERS; flags win", () => {
    const env = { SAGEMAKER_BASE_DIR: "/srv/ml", SAGEMAKER_BIND_TO_PORT: "9090", SAGEMAKER_MODEL_SERVER_WORKERS: "3" };
    expect(resolveServeConfig(env, {}, 2)).toMatchObject({ modelDir: "/srv/ml/model", port: 9090, workers: 3 });
    expect(resolveServeConfig(env, { modelDir: "m", port: "0", workers: "1", host: "127.0.0.1" }, 2)).toMatchObject({
      modelDir: "m",
      port: 0,
      workers: 1,
      host: "127.0.0.1",
    });
  });

  it.each([
    [{ SAGEMAKER_BATCH_STRATEGY: "MULTI_RECORD" }, "MULTI_RECORD"],
    [{ SAGEMAKER_BATCH_STRATEGY: "SINGLE_RECORD" }, "SINGLE_RECORD"],
    [{ SAGEMAKER_BATCH_STRATEGY: "MultiRecord" }, "MULTI_RECORD"],
    [{ SAGEMAKER_BATCH_STRATEGY: "SingleRecord" }, "SINGLE_RECORD"],
  ])("accepts both spellings of the batch strategy: %j", (env, strategy) => {
    expect(resolveServeConfig(env, {}, 1).executionParameters.BatchStrategy).toBe(strategy);
  });

  it("takes batch transform's settings for the payload limit and /execution-parameters", () => {
    const config = resolveServeConfig({ SAGEMAKER_BATCH: "true", SAGEMAKER_MAX_PAYLOAD_IN_MB: "20", SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: "8" }, {}, 2);
    expect(config).toMatchObject({ batch: true, maxPayloadBytes: 20 * 1024 * 1024, requestTimeoutMs: 600_000 });
    expect(config.executionParameters).toEqual({ MaxConcurrentTransforms: 8, BatchStrategy: "MULTI_RECORD", MaxPayloadInMB: 20 });
  });

  it("treats MaxPayloadInMB 0 as no limit (batch transform streams the body)", () => {
    expect(resolveServeConfig({ SAGEMAKER_BATCH: "TRUE", SAGEMAKER_MAX_PAYLOAD_IN_MB: "0" }, {}, 1).maxPayloadBytes).toBe(Infinity);
  });

  it("honours the inference toolkit's default Accept and timeout", () => {
    expect(resolveServeConfig({ SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: "application/json", SAGEMAKER_MODEL_SERVER_TIMEOUT: "5" }, {}, 1)).toMatchObject({
      defaultAccept: "json",
      requestTimeoutMs: 5000,
    });
  });

  it("collects every invalid setting into one error, naming the variable, the value and what is allowed", () => {
    const env = {
      SAGEMAKER_BIND_TO_PORT: "http",
      SAGEMAKER_MODEL_SERVER_WORKERS: "-1",
      SAGEMAKER_BATCH: "yes",
      SAGEMAKER_MAX_PAYLOAD_IN_MB: "101",
      SAGEMAKER_BATCH_STRATEGY: "BOTH",
      SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: "0",
      LOG_LEVEL: "chatty",
      SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: "text/html",
      ML_CORE_MODEL_NAME: "my model",
    };
    expect(() => resolveServeConfig(env, {}, 1)).toThrow(
      [
        "invalid serving configuration:",
        '  SAGEMAKER_BIND_TO_PORT ("http") must be an integer from 0 to 65535',
        '  SAGEMAKER_MODEL_SERVER_WORKERS ("-1") must be an integer from 1 to 256',
        '  SAGEMAKER_BATCH ("yes") must be "true" or "false"',
        '  SAGEMAKER_MAX_PAYLOAD_IN_MB ("101") must be an integer from 0 to 100',
        '  SAGEMAKER_BATCH_STRATEGY ("BOTH") must be MULTI_RECORD or SINGLE_RECORD',
        '  SAGEMAKER_MAX_CONCURRENT_TRANSFORMS ("0") must be an integer from 1 to 100',
        '  LOG_LEVEL ("chatty") must be one of debug, info, warn, error, silent',
        '  SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT ("text/html") must be text/csv, application/json or application/jsonlines',
        '  ML_CORE_MODEL_NAME "my model" must be 1-253 letters, digits, ".", "_" or "-", starting with a letter or digit',
      ].join("\n"),
    );
  });

  it.each([
    [undefined, "info"],
    ["DEBUG", "debug"],
    ["warning", "warn"],
    ["CRITICAL", "error"],
    ["silent", "silent"],
    ["verbose", undefined],
  ])("reads LOG_LEVEL %s as %s", (text, level) => {
    expect(parseLogLevel(text)).toBe(level);
  });
});
