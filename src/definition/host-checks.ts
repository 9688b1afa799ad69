/**
 * Rules of the host part that the schema cannot express: what `configure:` targets exist,
 * one module per resource item, roles and handlers that exist, jump hosts, modes written as
 * octal, templates on disk, and no two resources of one module with one identity on a host.
 * Like checks.ts, it reads the raw YAML defensively so that every problem is reported at once.
 */
import { resolve } from "node:path";
import type { Report } from "./checks.js";
import { type Fields, isFields } from "./fields.js";
import type { DefinitionFiles } from "./files.js";
import { resourceIdentity } from "./host-identity.js";
import { HOST_MODULES, MODE_PATTERN } from "./host-schema.js";
import { checkTemplateVariables } from "./host-template-vars.js";
import { formatPath, listWords, type Path } from "./phrases.js";
import { closestMatch } from "./suggest.js";
import type { Positions } from "./yaml-source.js";

export interface HostCheckContext {
  readonly dir: string;
  readonly source: Positions;
  readonly files: DefinitionFiles;
}

export function checkHosts(raw: Fields, ctx: HostCheckContext, report: Report): void {
  const hosts = isFields(raw.hosts) ? raw.hosts : {};
  const roles = isFields(raw.roles) ? raw.roles : {};
  const configure = isFields(raw.configure) ? raw.configure : {};
  const hostNames = Object.keys(hosts);
  const groups = new Set<string>();
  for (const [name, host] of Object.entries(hosts)) {
    if (!isFields(host)) continue;
    if (Array.isArray(host.groups))
      for (const g of host.groups) if (typeof g === "string") groups.add(g);
    checkHost(name, host, hostNames, report);
  }
  const handlers = handlerNames(configure, roles);
  for (const [target, list] of Object.entries(configure)) {
    const path = ["configure", target];
    if (target !== "all" && !groups.has(target) && !(target in hosts)) {
      const known = ["all", ...groups, ...hostNames];
      const close = closestMatch(target, known);
      report(
        "spec.unknown_target",
        path,
        "key",
        `${formatPath(path)} names no host and no group: hosts are ${listWords(hostNames) || "none"}, groups ${listWords([...groups]) || "none"}`,
        close !== undefined
          ? `did you mean \`${close}\`?`
          : "add the host to `hosts:`, or the group to a host's `groups:` (or use `all`)",
        { expected: "a host, a group or `all`", found: target },
      );
    }
    checkItems(list, path, { roles, handlers, ctx, inRole: false }, report);
  }
  for (const [name, role] of Object.entries(roles)) {
    if (!isFields(role)) continue;
    checkItems(
      role.resources,
      ["roles", name, "resources"],
      { roles, handlers, ctx, inRole: true },
      report,
    );
  }
  checkDuplicates(hosts, configure, roles, report);
  checkTemplateVariables(hosts, configure, roles, ctx, report);
}

function checkHost(name: string, host: Fields, hostNames: readonly string[], report: Report): void {
  const path = ["hosts", name];
  if (host.connection !== "local" && host.address === undefined) {
    report(
      "spec.missing_field",
      path,
      "key",
      `${formatPath(path)} has no \`address\`: Baton cannot reach it over SSH`,
      "add `address: …` (and `port`, `user` when not 22 and root), or `connection: local` for this machine",
      { expected: "an address", found: "none" },
    );
  }
  const jump = host.jump;
  if (typeof jump === "string" && (jump === name || !hostNames.includes(jump))) {
    const close = closestMatch(
      jump,
      hostNames.filter((h) => h !== name),
    );
    report(
      "spec.unknown_host",
      [...path, "jump"],
      "value",
      jump === name
        ? `${formatPath(path)} cannot be reached through itself`
        : `${formatPath([...path, "jump"])} names ${jump}, which is not a host of \`hosts:\``,
      close !== undefined ? `did you mean \`${close}\`?` : "add the jump host to `hosts:`",
      { expected: "another host of `hosts:`", found: jump },
    );
  }
}

interface ItemContext {
  readonly roles: Fields;
  readonly handlers: ReadonlySet<string>;
  readonly ctx: HostCheckContext;
  readonly inRole: boolean;
}

function checkItems(list: unknown, path: Path, c: ItemContext, report: Report): void {
  if (!Array.isArray(list)) return;
  list.forEach((item, i) => {
    const at = [...path, i];
    if (!isFields(item)) return;
    const keys = Object.keys(item).filter(
      (k) => k === "role" || (HOST_MODULES as string[]).includes(k),
    );
    if (keys.length !== 1) {
      report(
        "spec.invalid_resource",
        at,
        "value",
        keys.length === 0
          ? `${formatPath(at)} names no module`
          : `${formatPath(at)} names ${listWords(keys)}: one resource is one module`,
        keys.length === 0
          ? `write one of ${listWords([...HOST_MODULES, "role"], "or")} as its key, e.g. \`- package: { name: nginx }\``
          : "split it into one list item per module",
        { expected: "a mapping with exactly one module key", found: keys.join(", ") || "none" },
      );
      return;
    }
    const module = keys[0] as string;
    const fields = item[module];
    if (module === "role") {
      checkRoleUse(fields, [...at, "role"], c, report);
      return;
    }
    if (!isFields(fields)) return;
    checkMode(fields, [...at, module], c.ctx, report);
    checkNotify(fields, [...at, module], c.handlers, report);
    if (module === "file") checkFile(fields, [...at, module], c.ctx, report);
  });
}

function checkRoleUse(use: unknown, path: Path, c: ItemContext, report: Report): void {
  const name = typeof use === "string" ? use : isFields(use) ? use.name : undefined;
  if (typeof name !== "string") return;
  const at = typeof use === "string" ? path : [...path, "name"];
  if (c.inRole) {
    report(
      "spec.nested_role",
      at,
      "value",
      `${formatPath(path)}: a role cannot use another role`,
      "list the other role beside this one where the role is used",
    );
    return;
  }
  if (name in c.roles) return;
  const close = closestMatch(name, Object.keys(c.roles));
  report(
    "spec.unknown_role",
    at,
    "value",
    `${formatPath(at)} names the role ${name}, which \`roles:\` does not define`,
    close !== undefined
      ? `did you mean \`${close}\`?`
      : `define it under \`roles: { ${name}: { resources: [...] } }\``,
    { expected: "a role of `roles:`", found: name },
  );
}

function checkMode(fields: Fields, path: Path, ctx: HostCheckContext, report: Report): void {
  // A string is the schema's to check; a number is read as written (0644, not 420 or 644).
  if (typeof fields.mode !== "number") return;
  const at = [...path, "mode"];
  const written = ctx.source.scalarSource(at) ?? String(fields.mode);
  if (MODE_PATTERN.test(written)) return;
  report(
    "spec.invalid_mode",
    at,
    "value",
    `${formatPath(at)} is not an octal file mode`,
    'write it quoted, e.g. `mode: "0644"`',
    { expected: 'an octal mode such as "0644"', found: String(written) },
  );
}

function checkNotify(
  fields: Fields,
  path: Path,
  handlers: ReadonlySet<string>,
  report: Report,
): void {
  if (!Array.isArray(fields.notify)) return;
  fields.notify.forEach((name, i) => {
    if (typeof name !== "string" || handlers.has(name)) return;
    const close = closestMatch(name, [...handlers]);
    report(
      "spec.unknown_handler",
      [...path, "notify", i],
      "value",
      `${formatPath([...path, "notify", i])} names ${name}, and no command with \`handler: true\` has that name`,
      close !== undefined
        ? `did you mean \`${close}\`?`
        : `add \`- command: { name: ${name}, run: [...], handler: true }\` where the hosts get it`,
      { expected: "the name of a handler command", found: name },
    );
  });
}

function checkFile(fields: Fields, path: Path, ctx: HostCheckContext, report: Report): void {
  const absent = fields.state === "absent";
  const both = fields.content !== undefined && fields.template !== undefined;
  const neither = fields.content === undefined && fields.template === undefined;
  if (both || (neither && !absent)) {
    report(
      both ? "spec.conflicting_fields" : "spec.missing_field",
      path,
      "value",
      both
        ? `${formatPath(path)} has both \`content\` and \`template\``
        : `${formatPath(path)} says neither what the file holds (\`content\`) nor where its template is (\`template\`)`,
      both ? "keep one of them" : "add `content: ...` or `template: path/to/file`",
    );
  }
  if (typeof fields.template === "string") {
    const file = resolve(ctx.dir, fields.template);
    if (ctx.files.kind(file) !== "file") {
      report(
        "spec.template_missing",
        [...path, "template"],
        "value",
        `the template ${fields.template} of ${formatPath(path)} does not exist`,
        `create it or fix the path; it resolves to ${file}`,
        { expected: "an existing file", found: file },
      );
    }
  }
}

function handlerNames(configure: Fields, roles: Fields): Set<string> {
  const names = new Set<string>();
  const visit = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const item of list) {
      const command = isFields(item) && isFields(item.command) ? item.command : undefined;
      if (command?.handler === true && typeof command.name === "string") names.add(command.name);
    }
  };
  for (const list of Object.values(configure)) visit(list);
  for (const role of Object.values(roles)) if (isFields(role)) visit(role.resources);
  return names;
}

/** Two resources of one module with one identity on one host: the second is reported. */
function checkDuplicates(hosts: Fields, configure: Fields, roles: Fields, report: Report): void {
  for (const [host, spec] of Object.entries(hosts)) {
    if (!isFields(spec)) continue;
    const groups = Array.isArray(spec.groups) ? spec.groups : [];
    const targets = ["all", ...groups.filter((g): g is string => typeof g === "string"), host];
    const seen = new Map<string, Path>();
    for (const target of targets) {
      const list = configure[target];
      if (!Array.isArray(list)) continue;
      list.forEach((item, i) => {
        for (const { key, path } of itemIdentities(item, ["configure", target, i], roles)) {
          const first = seen.get(key);
          if (first === undefined) {
            seen.set(key, path);
            continue;
          }
          report(
            "spec.duplicate_resource",
            path,
            "value",
            `${formatPath(path)} is the same ${key.split(" ")[0]} as ${formatPath(first)} on host ${host}`,
            "keep one of them: a host's resource is declared once",
          );
        }
      });
    }
  }
}

function itemIdentities(item: unknown, path: Path, roles: Fields): { key: string; path: Path }[] {
  if (!isFields(item)) return [];
  const [module] = Object.keys(item);
  if (module === undefined) return [];
  if (module === "role") {
    const use = item.role;
    const name = typeof use === "string" ? use : isFields(use) ? use.name : undefined;
    const role = typeof name === "string" ? roles[name] : undefined;
    if (!isFields(role) || !Array.isArray(role.resources)) return [];
    return role.resources.flatMap((inner, j) =>
      itemIdentities(inner, ["roles", String(name), "resources", j], {}),
    );
  }
  const fields = item[module];
  if (!isFields(fields)) return [];
  const id = resourceIdentity(module, fields);
  return id === undefined ? [] : [{ key: `${module} ${id}`, path: [...path, module] }];
}
