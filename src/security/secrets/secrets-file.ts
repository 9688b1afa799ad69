/**
 * `secrets/<env>.age.yaml`: an environment's secrets as they sit in git. Each name has its
 * own armored age ciphertext and who/when changed it, so a diff shows which secret changed
 * and never its value; the environment's public recipient is in the file, so anyone who may
 * commit can set a secret without the private key. Pure text in, text out: no key here.
 */
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { isArmored } from "./age.js";
import { SecretsError } from "./errors.js";

/** The secrets file of a definition without environments. */
export const DEFAULT_ENVIRONMENT = "default";

/** A secret's name as references write it (`{ secret: db-password }`). */
export const SECRET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export interface SecretEntry {
  /** Armored age ciphertext of the value. */
  readonly value: string;
  readonly changedBy: string;
  /** ISO 8601. */
  readonly changedAt: string;
}

export interface SecretsFile {
  /** `age1…`: the environment's public key, every value is encrypted to it. */
  readonly recipient: string;
  readonly secrets: Readonly<Record<string, SecretEntry>>;
}

/** Where the secrets of `environment` live, beside the definition in `dir`. */
export function secretsFilePath(dir: string, environment: string | undefined): string {
  return join(dir, "secrets", `${environment ?? DEFAULT_ENVIRONMENT}.age.yaml`);
}

/** Reads a secrets file's text; `shown` names it in errors. */
export function parseSecretsFile(text: string, shown: string): SecretsFile {
  if (lastParsed?.text === text && lastParsed.shown === shown) return lastParsed.file;
  const file = parsedSecretsFile(text, shown);
  lastParsed = { text, shown, file };
  return file;
}

/**
 * The last file parsed by this process: `apply` reads the definition twice (to check it,
 * then to learn which files it ships), and parsing the armored values' block scalars cost
 * ~20 ms a time in a fresh CLI process (bench/security-cost.ts profile).
 */
let lastParsed: { text: string; shown: string; file: SecretsFile } | undefined;

function parsedSecretsFile(text: string, shown: string): SecretsFile {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw invalid(shown, `is not YAML (${(error as Error).message.split("\n")[0]})`);
  }
  if (!isRecord(raw)) throw invalid(shown, "must be a mapping with `recipient` and `secrets`");
  const { recipient, secrets = {} } = raw;
  if (typeof recipient !== "string" || !recipient.startsWith("age1")) {
    throw invalid(shown, "must name the environment's public key as `recipient: age1…`");
  }
  if (!isRecord(secrets)) throw invalid(shown, "`secrets` must be a mapping of names");
  const entries: Record<string, SecretEntry> = {};
  for (const [name, entry] of Object.entries(secrets)) {
    if (!SECRET_NAME_PATTERN.test(name)) {
      throw invalid(shown, `has a secret named ${JSON.stringify(name)}, not a valid name`);
    }
    if (
      !isRecord(entry) ||
      typeof entry.value !== "string" ||
      !isArmored(entry.value) ||
      typeof entry.changedBy !== "string" ||
      typeof entry.changedAt !== "string"
    ) {
      throw invalid(shown, `secrets.${name} must hold value (armored age), changedBy, changedAt`);
    }
    entries[name] = { value: entry.value, changedBy: entry.changedBy, changedAt: entry.changedAt };
  }
  return { recipient, secrets: entries };
}

/** The file's text: names sorted, so that setting one secret changes its lines only. */
export function formatSecretsFile(file: SecretsFile, environment: string): string {
  const secrets: Record<string, SecretEntry> = {};
  for (const name of Object.keys(file.secrets).sort()) {
    const entry = file.secrets[name];
    if (entry !== undefined) {
      secrets[name] = {
        changedBy: entry.changedBy,
        changedAt: entry.changedAt,
        value: entry.value,
      };
    }
  }
  const header =
    `# Secrets of environment ${environment}, encrypted with age to the recipient below.\n` +
    `# Edit with \`baton secret set NAME${environment === DEFAULT_ENVIRONMENT ? "" : ` --env ${environment}`}\`; ` +
    "values decrypt only with the environment's private key.\n";
  return header + stringify({ recipient: file.recipient, secrets }, { lineWidth: 0 });
}

function invalid(shown: string, what: string): SecretsError {
  return new SecretsError(
    "secrets.invalid_file",
    `${shown} ${what}`,
    "restore the file from git (`git checkout -- FILE`), or set its secrets again with `baton secret set`",
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
