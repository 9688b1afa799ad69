/**
 * `{{ name }}` templates of host files: replaced from the resource's variables (the host's,
 * the role's, its own) or from the host's facts (`{{ facts.os.version }}`). An unknown name
 * is an error, never an empty string: a config file with a hole in it is worse than none.
 */
import { TEMPLATE_PLACEHOLDER as PLACEHOLDER } from "../definition/host-template-vars.js";

export class TemplateError extends Error {
  override readonly name = "TemplateError";
}

/** Whether rendering needs the host's facts (gathering them costs a round trip). */
export function needsFacts(text: string): boolean {
  for (const match of text.matchAll(PLACEHOLDER)) if (match[1]?.startsWith("facts.")) return true;
  return false;
}

export function renderTemplate(
  text: string,
  vars: Readonly<Record<string, string>>,
  facts?: unknown,
): string {
  return text.replace(PLACEHOLDER, (_, name: string) => {
    if (!name.startsWith("facts.")) {
      const value = vars[name];
      if (value === undefined) {
        const known = Object.keys(vars);
        throw new TemplateError(
          `{{ ${name} }} has no value: variables here are ${known.length > 0 ? known.join(", ") : "none"} (and facts.*)`,
        );
      }
      return value;
    }
    let value: unknown = facts;
    for (const part of name.slice("facts.".length).split(".")) {
      value =
        value !== null && typeof value === "object"
          ? (value as Record<string, unknown>)[part]
          : undefined;
    }
    if (value === undefined || value === null || typeof value === "object") {
      throw new TemplateError(
        `{{ ${name} }} is not a fact of this host (see \`baton facts HOST --json\`)`,
      );
    }
    return String(value);
  });
}
