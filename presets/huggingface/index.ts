export { isHuggingFaceModelId, HF_ID_MAX } from "./ids.ts";
export { HuggingFaceError, isHuggingFaceError, type HuggingFaceErrorCode } from "./errors.ts";
export {
  estimateParameters,
  huggingFacePreset,
  parseModelInfo,
  readConfig,
  type ConfigShape,
  type ModelInfo,
} from "./config.ts";
export {
  DEFAULT_HF_ENDPOINT,
  HuggingFaceHub,
  type HuggingFaceHubOptions,
  type HuggingFaceSource,
  type ModelRequest,
} from "./hub.ts";
