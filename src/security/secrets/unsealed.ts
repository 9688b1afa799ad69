/**
 * A definition's secrets decrypted on the controller, in memory only. What records and
 * revisions get instead of a value is its keyed digest: HMAC-SHA256 under a random key of
 * the state directory, so an equal value gives an equal revision, a changed one a new
 * revision, and a digest read from state.db cannot be tested against guesses elsewhere.
 */
import { createHmac, randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { SecretsAnswer } from "../../api/secrets.js";
import type { AppSpec, Definition } from "../../definition/index.js";
import { decryptWith } from "./age.js";
import { SecretsError } from "./errors.js";
import { describePlace, type KeyEnv, keptKeyPairs, keyPlace, readKeyPair } from "./keys.js";

const DIGEST_LENGTH = 16;
const SALT_FILE = "secret-digest.key";

export class SecretValues {
  static readonly none = new SecretValues(new Map());

  constructor(private readonly values: ReadonlyMap<string, string>) {}

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  /** Every value, for maskers. */
  all(): string[] {
    return [...this.values.values()];
  }

  get size(): number {
    return this.values.size;
  }
}

/** The secrets a definition names, decrypted with its environment's key. */
export async function unsealSecrets(
  definition: Definition,
  env: KeyEnv = process.env,
): Promise<SecretValues> {
  const secrets = definition.secrets;
  if (secrets === undefined || !usesSecrets(definition)) return SecretValues.none;
  const environment = secrets.environment;
  const current = await readKeyPair(environment, env);
  const place = describePlace(keyPlace(environment, env));
  // A stored definition applied before `baton secret rotate-key` carries the secrets file
  // of then, encrypted to the key the rotation kept beside the new one.
  const pair =
    current === undefined || current.recipient === secrets.content.recipient
      ? current
      : ((await keptKeyPairs(environment, env)).find(
          (kept) => kept.recipient === secrets.content.recipient,
        ) ?? current);
  if (pair === undefined) {
    throw new SecretsError(
      "secrets.no_key",
      `the definition uses secrets of environment ${environment}, and this controller has no key for it at ${place}`,
      `copy the key made by \`baton secret set\` to ${place} (mode 0600), or set BATON_AGE_KEY_FILE`,
    );
  }
  if (pair.recipient !== secrets.content.recipient) {
    throw new SecretsError(
      "secrets.wrong_key",
      `the key at ${place} (${pair.recipient}) is not the key of ${secrets.file} (${secrets.content.recipient})`,
      "give this controller the key the secrets were encrypted to (after `baton secret rotate-key`, the new one)",
    );
  }
  const values = new Map<string, string>();
  // All of them, not only those used now: a rollback may start a revision that used another.
  for (const [name, entry] of Object.entries(secrets.content.secrets)) {
    try {
      values.set(name, await decrypted(pair.identity, entry.value));
    } catch {
      throw new SecretsError(
        "secrets.undecryptable",
        `secret ${name} of ${secrets.file} cannot be decrypted with the key at ${place}`,
        `set it again: \`baton secret set ${name}${environment === "default" ? "" : ` --env ${environment}`}\``,
      );
    }
  }
  return new SecretValues(values);
}

/**
 * Values already decrypted by this process, by key and ciphertext: an X25519 decryption
 * costs milliseconds in JavaScript, and an apply that changes no secret should pay none.
 * Held in memory only, like the values themselves.
 */
const decryptions = new Map<string, string>();
const MAX_DECRYPTIONS = 1_000;

async function decrypted(identity: string, armored: string): Promise<string> {
  const key = createHmac("sha256", identity).update(armored).digest("hex");
  const known = decryptions.get(key);
  if (known !== undefined) return known;
  const value = await decryptWith(identity, armored);
  if (decryptions.size >= MAX_DECRYPTIONS) decryptions.clear();
  decryptions.set(key, value);
  return value;
}

/** The definition with each app's secret digests filled in: what its revision is made of. */
export function withSecretDigests(
  definition: Definition,
  values: SecretValues,
  digestKey: Buffer,
): Definition {
  if (!usesSecrets(definition)) return definition;
  const apps: Record<string, AppSpec> = {};
  for (const [name, app] of Object.entries(definition.apps)) {
    const used = secretsOfApp(app);
    if (used.length === 0) {
      apps[name] = app;
      continue;
    }
    const secretDigests: Record<string, string> = {};
    for (const secret of used) {
      const value = values.get(secret);
      if (value === undefined)
        throw new Error(`bug: secret ${secret} of ${name} was checked but not decrypted`);
      secretDigests[secret] = createHmac("sha256", digestKey)
        .update(`${secret}\0${value}`)
        .digest("hex")
        .slice(0, DIGEST_LENGTH);
    }
    apps[name] = Object.freeze({ ...app, secretDigests });
  }
  return Object.freeze({ ...definition, apps });
}

/** The environment a replica of `app` gets from secrets: variable → value. */
export function secretEnvOf(app: AppSpec, values: SecretValues): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [variable, secret] of Object.entries(app.secretEnv ?? {})) {
    const value = values.get(secret);
    if (value === undefined) {
      throw new SecretsError(
        "secrets.missing",
        `${app.name}: secret ${secret} (for ${variable}) is not among the applied definition's secrets`,
        `set it with \`baton secret set ${secret}\` and apply again`,
      );
    }
    env[variable] = value;
  }
  return env;
}

/** The secrets an app's replicas receive. */
export function secretsOfApp(app: AppSpec): string[] {
  const files = Object.values(app.secretFiles ?? {}).map((file) => file.secret);
  return [...new Set([...Object.values(app.secretEnv ?? {}), ...files])].sort();
}

function usesSecrets(definition: Definition): boolean {
  return usedSecrets(definition).size > 0;
}

/** Every secret the definition names: apps, host files, notifiers. */
export function usedSecrets(definition: Definition): Set<string> {
  const used = new Set<string>();
  for (const app of Object.values(definition.apps)) for (const s of secretsOfApp(app)) used.add(s);
  for (const decls of Object.values(definition.hosts.resources)) {
    for (const { resource } of decls) {
      if (resource.module === "file" && resource.contentSecret !== undefined) {
        used.add(resource.contentSecret);
      }
    }
  }
  for (const notifier of Object.values(definition.alerting?.notifiers ?? {})) {
    for (const secret of Object.values(notifier.secretFields ?? {})) used.add(secret);
  }
  if (definition.registryAuth !== undefined) used.add(definition.registryAuth.passwordSecret);
  return used;
}

/**
 * The definition with the values of host files and notifiers that name a secret filled in:
 * those reach the world as plain strings (a file's bytes, a URL), so the model holds them in
 * the controller's memory. Host files from secrets are `secret: true`: their content is in no
 * record, plan or event.
 */
export function withSecretValues(definition: Definition, values: SecretValues): Definition {
  if (values.size === 0) return definition;
  const secretValue = (name: string): string => {
    const value = values.get(name);
    if (value === undefined) throw new Error(`bug: secret ${name} was checked but not decrypted`);
    return value;
  };
  const resources = Object.fromEntries(
    Object.entries(definition.hosts.resources).map(([host, decls]) => [
      host,
      decls.map((decl) =>
        decl.resource.module === "file" && decl.resource.contentSecret !== undefined
          ? {
              ...decl,
              resource: { ...decl.resource, content: secretValue(decl.resource.contentSecret) },
            }
          : decl,
      ),
    ]),
  );
  const alerting = definition.alerting;
  const notifiers =
    alerting === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(alerting.notifiers).map(([name, notifier]) => {
            const { "email.password": password, ...fields } = notifier.secretFields ?? {};
            const filled = Object.fromEntries(
              Object.entries(fields).map(([field, secret]) => [field, secretValue(secret)]),
            );
            const email =
              password === undefined || !("email" in notifier)
                ? {}
                : { email: { ...notifier.email, password: secretValue(password) } };
            return [name, { ...notifier, ...filled, ...email }];
          }),
        );
  const auth = definition.registryAuth;
  return {
    ...definition,
    ...(auth === undefined
      ? {}
      : { registryAuth: { ...auth, password: secretValue(auth.passwordSecret) } }),
    hosts: { ...definition.hosts, resources },
    ...(alerting === undefined || notifiers === undefined
      ? {}
      : { alerting: { ...alerting, notifiers } }),
  };
}

/**
 * The login for `registry:` with its password decrypted, for the engine's X-Registry-Auth:
 * from the model when the controller already filled it, else decrypted here (a client that
 * builds where the source is holds the environment's key too).
 */
export async function registryLogin(
  definition: Definition,
  env: KeyEnv = process.env,
): Promise<{ username: string; password: string } | undefined> {
  const auth = definition.registryAuth;
  if (auth === undefined) return undefined;
  const password = auth.password ?? (await unsealSecrets(definition, env)).get(auth.passwordSecret);
  if (password === undefined) {
    throw new SecretsError(
      "secrets.missing",
      `registry: secret ${auth.passwordSecret} (its password) is not among the definition's secrets`,
      `set it with \`baton secret set ${auth.passwordSecret}\` and try again`,
    );
  }
  return { username: auth.username, password };
}

export function secretDigestKeyPath(stateDir: string): string {
  return join(stateDir, SALT_FILE);
}

/** The state directory's digest key: made once, 0600, never leaves the state. */
export function digestKey(stateDir: string): Buffer {
  const path = secretDigestKeyPath(stateDir);
  try {
    return Buffer.from(readFileSync(path, "utf8").trim(), "hex");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    const fd = openSync(path, "wx", 0o600);
    try {
      writeSync(fd, `${key.toString("hex")}\n`);
    } finally {
      closeSync(fd);
    }
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return Buffer.from(readFileSync(path, "utf8").trim(), "hex");
  }
}

/** What `GET /api/v1/secrets` answers of a definition: names and metadata only. */
export function secretsSummary(definition: Definition): SecretsAnswer {
  const secrets = definition.secrets;
  const environment = secrets?.environment ?? definition.environment ?? "default";
  if (secrets === undefined) return { environment, file: null, recipient: null, secrets: [] };
  const apps = Object.values(definition.apps);
  return {
    environment,
    file: secrets.file,
    recipient: secrets.content.recipient,
    secrets: Object.entries(secrets.content.secrets)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, entry]) => ({
        name,
        changedBy: entry.changedBy,
        changedAt: entry.changedAt,
        usedBy: apps.filter((app) => secretsOfApp(app).includes(name)).map((app) => app.name),
      })),
  };
}

/** The files a replica of `app` gets from secrets: path, content, mode. */
export function secretFilesOf(app: AppSpec, values: SecretValues): SecretFile[] {
  return Object.entries(app.secretFiles ?? {}).map(([path, file]) => {
    const content = values.get(file.secret);
    if (content === undefined) {
      throw new SecretsError(
        "secrets.missing",
        `${app.name}: secret ${file.secret} (for file ${path}) is not among the applied definition's secrets`,
        `set it with \`baton secret set ${file.secret}\` and apply again`,
      );
    }
    return { path, content, mode: Number.parseInt(file.mode, 8) };
  });
}

export interface SecretFile {
  /** Absolute, as the definition writes it. */
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}
