// Service limits the commands check before calling AWS, so a bad value fails with a message that
// names the setting rather than a ValidationException. They live, with their sources, in the
// contract package, beside the instance-storage rule the endpoint and the policy pack use too.
export {
  CLIENT_TOKEN_LENGTH,
  CUSTOMER_METADATA,
  DESCRIPTION_MAX_LENGTH,
  HYPERPARAMETERS,
  PUT_OBJECT_MAX_BYTES,
  TAGS,
  TRAINING_JOB_NAME,
  TRAINING_RETRY_ATTEMPTS,
  hasLocalInstanceStorage as hasInstanceStorage,
} from "@ml-platform/contract";
