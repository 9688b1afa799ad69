/**
 * Naming rules. App names become process names and DNS-like labels, so they follow the DNS
 * label rule (RFC 1123, lower case); env names are what a POSIX shell accepts, so that
 * `${NAME}` and `$NAME` mean the same variable everywhere.
 */

export const APP_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

const MAX_APP_NAME = 63;

/** The closest valid app name to `text`: "My Shop_2" → "my-shop-2"; "app" if nothing is left. */
export function toAppName(text: string): string {
  const name = text
    .toLowerCase()
    .replaceAll(/[^a-z0-9]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .slice(0, MAX_APP_NAME)
    .replace(/-+$/, "");
  return name === "" ? "app" : name;
}
