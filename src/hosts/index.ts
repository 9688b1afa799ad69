/**
 * hosts/: what each host must be, made so over SSH (or locally) in as few round trips as
 * possible — transports, modules, facts, and the pass that plans and applies.
 */
export { CountingTransport } from "./batch.js";
export { driftEvents, driftOutcome, hostsOfEnvironment } from "./drift-events.js";
export { DriftWatch } from "./drift-watch.js";
export { HostError } from "./errors.js";
export { type Exec, readFileByExec, statByExec, writeFileByExec } from "./exec-file-ops.js";
export { comparableFacts, gatherFacts, type HostFacts, osName, parseFacts } from "./facts.js";
export {
  gatherHostFacts,
  type HostPassOptions,
  hasHosts,
  hostPass,
  parityReport,
} from "./host-pass.js";
export { connectDeclaredHost, connectHost, type PoolOutcome, withHosts } from "./host-pool.js";
export {
  type HostOutcome,
  type HostRunOptions,
  type ResourceOutcome,
  type ResourceStatus,
  runHosts,
} from "./host-run.js";
export { selectHosts } from "./host-targets.js";
export { LocalTransport, type LocalTransportOptions } from "./local/local-transport.js";
export type { FieldChange } from "./modules/module.js";
export { compareParity, type ParityFacts, type ParityRow } from "./parity.js";
export { quoteArgv } from "./quote.js";
export { unmetRequirements } from "./requirements.js";
export { checkHostKey } from "./ssh/host-key-check.js";
export { fingerprint, knownHostName, parseKnownHosts } from "./ssh/known-hosts.js";
export { type ConnectSshOptions, connectSsh } from "./ssh/ssh-connect.js";
export * from "./transport.js";
