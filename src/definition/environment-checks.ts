/**
 * Rules of the `environments:` block the schema cannot express: names, and overrides that
 * name an app the definition does not have (a typo there would otherwise override nothing
 * and go unnoticed).
 */
import type { Diagnostic } from "./errors.js";
import { APP_NAME_PATTERN, toAppName } from "./names.js";
import { environmentNames, overriddenApps } from "./overlay.js";
import { formatPath, listWords } from "./phrases.js";
import { closestMatch } from "./suggest.js";
import type { Positions } from "./yaml-source.js";

type Fields = Readonly<Record<string, unknown>>;

export function environmentDiagnostics(
  raw: Fields,
  ctx: { readonly file: string; readonly source: Positions },
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const apps = raw.apps !== null && typeof raw.apps === "object" ? Object.keys(raw.apps) : [];
  for (const env of environmentNames(raw)) {
    if (!APP_NAME_PATTERN.test(env)) {
      const path = ["environments", env];
      diagnostics.push({
        code: "spec.invalid_name",
        message: `${formatPath(path)} is not a valid environment name: use lowercase letters, digits and -, starting with a letter`,
        file: ctx.file,
        ...ctx.source.keySpan(path),
        path: formatPath(path),
        expected: "a name matching [a-z][a-z0-9-]{0,62}",
        found: env,
        hint: `rename it \`${toAppName(env)}\``,
      });
    }
    for (const app of Object.keys(overriddenApps(raw, env))) {
      if (apps.includes(app)) continue;
      const path = ["environments", env, "overrides", "apps", app];
      const guess = closestMatch(app, apps);
      diagnostics.push({
        code: "spec.unknown_app",
        message: `${formatPath(path)} overrides an app that the definition does not define`,
        file: ctx.file,
        ...ctx.source.keySpan(path),
        path: formatPath(path),
        expected:
          apps.length > 0 ? `one of ${listWords(apps, "or")}` : "an app defined under `apps`",
        found: app,
        hint:
          guess !== undefined
            ? `did you mean \`${guess}\`?`
            : "define the app under `apps:` first; overrides only change existing apps",
      });
    }
  }
  return diagnostics;
}
