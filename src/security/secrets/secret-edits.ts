/**
 * What `baton secret set/rm/rotate-key` do to an environment's secrets file: read it, change
 * one entry (or re-encrypt all of them), write it back atomically. Setting needs only the
 * public recipient the file names; the key pair is made when the environment has none yet.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { decryptWith, encryptTo } from "./age.js";
import { SecretsError } from "./errors.js";
import {
  describePlace,
  ensureKeyPair,
  type KeyEnv,
  keyPlace,
  readKeyPair,
  replaceKeyPair,
} from "./keys.js";
import {
  formatSecretsFile,
  parseSecretsFile,
  SECRET_NAME_PATTERN,
  type SecretsFile,
} from "./secrets-file.js";

export interface SecretsPlace {
  readonly environment: string;
  /** Absolute path of `secrets/<env>.age.yaml`. */
  readonly file: string;
  /** The file as shown to the user. */
  readonly shown: string;
}

/** The file's content; undefined when there is none yet. */
export function readSecrets(place: SecretsPlace): SecretsFile | undefined {
  let text: string;
  try {
    text = readFileSync(place.file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  return parseSecretsFile(text, place.shown);
}

export async function setSecret(
  place: SecretsPlace,
  name: string,
  value: string,
  by: string,
  now: Date,
  env: KeyEnv = process.env,
): Promise<{ createdKey: string | undefined; recipient: string; replaced: boolean }> {
  checkName(name);
  if (value === "") {
    throw new SecretsError(
      "secrets.empty_value",
      `the value given for secret ${name} is empty`,
      "pipe the value on stdin (`printf %s VALUE | baton secret set NAME`) or pass --from-file FILE",
    );
  }
  const current = readSecrets(place);
  let createdKey: string | undefined;
  let recipient = current?.recipient;
  if (recipient === undefined) {
    const made = await ensureKeyPair(place.environment, env);
    createdKey = made.created;
    recipient = made.pair.recipient;
  }
  const secrets = { ...(current?.secrets ?? {}) };
  const replaced = secrets[name] !== undefined;
  secrets[name] = {
    value: await encryptTo(recipient, value),
    changedBy: by,
    changedAt: now.toISOString(),
  };
  writeSecrets(place, { recipient, secrets });
  return { createdKey, recipient, replaced };
}

export function removeSecret(place: SecretsPlace, name: string): void {
  const current = readSecrets(place);
  if (current?.secrets[name] === undefined) {
    const known = Object.keys(current?.secrets ?? {});
    throw new SecretsError(
      "secrets.not_found",
      `${place.shown} holds no secret named ${JSON.stringify(name)}`,
      known.length === 0 ? "nothing to remove" : `it holds ${known.join(", ")}`,
    );
  }
  const { [name]: _removed, ...rest } = current.secrets;
  writeSecrets(place, { recipient: current.recipient, secrets: rest });
}

/**
 * A new key pair for the environment, every secret re-encrypted to it. Everything is
 * decrypted before the key is replaced, so a key that cannot read the file changes nothing;
 * the old key is kept beside the new one.
 */
export async function rotateKey(
  place: SecretsPlace,
  now: Date,
  env: KeyEnv = process.env,
): Promise<{ path: string; kept: string | undefined; recipient: string; count: number }> {
  const current = readSecrets(place);
  const values = new Map<string, string>();
  if (current !== undefined && Object.keys(current.secrets).length > 0) {
    const pair = await readKeyPair(place.environment, env);
    const where = describePlace(keyPlace(place.environment, env));
    if (pair === undefined || pair.recipient !== current.recipient) {
      throw new SecretsError(
        pair === undefined ? "secrets.no_key" : "secrets.wrong_key",
        pair === undefined
          ? `rotating the key of ${place.environment} needs its current key, and there is none at ${where}`
          : `the key at ${where} (${pair.recipient}) is not the key of ${place.shown} (${current.recipient})`,
        "run the rotation where the environment's current private key is",
      );
    }
    for (const [name, entry] of Object.entries(current.secrets)) {
      values.set(name, await decryptWith(pair.identity, entry.value));
    }
  }
  const { pair, path, kept } = await replaceKeyPair(place.environment, now, env);
  if (current !== undefined) {
    const secrets: SecretsFile["secrets"] = Object.fromEntries(
      await Promise.all(
        Object.entries(current.secrets).map(async ([name, entry]) => [
          name,
          { ...entry, value: await encryptTo(pair.recipient, values.get(name) ?? "") },
        ]),
      ),
    );
    writeSecrets(place, { recipient: pair.recipient, secrets });
  }
  return { path, kept, recipient: pair.recipient, count: values.size };
}

function writeSecrets(place: SecretsPlace, content: SecretsFile): void {
  mkdirSync(dirname(place.file), { recursive: true });
  const temporary = `${place.file}.${process.pid}.tmp`;
  writeFileSync(temporary, formatSecretsFile(content, place.environment));
  renameSync(temporary, place.file);
}

function checkName(name: string): void {
  if (SECRET_NAME_PATTERN.test(name)) return;
  throw new SecretsError(
    "secrets.invalid_name",
    `${JSON.stringify(name)} is not a valid secret name: use letters, digits, ., _ and -, starting with a letter or digit`,
    "e.g. `baton secret set db-password`",
  );
}
