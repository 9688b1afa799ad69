/**
 * Work on many hosts at once, a bounded number at a time: each host gets its own connection
 * for the whole of `fn`, and a host that fails (to connect, or in `fn`) fails alone while the
 * others go on.
 */
import type { HostSpec, HostsDefinition, SshSettings } from "../definition/host-model.js";
import { LocalTransport } from "./local/local-transport.js";
import { type ConnectSshOptions, connectSsh } from "./ssh/ssh-connect.js";
import type { Transport } from "./transport.js";

export type PoolOutcome<T> =
  | { readonly host: string; readonly ok: true; readonly value: T }
  | { readonly host: string; readonly ok: false; readonly error: Error };

/** A transport to one host: SSH, or this machine for `connection: local`. */
export function connectHost(
  host: HostSpec,
  settings: SshSettings,
  options: ConnectSshOptions = {},
): Promise<Transport> {
  if (host.connection === "local") {
    return Promise.resolve(
      new LocalTransport(host.name, {
        become: host.become,
        commandTimeoutMs: settings.commandTimeoutMs,
      }),
    );
  }
  return connectSsh(host, settings, options);
}

/** A transport to one host of a definition's inventory (where its jump hosts are found). */
export function connectDeclaredHost(host: HostSpec, hosts: HostsDefinition): Promise<Transport> {
  return connectHost(host, hosts.ssh, { inventory: Object.values(hosts.hosts) });
}

/**
 * Runs fn on each host, at most `parallel` at once, and resolves with one outcome per host
 * in the order given (never rejects). Jump hosts are looked up among `hosts` unless
 * `options.inventory` is given.
 */
export async function withHosts<T>(
  hosts: readonly HostSpec[],
  settings: SshSettings,
  parallel: number,
  fn: (transport: Transport, host: HostSpec) => Promise<T>,
  options: ConnectSshOptions = {},
): Promise<PoolOutcome<T>[]> {
  const connectOptions = { ...options, inventory: options.inventory ?? hosts };
  const outcomes: PoolOutcome<T>[] = new Array(hosts.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < hosts.length) {
      const index = next++;
      const host = hosts[index] as HostSpec;
      outcomes[index] = await runOne(host, settings, fn, connectOptions);
    }
  };
  const workers = Math.max(1, Math.min(parallel, hosts.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return outcomes;
}

async function runOne<T>(
  host: HostSpec,
  settings: SshSettings,
  fn: (transport: Transport, host: HostSpec) => Promise<T>,
  options: ConnectSshOptions,
): Promise<PoolOutcome<T>> {
  let transport: Transport | undefined;
  try {
    transport = await connectHost(host, settings, options);
    const value = await fn(transport, host);
    return { host: host.name, ok: true, value };
  } catch (error) {
    return {
      host: host.name,
      ok: false,
      error: error instanceof Error ? error : new Error(String(error)),
    };
  } finally {
    await transport?.close().catch(() => {});
  }
}
