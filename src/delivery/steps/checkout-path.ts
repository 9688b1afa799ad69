import { isAbsolute, relative, resolve } from "node:path";

/**
 * The absolute path of `path` inside `checkout`; throws when it is absolute or leaves the
 * checkout, since a step only ever owns its checkout.
 */
export function insideCheckout(checkout: string, path: string, what: string): string {
  const full = resolve(checkout, path);
  const rel = relative(checkout, full);
  if (isAbsolute(path) || rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
    throw new Error(
      `${what} ${JSON.stringify(path)} must be a path inside the checkout, relative to it (e.g. .npm or node_modules)`,
    );
  }
  return full;
}
