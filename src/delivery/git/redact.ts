/**
 * A repository URL as it may be shown: `https://user:token@host/x` → `https://user:***@host/x`.
 * Credentials in a URL are a secret like any other and never reach a log or an error.
 */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^/@\s:]*):[^/@\s]*@/gi, "$1:***@");
}
