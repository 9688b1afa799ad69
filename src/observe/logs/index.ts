export { fieldText, lineFields } from "./line-fields.js";
export {
  compilePattern,
  type FieldCondition,
  type LogFilter,
  LogFilterError,
  parseCondition,
  passes,
} from "./log-filter.js";
export { type LogRecord, parseRecordJson, recordJson } from "./log-record.js";
export { mergeByTime } from "./merge-by-time.js";
export { mergeByTimeAsync } from "./merge-by-time-async.js";
export { secretMasker } from "./secret-masker.js";
