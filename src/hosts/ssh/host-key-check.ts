/**
 * The decision on a host's key: trusted only when known_hosts records exactly that key for
 * that address and port. Anything else is refused with the fingerprint and what to do — a
 * new key is never trusted silently, and a changed one is reported loudly.
 */
import { TransportError } from "../transport.js";
import { fingerprint, type KnownHosts, keyType, knownHostName } from "./known-hosts.js";

/** `ed25519` for `ssh-ed25519`, as `ssh-keyscan -t` spells it. */
function keyscanType(type: string): string {
  if (type === "ssh-ed25519") return "ed25519";
  if (type === "ssh-rsa") return "rsa";
  if (type.startsWith("ecdsa-")) return "ecdsa";
  return type;
}

/** The key types recorded for the host, to offer only those in the key exchange (as OpenSSH does). */
export function recordedKeyTypes(known: KnownHosts, address: string, port: number): string[] {
  const types = known
    .lookup(address, port)
    .filter((key) => !key.revoked)
    .map((key) => key.type);
  return [...new Set(types)];
}

/** Undefined when the key is trusted; otherwise the error to fail the connection with. */
export function checkHostKey(
  host: string,
  known: KnownHosts,
  address: string,
  port: number,
  presented: Buffer,
): TransportError | undefined {
  const recorded = known.lookup(address, port);
  const name = knownHostName(address, port);
  const type = keyType(presented);
  const print = fingerprint(presented);
  const revoked = recorded.find((key) => key.revoked && key.key.equals(presented));
  if (revoked !== undefined) {
    return new TransportError(
      "ssh.changed_host_key",
      host,
      `${name} offered a REVOKED ${type} key ${print} (${known.file}:${revoked.line} marks it @revoked); nothing was run`,
      "the host's key must be replaced on the host itself; do not trust this key",
    );
  }
  const live = recorded.filter((key) => !key.revoked);
  if (live.some((key) => key.key.equals(presented))) return undefined;
  const sameType = live.filter((key) => key.type === type);
  if (sameType.length > 0) {
    const old = sameType.map((key) => `${fingerprint(key.key)} (${known.file}:${key.line})`);
    return new TransportError(
      "ssh.changed_host_key",
      host,
      `WARNING: the host key of ${name} has CHANGED: it offered ${type} ${print}, but ${old.join(", ")} is recorded. Someone may be intercepting the connection (or the host was reinstalled); nothing was run`,
      `confirm the new fingerprint on the host itself (ssh-keygen -lf /etc/ssh/${hostKeyFile(type)}), then remove the old key: ssh-keygen -R '${name}' -f ${known.file}, and trust the new one: ssh-keyscan -p ${port} -t ${keyscanType(type)} ${address} >> ${known.file}`,
    );
  }
  return new TransportError(
    "ssh.unknown_host_key",
    host,
    `the host key of ${name} is not in ${known.file}: it offered ${type} ${print}; nothing was run`,
    `compare ${print} with the host's own fingerprint (ssh-keygen -lf /etc/ssh/${hostKeyFile(type)} on it), then trust it: ssh-keyscan -p ${port} -t ${keyscanType(type)} ${address} >> ${known.file}`,
  );
}

function hostKeyFile(type: string): string {
  return `ssh_host_${keyscanType(type)}_key.pub`;
}
