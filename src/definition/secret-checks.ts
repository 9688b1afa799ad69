/**
 * `{ secret: NAME }` wherever the definition takes one: each must name a secret of the
 * environment's secrets file, or the definition is refused at the reference, naming the
 * file and the command that sets it. Only names are read here; values stay encrypted.
 */
import type { SecretsFile } from "../security/secrets/secrets-file.js";
import { SECRET_NAME_PATTERN } from "../security/secrets/secrets-file.js";
import type { Diagnostic } from "./errors.js";
import { isFields } from "./fields.js";
import { formatPath, type Path } from "./phrases.js";
import { closestMatch } from "./suggest.js";
import type { Positions } from "./yaml-source.js";

export interface SecretCheckContext {
  readonly file: string;
  readonly source: Positions;
  /** The environment whose secrets file is read (`default` without environments). */
  readonly environment: string;
  /** The secrets file as shown to the user. */
  readonly secretsFile: string;
  /** Its content; undefined when there is no such file. */
  readonly secrets: SecretsFile | undefined;
}

/** Every `{ secret: NAME }` of `raw` with its path. */
export function secretReferences(raw: unknown, path: Path = []): { path: Path; name: string }[] {
  if (Array.isArray(raw)) return raw.flatMap((item, i) => secretReferences(item, [...path, i]));
  if (!isFields(raw)) return [];
  if (typeof raw.secret === "string") return [{ path, name: raw.secret }];
  return Object.entries(raw).flatMap(([key, value]) => secretReferences(value, [...path, key]));
}

export function secretDiagnostics(raw: unknown, ctx: SecretCheckContext): Diagnostic[] {
  const known = Object.keys(ctx.secrets?.secrets ?? {});
  const setCommand = (name: string) =>
    `baton secret set ${name}${ctx.environment === "default" ? "" : ` --env ${ctx.environment}`}`;
  return secretReferences(raw).flatMap(({ path, name }): Diagnostic[] => {
    const at = [...path, "secret"];
    const span = ctx.source.valueSpan(at);
    const where = { file: ctx.file, ...span, path: formatPath(at) };
    if (!SECRET_NAME_PATTERN.test(name)) {
      return [
        {
          ...where,
          code: "spec.invalid_name",
          message: `${formatPath(at)} is not a valid secret name: use letters, digits, ., _ and -, starting with a letter or digit`,
          expected: "a name matching [A-Za-z0-9][A-Za-z0-9_.-]*",
          found: JSON.stringify(name),
          hint: "rename the secret, e.g. `db-password`",
        },
      ];
    }
    if (known.includes(name)) return [];
    const guess = closestMatch(name, known);
    return [
      {
        ...where,
        code: "spec.unknown_secret",
        message:
          ctx.secrets === undefined
            ? `${formatPath(at)} names secret ${JSON.stringify(name)}, but ${ctx.secretsFile} does not exist`
            : `${formatPath(at)} names secret ${JSON.stringify(name)}, which ${ctx.secretsFile} does not hold`,
        expected:
          known.length === 0
            ? "a secret set with `baton secret set`"
            : `one of ${known.join(", ")}`,
        found: JSON.stringify(name),
        hint:
          guess !== undefined
            ? `did you mean \`${guess}\`? Or set it: \`${setCommand(name)}\` (the value is read from stdin)`
            : `set it: \`${setCommand(name)}\` (the value is read from stdin)`,
      },
    ];
  });
}
