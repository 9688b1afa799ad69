import { randomBytes } from "node:crypto";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The bearer token of a state directory's API: made once, readable by its owner only. */
export function apiTokenPath(stateDir: string): string {
  return join(stateDir, "api-token");
}

export function ensureApiToken(stateDir: string): string {
  const path = apiTokenPath(stateDir);
  try {
    const token = readFileSync(path, "utf8").trim();
    if (token.length >= 32) {
      chmodSync(path, 0o600);
      return token;
    }
  } catch {
    // not made yet
  }
  const token = randomBytes(32).toString("hex");
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return token;
}

/** When the state directory's token was made (ms); null when no controller made one yet. */
export function apiTokenCreated(stateDir: string): number | null {
  try {
    return Math.round(statSync(apiTokenPath(stateDir)).mtimeMs);
  } catch {
    return null;
  }
}

export function readApiToken(stateDir: string): string | undefined {
  try {
    return readFileSync(apiTokenPath(stateDir), "utf8").trim();
  } catch {
    return undefined;
  }
}
