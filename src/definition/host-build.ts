/**
 * The validated host part as written → the model: every host with its defaults, the SSH
 * settings with `~` expanded and durations in ms, and for each host the list of resources it
 * must have — `configure.all`, then each of its groups in order, then its own, with roles
 * expanded in place and template files read. Runs only on input that passed the checks.
 */
import { homedir } from "node:os";
import { resolve } from "node:path";
import { buildHostPolicy } from "../security/policy/host-policy.js";
import type { HostPolicyInput } from "../security/policy/schema.js";
import type { DefinitionFiles } from "./files.js";
import type {
  HostEnvironment,
  HostResource,
  HostResourceDecl,
  HostSpec,
  HostsDefinition,
  ResourceCommon,
  SshSettings,
} from "./host-model.js";
import {
  type ConfigureInput,
  HOST_DEFAULTS,
  type HostsInput,
  type ModuleInput,
  type ResourceItemInput,
  type RolesInput,
  type SshInput,
} from "./host-schema.js";
import { formatPath, type Path } from "./phrases.js";
import { parseDuration } from "./units.js";
import type { Positions } from "./yaml-source.js";

export interface HostBuildContext {
  /** The definition file: host policy rules say where they are written. */
  readonly file: string;
  readonly dir: string;
  readonly source: Positions;
  readonly files: DefinitionFiles;
}

type Scalar = string | number | boolean;

/** How often the controller looks for drift on an environment's hosts, unless it says. */
const DRIFT_INTERVAL = "5m";

export function buildHosts(
  input: {
    hosts?: HostsInput | undefined;
    ssh?: SshInput | undefined;
    configure?: ConfigureInput | undefined;
    roles?: RolesInput | undefined;
    environments?:
      | Record<
          string,
          {
            require?:
              | { os?: string | undefined; packages?: Record<string, string> | undefined }
              | undefined;
            heal?: boolean | undefined;
            driftInterval?: string | undefined;
            policy?: { hosts?: HostPolicyInput | undefined } | undefined;
          }
        >
      | undefined;
    parity?: { allow?: string[] | undefined } | undefined;
  },
  ctx: HostBuildContext,
): HostsDefinition {
  const asWritten = (value: Scalar, at: Path): string =>
    typeof value === "string" ? value : (ctx.source.scalarSource(at) ?? String(value));
  const varsOf = (vars: Record<string, Scalar> | undefined, at: Path): Record<string, string> =>
    Object.fromEntries(Object.entries(vars ?? {}).map(([k, v]) => [k, asWritten(v, [...at, k])]));

  const hosts: Record<string, HostSpec> = {};
  for (const [name, h] of Object.entries(input.hosts ?? {})) {
    const common = {
      name,
      become: h.become ?? false,
      groups: h.groups ?? [],
      ...(h.env === undefined ? {} : { env: h.env }),
      vars: varsOf(h.vars, ["hosts", name, "vars"]),
    };
    hosts[name] =
      h.connection === "local"
        ? { ...common, connection: "local" }
        : {
            ...common,
            connection: "ssh",
            address: h.address ?? "",
            port: h.port ?? HOST_DEFAULTS.port,
            user: h.user ?? HOST_DEFAULTS.user,
            ...(h.jump === undefined ? {} : { jump: h.jump }),
          };
  }

  const ssh = input.ssh ?? {};
  const settings: SshSettings = {
    ...(ssh.identityFile === undefined
      ? {}
      : { identityFile: expandHome(ssh.identityFile, ctx.dir) }),
    knownHosts: expandHome(ssh.knownHosts ?? HOST_DEFAULTS.knownHosts, ctx.dir),
    connectTimeoutMs: parseDuration(ssh.connectTimeout ?? HOST_DEFAULTS.connectTimeout) ?? 10_000,
    commandTimeoutMs: parseDuration(ssh.commandTimeout ?? HOST_DEFAULTS.commandTimeout) ?? 600_000,
    parallel: ssh.parallel ?? HOST_DEFAULTS.parallel,
  };

  const resources: Record<string, HostResourceDecl[]> = {};
  const configure = input.configure ?? {};
  const roles = input.roles ?? {};
  for (const host of Object.values(hosts)) {
    const list: HostResourceDecl[] = [];
    for (const target of ["all", ...host.groups, host.name]) {
      (configure[target] ?? []).forEach((item, i) => {
        const at: Path = ["configure", target, i];
        const use = item.role;
        if (use === undefined) {
          list.push(declare(item, at, host.vars));
          return;
        }
        const roleName = typeof use === "string" ? use : use.name;
        const role = roles[roleName];
        if (role === undefined) return; // reported by the checks
        const vars = {
          ...host.vars,
          ...varsOf(role.vars, ["roles", roleName, "vars"]),
          ...(typeof use === "string" ? {} : varsOf(use.vars, [...at, "role", "vars"])),
        };
        role.resources.forEach((inner, j) => {
          const decl = declare(inner, ["roles", roleName, "resources", j], vars);
          list.push({ ...decl, origin: `${decl.origin} (role of ${formatPath(at)})` });
        });
      });
    }
    resources[host.name] = list;
  }
  const environments: Record<string, HostEnvironment> = {};
  for (const [name, env] of Object.entries(input.environments ?? {})) {
    environments[name] = {
      ...(env.require === undefined
        ? {}
        : {
            require: {
              ...(env.require.os === undefined ? {} : { os: env.require.os }),
              packages: env.require.packages ?? {},
            },
          }),
      ...(env.policy?.hosts === undefined
        ? {}
        : { policy: buildHostPolicy(env.policy.hosts, name, ctx) }),
      heal: env.heal ?? false,
      driftIntervalMs: parseDuration(env.driftInterval ?? DRIFT_INTERVAL) ?? 300_000,
    };
  }
  return { hosts, ssh: settings, resources, environments, parityAllow: input.parity?.allow ?? [] };

  function declare(
    item: ResourceItemInput,
    at: Path,
    vars: Record<string, string>,
  ): HostResourceDecl {
    const [module] = Object.keys(item) as (keyof ResourceItemInput)[];
    const resourceAt = [...at, String(module)];
    const own =
      module === "file" && item.file?.vars ? varsOf(item.file.vars, [...resourceAt, "vars"]) : {};
    return {
      resource: buildResource(item, resourceAt),
      origin: formatPath(at),
      vars: { ...vars, ...own },
    };
  }

  function buildResource(item: ResourceItemInput, at: Path): HostResource {
    const common = (r: {
      keep?: boolean | undefined;
      notify?: string[] | undefined;
    }): ResourceCommon => ({
      keep: r.keep ?? false,
      notify: r.notify ?? [],
    });
    const mode = (r: { mode?: string | number | undefined }): { mode?: string } =>
      r.mode === undefined ? {} : { mode: normaliseMode(asWritten(r.mode, [...at, "mode"])) };
    const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
      (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
    if (item.package) {
      const r: ModuleInput<"package"> = item.package;
      return {
        module: "package",
        name: r.name,
        state: r.state ?? "present",
        ...optional("version", r.version),
        ...common(r),
      };
    }
    if (item.file) {
      const r = item.file;
      const fromSecret = typeof r.content === "object" ? r.content.secret : undefined;
      const content =
        r.template !== undefined
          ? ctx.files.readText(resolve(ctx.dir, r.template))
          : typeof r.content === "string"
            ? r.content
            : "";
      return {
        module: "file",
        path: r.path,
        content,
        ...optional("contentSecret", fromSecret),
        ...mode(r),
        ...optional("owner", r.owner),
        ...optional("group", r.group),
        secret: fromSecret !== undefined || (r.secret ?? false),
        state: r.state ?? "present",
        ...common(r),
      };
    }
    if (item.directory) {
      const r = item.directory;
      return {
        module: "directory",
        path: r.path,
        ...mode(r),
        ...optional("owner", r.owner),
        ...optional("group", r.group),
        state: r.state ?? "present",
        ...common(r),
      };
    }
    if (item.symlink) {
      const r = item.symlink;
      return {
        module: "symlink",
        path: r.path,
        target: r.target,
        state: r.state ?? "present",
        ...common(r),
      };
    }
    if (item.user) {
      const r = item.user;
      return {
        module: "user",
        name: r.name,
        ...optional("uid", r.uid),
        ...optional("group", r.group),
        ...optional("groups", r.groups),
        ...optional("shell", r.shell),
        ...optional("home", r.home),
        system: r.system ?? false,
        state: r.state ?? "present",
        ...common(r),
      };
    }
    if (item.group) {
      const r = item.group;
      return {
        module: "group",
        name: r.name,
        ...optional("gid", r.gid),
        system: r.system ?? false,
        state: r.state ?? "present",
        ...common(r),
      };
    }
    if (item.service) {
      const r = item.service;
      return {
        module: "service",
        name: r.name,
        ...optional("state", r.state),
        ...optional("enabled", r.enabled),
        ...common(r),
      };
    }
    if (item.command) {
      const r = item.command;
      const argvOf = (line: string | Scalar[], where: Path): string[] =>
        typeof line === "string"
          ? ["sh", "-c", line]
          : line.map((a, i) => asWritten(a, [...where, i]));
      const argv = argvOf(r.run, [...at, "run"]);
      return {
        module: "command",
        name: r.name ?? (typeof r.run === "string" ? r.run : argv.join(" ")),
        argv,
        ...optional("creates", r.creates),
        ...optional(
          "unless",
          r.unless === undefined ? undefined : argvOf(r.unless, [...at, "unless"]),
        ),
        ...optional(
          "onlyIf",
          r.onlyIf === undefined ? undefined : argvOf(r.onlyIf, [...at, "onlyIf"]),
        ),
        handler: r.handler ?? false,
        ...common(r),
      };
    }
    if (item.lineinfile) {
      const r = item.lineinfile;
      return {
        module: "lineinfile",
        path: r.path,
        line: r.line,
        ...optional("regexp", r.regexp),
        state: r.state ?? "present",
        ...common(r),
      };
    }
    if (item.sysctl) {
      const r = item.sysctl;
      return {
        module: "sysctl",
        key: r.key,
        value: asWritten(r.value, [...at, "value"]),
        persist: r.persist ?? true,
        ...common(r),
      };
    }
    throw new Error(`${formatPath(at)}: a resource without a module passed the checks`);
  }
}

/** "644" → "0644": one spelling, so that plans compare like with like. */
function normaliseMode(mode: string): string {
  return mode.length === 3 ? `0${mode}` : mode;
}

function expandHome(path: string, dir: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return resolve(homedir(), path.slice(2));
  return resolve(dir, path);
}
