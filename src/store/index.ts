export type { AlertStore, StoredAlertRecord } from "./alert-store.js";
export type { AuditStore, NewAuditEntry } from "./audit-store.js";
export { BlobFiles } from "./blob-files.js";
export { BlobStore, MAX_BLOB_BYTES, type PutResult } from "./blob-store.js";
export { StateError, type StateErrorCode } from "./errors.js";
export type { AppliedHostResource, HostStore, StoredFacts } from "./host-store.js";
export { LATEST_SCHEMA_VERSION } from "./migrations.js";
export type {
  DesiredRelease,
  NewRelease,
  ReleaseKind,
  ReleaseRecord,
  ReleaseStore,
} from "./release-store.js";
export type { AppRevisionRecord, RevisionPin, RolloutStore } from "./rollout-store.js";
export type {
  FinishedRun,
  NewRun,
  RunPruned,
  RunRecord,
  RunState,
  RunStore,
  RunTrigger,
  StepKind,
  StepPatch,
  StepRecord,
  StepState,
  TestCounts,
} from "./run-store.js";
export {
  type ClaimResult,
  type OpenOptions,
  type ReplicaPatch,
  SqliteStore,
} from "./sqlite-store.js";
export type {
  ControllerRecord,
  EventQuery,
  EventRecord,
  GenerationRecord,
  NewEvent,
  ReplicaRecord,
  ReplicaState,
} from "./store.js";
export { readShippedDefinition, type ShippedDefinition } from "./stored-definition.js";
export type { NewToken, StoredToken, TokenStore } from "./token-store.js";
