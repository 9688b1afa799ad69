/**
 * The known_hosts file, read the way OpenSSH reads it: host patterns (`host`, `[host]:port`,
 * comma lists, `*`/`?` wildcards, `!` negation), hashed names (`|1|salt|hash`, HMAC-SHA1 of
 * the name), and the `@revoked` marker. `@cert-authority` lines are not supported (Baton does
 * not verify host certificates) and are ignored, which can only refuse a host, never trust one.
 */
import { createHash, createHmac } from "node:crypto";

export interface KnownHostKey {
  /** e.g. `ssh-ed25519`. */
  readonly type: string;
  /** The key blob (what the base64 field decodes to). */
  readonly key: Buffer;
  readonly revoked: boolean;
  /** 1-based, for messages. */
  readonly line: number;
}

interface Entry extends KnownHostKey {
  readonly patterns: string;
}

export interface KnownHosts {
  readonly file: string;
  /** The keys recorded for `address` on `port` (revoked ones included, flagged). */
  lookup(address: string, port: number): KnownHostKey[];
}

/** The name OpenSSH records for an address: `address` on 22, `[address]:port` otherwise. */
export function knownHostName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** `SHA256:` and the unpadded base64 of the key blob's SHA-256, as `ssh-keygen -lf` prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/** The key type named inside a key blob (its first SSH string). */
export function keyType(key: Buffer): string {
  if (key.length < 4) return "unknown";
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString("latin1");
}

export function parseKnownHosts(text: string, file: string): KnownHosts {
  const entries: Entry[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0]?.startsWith("@")) {
      const marker = fields.shift();
      if (marker === "@revoked") revoked = true;
      else return; // @cert-authority: not supported, see above
    }
    const [patterns, type, base64] = fields;
    if (patterns === undefined || type === undefined || base64 === undefined) return;
    const key = Buffer.from(base64, "base64");
    // A malformed line is skipped as OpenSSH skips it: it can never match a real key.
    if (key.length === 0 || keyType(key) !== type) return;
    entries.push({ patterns, type, key, revoked, line: index + 1 });
  });
  return {
    file,
    lookup(address, port) {
      const name = knownHostName(address, port);
      return entries
        .filter((entry) => matchesHost(entry.patterns, name))
        .map(({ type, key, revoked, line }) => ({ type, key, revoked, line }));
    },
  };
}

/** Whether a host field (`|1|…` or a comma list of patterns) names `name`. */
export function matchesHost(field: string, name: string): boolean {
  if (field.startsWith("|1|")) return matchesHashed(field, name);
  let matched = false;
  for (const pattern of field.split(",")) {
    const negated = pattern.startsWith("!");
    const body = negated ? pattern.slice(1) : pattern;
    if (!wildcard(body.toLowerCase(), name.toLowerCase())) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function matchesHashed(field: string, name: string): boolean {
  const [, , salt, hash] = field.split("|");
  if (salt === undefined || hash === undefined) return false;
  const digest = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64");
  return digest === hash;
}

function wildcard(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === name;
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${regex}$`).test(name);
}
