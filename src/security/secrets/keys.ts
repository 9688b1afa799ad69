/**
 * Where an environment's private key lives, outside git: `BATON_AGE_KEY` (the key's text),
 * `BATON_AGE_KEY_FILE`, or `~/.config/baton/keys/<env>.age` (folder 0700, file 0600). Key
 * files are written as `age-keygen` writes them, so `age -d -i FILE` reads them too.
 */
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { generateKeyPair, type KeyPair, recipientOf } from "./age.js";
import { SecretsError } from "./errors.js";

export type KeyEnv = Readonly<Record<string, string | undefined>>;

/** Where the key of `environment` is read from: the variable, or a file. */
export type KeyPlace =
  | { readonly kind: "variable" }
  | { readonly kind: "file"; readonly path: string };

export function keyPlace(environment: string, env: KeyEnv = process.env): KeyPlace {
  if (env.BATON_AGE_KEY !== undefined && env.BATON_AGE_KEY.trim() !== "") {
    return { kind: "variable" };
  }
  if (env.BATON_AGE_KEY_FILE !== undefined && env.BATON_AGE_KEY_FILE !== "") {
    return { kind: "file", path: env.BATON_AGE_KEY_FILE };
  }
  const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return { kind: "file", path: join(config, "baton", "keys", `${environment}.age`) };
}

export function describePlace(place: KeyPlace): string {
  return place.kind === "variable" ? "$BATON_AGE_KEY" : place.path;
}

/** The key pair of `environment`, or undefined when there is none where it is looked for. */
export async function readKeyPair(
  environment: string,
  env: KeyEnv = process.env,
): Promise<KeyPair | undefined> {
  const place = keyPlace(environment, env);
  let text: string;
  if (place.kind === "variable") text = env.BATON_AGE_KEY ?? "";
  else {
    try {
      text = readFileSync(place.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new SecretsError(
        "secrets.key_unreadable",
        `the key of environment ${environment} at ${place.path} cannot be read: ${(error as Error).message}`,
        "run Baton as the user who owns the key, or point BATON_AGE_KEY_FILE at a readable copy",
      );
    }
  }
  return pairFrom(text, describePlace(place));
}

/**
 * The key pairs `baton secret rotate-key` kept beside the current key file (`<file>.old-*`),
 * the newest first: what state sealed before a rotation (a stored definition, the secrets
 * file of the last apply) was encrypted to. None when the key comes from $BATON_AGE_KEY.
 */
export async function keptKeyPairs(
  environment: string,
  env: KeyEnv = process.env,
): Promise<KeyPair[]> {
  const place = keyPlace(environment, env);
  if (place.kind === "variable") return [];
  const prefix = `${basename(place.path)}.old-`;
  let names: string[];
  try {
    names = readdirSync(dirname(place.path)).filter((name) => name.startsWith(prefix));
  } catch {
    return [];
  }
  const pairs: KeyPair[] = [];
  // The stamp is an ISO time: the names sort by when the key was replaced.
  for (const name of names.sort().reverse()) {
    const path = join(dirname(place.path), name);
    try {
      pairs.push(await pairFrom(readFileSync(path, "utf8"), path));
    } catch {
      // An unreadable or foreign file beside the key is not a key to try.
    }
  }
  return pairs;
}

async function pairFrom(text: string, shown: string): Promise<KeyPair> {
  const identity = text
    .split("\n")
    .map((line) => line.trim())
    .find((line) => line.startsWith("AGE-SECRET-KEY-1"));
  if (identity === undefined) {
    throw new SecretsError(
      "secrets.key_invalid",
      `${shown} holds no X25519 age key (a line starting AGE-SECRET-KEY-1)`,
      "give the key file `age-keygen` wrote, or the one `baton secret set` made",
    );
  }
  return { identity, recipient: await recipientOf(identity) };
}

/** The key pair of `environment`, made and written where it is looked for when missing. */
export async function ensureKeyPair(
  environment: string,
  env: KeyEnv = process.env,
): Promise<{ pair: KeyPair; created: string | undefined }> {
  const existing = await readKeyPair(environment, env);
  if (existing !== undefined) return { pair: existing, created: undefined };
  const place = keyPlace(environment, env);
  if (place.kind === "variable") throw new Error("bug: BATON_AGE_KEY is set but was not read");
  const pair = await generateKeyPair();
  if (!writeKeyFile(place.path, pair)) {
    // Another process made it between our read and write: theirs is the key.
    const theirs = await readKeyPair(environment, env);
    if (theirs !== undefined) return { pair: theirs, created: undefined };
  }
  return { pair, created: place.path };
}

/**
 * A new key pair for `environment`, in place of the current one, which is kept beside it as
 * `<file>.old-<time>` (never overwritten) until every copy of the secrets is re-encrypted.
 */
export async function replaceKeyPair(
  environment: string,
  now: Date,
  env: KeyEnv = process.env,
): Promise<{ pair: KeyPair; path: string; kept: string | undefined }> {
  const place = keyPlace(environment, env);
  if (place.kind === "variable") {
    throw new SecretsError(
      "secrets.key_in_variable",
      `the key of environment ${environment} comes from $BATON_AGE_KEY, which Baton cannot rewrite`,
      "save the key to a file, unset BATON_AGE_KEY and set BATON_AGE_KEY_FILE to it, then rotate again",
    );
  }
  const pair = await generateKeyPair();
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  let kept: string | undefined = `${place.path}.old-${stamp}`;
  try {
    renameSync(place.path, kept);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    kept = undefined;
  }
  if (!writeKeyFile(place.path, pair))
    throw new Error(`bug: ${place.path} appeared during rotation`);
  return { pair, path: place.path, kept };
}

/** Writes a new key file (never over one); false when one is already there. */
function writeKeyFile(path: string, pair: KeyPair): boolean {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    writeSync(
      fd,
      `# created: ${new Date().toISOString()}\n# public key: ${pair.recipient}\n${pair.identity}\n`,
    );
  } finally {
    closeSync(fd);
  }
  // The umask may have narrowed the mode; it must be exactly this.
  chmodSync(path, 0o600);
  return true;
}
