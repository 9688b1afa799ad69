export { diff } from "./diff.js";
export { PlanError, type PlanErrorCode } from "./errors.js";
export {
  type ExecuteOptions,
  type ExecutionResult,
  execute,
  type StepEvent,
  type StepResult,
  type StepRunner,
  type StepStatus,
} from "./executor.js";
export { findCycle } from "./graph.js";
export {
  buildPlan,
  hasWork,
  type Plan,
  type PlanStep,
  planSummary,
  withFieldChanges,
} from "./plan.js";
export { planJson } from "./plan-json.js";
export {
  type Change,
  type ChangeType,
  type DesiredResource,
  type FieldChange,
  keyString,
  type ObservedResource,
  type ResourceKey,
} from "./resource.js";
