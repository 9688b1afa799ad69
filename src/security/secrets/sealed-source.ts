/**
 * The definition's text as state.db keeps it (`revisions.source`): encrypted to the
 * environment's key, so that secret file contents and webhook URLs written in it are not
 * readable from the state, while a restarted controller (which holds the key) still reads
 * back the generation it last applied. The key is made on first use like `baton secret set`
 * makes it, in the same place, so one key pair serves the environment.
 */
import { decryptWith, encryptTo, isArmored } from "./age.js";
import { SecretsError } from "./errors.js";
import {
  describePlace,
  ensureKeyPair,
  type KeyEnv,
  keptKeyPairs,
  keyPlace,
  readKeyPair,
} from "./keys.js";
import { DEFAULT_ENVIRONMENT } from "./secrets-file.js";

export async function sealSource(
  source: string,
  environment: string | undefined,
  env: KeyEnv = process.env,
): Promise<string> {
  const { pair } = await ensureKeyPair(environment ?? DEFAULT_ENVIRONMENT, env);
  if (lastSealed?.recipient === pair.recipient && lastSealed.source === source) {
    return lastSealed.sealed;
  }
  const sealed = await encryptTo(pair.recipient, source);
  lastSealed = { recipient: pair.recipient, source, sealed };
  return sealed;
}

/**
 * The last text sealed by this process: most applies send the text the controller already
 * runs (a redeploy, a pipeline's apply of an unchanged file), and sealing costs two X25519
 * multiplications. Equal text to the same key may share one ciphertext.
 */
let lastSealed: { recipient: string; source: string; sealed: string } | undefined;

/** The text `sealSource` sealed; text stored before sealing existed is returned as it is. */
export async function unsealSource(
  stored: string,
  environment: string | undefined,
  env: KeyEnv = process.env,
): Promise<string> {
  if (!isArmored(stored)) return stored;
  const name = environment ?? DEFAULT_ENVIRONMENT;
  const pair = await readKeyPair(name, env);
  const place = describePlace(keyPlace(name, env));
  if (pair === undefined) {
    throw new SecretsError(
      "secrets.no_key",
      `the stored definition is encrypted to environment ${name}'s key, and there is none at ${place}`,
      "restore the key there (or set BATON_AGE_KEY_FILE), or apply the definition again",
    );
  }
  // Sealed before `baton secret rotate-key`: the kept old key reads it, and the next apply
  // seals the new generation with the current key.
  for (const candidate of [pair, ...(await keptKeyPairs(name, env))]) {
    try {
      return await decryptWith(candidate.identity, stored);
    } catch {
      // Not this key: the next one.
    }
  }
  throw new SecretsError(
    "secrets.wrong_key",
    `the stored definition was encrypted to another key than the one at ${place} (or the old keys kept beside it)`,
    "restore the key it was sealed with, or apply the definition again",
  );
}
