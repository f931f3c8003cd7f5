// The service limits live in the contract package (shared with ml-deploy); this module keeps the
// infra import path the components use.
export {
  BLUE_GREEN_LIMITS,
  CLOUDWATCH_LOG_RETENTION_DAYS,
  MODEL_LATENCY_UNITS_PER_MS,
  SERVERLESS_LIMITS,
  SERVERLESS_UNSUPPORTED,
  hasLocalInstanceStorage,
} from "@ml-platform/contract";
