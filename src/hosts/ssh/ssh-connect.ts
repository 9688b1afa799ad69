/**
 * Opening the one SSH connection Baton keeps per host: host key checked against known_hosts
 * before anything is sent, key/agent authentication, and through a jump host when the
 * inventory says so (the jump host's connection is opened first and tunnels the target's).
 */
import { readFileSync } from "node:fs";
import type { Readable } from "node:stream";
// ssh2 is CommonJS: its named exports are reached through the default one.
import ssh2, { type Algorithms, type Client, type ServerHostKeyAlgorithm } from "ssh2";
import type { HostSpec, SshHost, SshSettings } from "../../definition/host-model.js";
import { type Transport, TransportError } from "../transport.js";
import { checkHostKey, recordedKeyTypes } from "./host-key-check.js";
import { type Identity, loadIdentity } from "./identity.js";
import { type KnownHosts, parseKnownHosts } from "./known-hosts.js";
import { endClient, SshTransport } from "./ssh-transport.js";

export interface ConnectSshOptions {
  /** The inventory, where `jump:` names are looked up. */
  readonly inventory?: readonly HostSpec[];
  /** The agent's socket; SSH_AUTH_SOCK by default ("" for none). */
  readonly agent?: string;
}

/** Connects to the host (through its jump host, if any) and returns its transport. */
export async function connectSsh(
  host: SshHost,
  settings: SshSettings,
  options: ConnectSshOptions = {},
): Promise<Transport> {
  const identity = loadIdentity(
    host.name,
    settings.identityFile,
    options.agent ?? process.env.SSH_AUTH_SOCK,
  );
  const known = readKnownHosts(settings.knownHosts);
  const chain = jumpChain(host, options.inventory ?? []);
  const opened: Client[] = [];
  try {
    let sock: Readable | undefined;
    for (const [index, hop] of chain.entries()) {
      const isTarget = index === chain.length - 1;
      try {
        opened.push(await openClient(hop, settings, identity, known, sock));
      } catch (error) {
        if (isTarget || !(error instanceof TransportError)) throw error;
        throw new TransportError(
          "ssh.jump_failed",
          host.name,
          `cannot reach ${host.name} through jump host ${hop.name}: ${error.message}`,
          error.hint,
        );
      }
      if (!isTarget) {
        const next = chain[index + 1] as SshHost;
        sock = await forward(opened[index] as Client, host.name, hop.name, next);
      }
    }
    const client = opened.pop() as Client;
    const jumps = opened.splice(0);
    return new SshTransport(host.name, client, host.become, settings.commandTimeoutMs, () =>
      Promise.all(jumps.reverse().map(endClient)).then(() => {}),
    );
  } catch (error) {
    await Promise.all(opened.map(endClient));
    throw error;
  }
}

function readKnownHosts(file: string): KnownHosts {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    // A missing file knows no host: every key is then reported unknown, with the command
    // that creates it.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  return parseKnownHosts(text, file);
}

/** [first jump, …, host]: each hop is reached through the one before it. */
function jumpChain(host: SshHost, inventory: readonly HostSpec[]): SshHost[] {
  const chain: SshHost[] = [host];
  let current = host;
  while (current.jump !== undefined) {
    const jumpName = current.jump;
    const jump = inventory.find((candidate) => candidate.name === jumpName);
    if (jump === undefined || jump.connection !== "ssh") {
      throw new TransportError(
        "ssh.jump_failed",
        host.name,
        `${current.name} jumps through ${jumpName}, which is ${jump === undefined ? "not in the inventory" : "not an SSH host"}`,
        `set jump: to the name of an SSH host of the inventory`,
      );
    }
    if (chain.some((hop) => hop.name === jump.name)) {
      throw new TransportError(
        "ssh.jump_failed",
        host.name,
        `the jump hosts of ${host.name} loop: ${[...chain.map((hop) => hop.name)].reverse().join(" → ")} → ${jump.name}`,
        "make the jump: chain end at a host reached directly",
      );
    }
    chain.unshift(jump);
    current = jump;
  }
  return chain;
}

function forward(via: Client, target: string, jumpName: string, next: SshHost): Promise<Readable> {
  return new Promise((resolve, reject) => {
    via.forwardOut("127.0.0.1", 0, next.address, next.port, (error, stream) => {
      if (error) {
        reject(
          new TransportError(
            "ssh.jump_failed",
            target,
            `jump host ${jumpName} could not open a connection to ${next.address}:${next.port}: ${error.message}`,
            `check that ${jumpName} reaches ${next.address}:${next.port} (and that its sshd allows TCP forwarding)`,
          ),
        );
      } else resolve(stream);
    });
  });
}

// The host key types ssh2 can verify; a recorded type outside them cannot be offered.
const SUPPORTED_HOST_KEYS: Record<string, readonly ServerHostKeyAlgorithm[]> = {
  "ssh-ed25519": ["ssh-ed25519"],
  "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
  "ecdsa-sha2-nistp384": ["ecdsa-sha2-nistp384"],
  "ecdsa-sha2-nistp521": ["ecdsa-sha2-nistp521"],
  "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
};

/**
 * Offers only the key types known_hosts records for the host, as OpenSSH does: a host with an
 * ed25519 key on record is not asked for its RSA one (which would look unknown).
 */
function hostKeyAlgorithms(known: KnownHosts, hop: SshHost): Algorithms | undefined {
  const offered = recordedKeyTypes(known, hop.address, hop.port).flatMap(
    (type) => SUPPORTED_HOST_KEYS[type] ?? [],
  );
  return offered.length > 0 ? { serverHostKey: offered } : undefined;
}

function openClient(
  hop: SshHost,
  settings: SshSettings,
  identity: Identity,
  known: KnownHosts,
  sock: Readable | undefined,
): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let refusedKey: TransportError | undefined;
    const fail = (error: Error & { level?: string; code?: string }): void => {
      client.end();
      reject(refusedKey ?? connectError(hop, identity, error));
    };
    client.once("ready", () => {
      client.removeListener("error", fail);
      // From now on a failure shows as the connection closing, which its transport (or, for
      // a jump host, the connection tunnelled through it) reports; an unheard 'error' event
      // would end the process.
      client.on("error", () => {});
      // Commands are small request/answer exchanges: Nagle's delay would add to each.
      client.setNoDelay(true);
      resolve(client);
    });
    client.once("error", fail);
    const algorithms = hostKeyAlgorithms(known, hop);
    client.connect({
      host: hop.address,
      port: hop.port,
      username: hop.user,
      ...(sock !== undefined ? { sock } : {}),
      ...(identity.privateKey !== undefined ? { privateKey: identity.privateKey } : {}),
      ...(identity.agent !== undefined ? { agent: identity.agent } : {}),
      ...(algorithms !== undefined ? { algorithms } : {}),
      readyTimeout: settings.connectTimeoutMs,
      keepaliveInterval: 15_000,
      hostVerifier: (key: Buffer): boolean => {
        refusedKey = checkHostKey(hop.name, known, hop.address, hop.port, key);
        return refusedKey === undefined;
      },
    });
  });
}

const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

function connectError(
  hop: SshHost,
  identity: Identity,
  error: Error & { level?: string; code?: string },
): TransportError {
  const where = `${hop.address}:${hop.port}`;
  if (error.level === "client-authentication") {
    return new TransportError(
      "ssh.auth_failed",
      hop.name,
      `${where} refused user ${hop.user} with ${identity.description}`,
      `add the public key to ~${hop.user}/.ssh/authorized_keys on ${hop.name}, or fix the host's user: / ssh.identityFile`,
    );
  }
  const reason =
    error.level === "client-timeout"
      ? "no SSH handshake in time"
      : error.code !== undefined && UNREACHABLE.has(error.code)
        ? error.code
        : error.message;
  return new TransportError(
    "ssh.unreachable",
    hop.name,
    `cannot connect to ${hop.name} at ${where}: ${reason}`,
    `check that ${hop.name} is up and its sshd listens on ${where} (or fix address:/port: in the inventory)`,
  );
}
