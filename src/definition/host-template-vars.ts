/**
 * Template variables checked before anything runs: every `{{ name }}` of a host file (inline
 * `content` or a `template` file) must have a value on every host the file lands on — from
 * the host's `vars`, the role's, the role use's or the file's own. `{{ facts.* }}` are the
 * host's facts, known only on the host, and are left to the run.
 */
import { resolve } from "node:path";
import type { Report } from "./checks.js";
import { type Fields, isFields } from "./fields.js";
import type { DefinitionFiles } from "./files.js";
import { formatPath, listWords, type Path } from "./phrases.js";

/** `{{ name }}` in a template; `name` may be dotted (`facts.os.version`). */
export const TEMPLATE_PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

/** The variable names a template uses, facts left out, each once. */
export function templateVariables(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(TEMPLATE_PLACEHOLDER)) {
    const name = match[1];
    if (name !== undefined && !name.startsWith("facts.")) names.add(name);
  }
  return [...names];
}

export function checkTemplateVariables(
  hosts: Fields,
  configure: Fields,
  roles: Fields,
  where: { readonly dir: string; readonly files: DefinitionFiles },
  report: Report,
): void {
  const reported = new Set<string>();
  const check = (item: unknown, at: Path, vars: ReadonlySet<string>, host: string): void => {
    const file = isFields(item) && isFields(item.file) ? item.file : undefined;
    if (file === undefined) return;
    const field = typeof file.content === "string" ? "content" : "template";
    const text =
      field === "content" ? (file.content as string) : readTemplate(file.template, where);
    if (text === undefined) return; // a missing template is reported on its own
    const known = new Set([...vars, ...keysOf(file.vars)]);
    for (const name of templateVariables(text)) {
      const path = [...at, "file", field];
      const key = `${formatPath(path)} ${name}`;
      if (known.has(name) || reported.has(key)) continue;
      reported.add(key);
      report(
        "spec.template_variable",
        path,
        "value",
        `{{ ${name} }} in ${formatPath(path)}${field === "template" ? ` (${String(file.template)})` : ""} has no value on host ${host}: its variables there are ${listWords([...known].sort()) || "none"}`,
        `set \`${name}\` in the host's \`vars\`, the role's, or the file's own \`vars\` (facts are written {{ facts.… }})`,
        { expected: "a defined variable", found: name },
      );
    }
  };
  for (const [host, spec] of Object.entries(hosts)) {
    if (!isFields(spec)) continue;
    const groups = Array.isArray(spec.groups) ? spec.groups : [];
    const hostVars = keysOf(spec.vars);
    for (const target of ["all", ...groups.filter((g) => typeof g === "string"), host]) {
      const list = configure[target];
      if (!Array.isArray(list)) continue;
      list.forEach((item, i) => {
        const at: Path = ["configure", target, i];
        const use = isFields(item) ? item.role : undefined;
        if (use === undefined) {
          check(item, at, new Set(hostVars), host);
          return;
        }
        const name = typeof use === "string" ? use : isFields(use) ? use.name : undefined;
        const role = typeof name === "string" ? roles[name] : undefined;
        if (!isFields(role) || !Array.isArray(role.resources)) return;
        const vars = new Set([
          ...hostVars,
          ...keysOf(role.vars),
          ...(isFields(use) ? keysOf(use.vars) : []),
        ]);
        role.resources.forEach((inner, j) => {
          check(inner, ["roles", String(name), "resources", j], vars, host);
        });
      });
    }
  }
}

function readTemplate(
  template: unknown,
  { dir, files }: { readonly dir: string; readonly files: DefinitionFiles },
): string | undefined {
  if (typeof template !== "string") return undefined;
  const path = resolve(dir, template);
  // A missing template is reported on its own (host-checks.ts).
  if (files.kind(path) !== "file") return undefined;
  return files.readText(path);
}

function keysOf(value: unknown): string[] {
  return isFields(value) ? Object.keys(value) : [];
}
