export { type Exec, readFileByExec, statByExec, writeFileByExec } from "./exec-file-ops.js";
export { comparableFacts, gatherFacts, type HostFacts, osName, parseFacts } from "./facts.js";
export { connectHost, type HostOutcome, withHosts } from "./host-pool.js";
export { LocalTransport, type LocalTransportOptions } from "./local/local-transport.js";
export { checkHostKey } from "./ssh/host-key-check.js";
export { fingerprint, knownHostName, parseKnownHosts } from "./ssh/known-hosts.js";
export { type ConnectSshOptions, connectSsh } from "./ssh/ssh-connect.js";
export * from "./transport.js";
