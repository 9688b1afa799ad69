/**
 * The host part of `baton.yaml`: the inventory (`hosts:`, `ssh:`) and what each host must be
 * (`configure:` by group or host, `roles:`). Shapes only; rules across fields (one module per
 * item, groups and roles that exist, notify targets, modes) are in host-checks.ts.
 */
import { z } from "zod";
import {
  argument,
  argv,
  documented,
  duration,
  secretReference,
  wholeNumber,
} from "./schema-fields.js";

export const HOST_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** "0644", "644", "0755", "1777"; a number is taken as written in the file. */
export const MODE_PATTERN = /^0?[0-7]{3,4}$/;
export const HOST_DEFAULTS = {
  port: 22,
  user: "root",
  knownHosts: "~/.ssh/known_hosts",
  connectTimeout: "10s",
  commandTimeout: "10m",
  parallel: 10,
} as const;

const present = documented(
  z.enum(["present", "absent"]),
  "Whether it must exist (`present`, the default) or not (`absent`).",
  { expected: "`present` or `absent`", example: "present" },
).optional();

const keep = documented(
  z.boolean(),
  "Leave it on the host when it leaves the definition (by default Baton removes what it " +
    "created and the definition no longer declares).",
  { expected: "true or false", example: true },
).optional();

const notify = documented(
  z.array(z.string().min(1)),
  "Handlers (commands with `handler: true`, by name) run once after this host's changes " +
    "when this resource changed — e.g. restart a service when its config file changes.",
  { expected: "a list of handler names", example: ["restart nginx"] },
).optional();

const path = (what: string) =>
  documented(z.string().regex(/^\//), what, {
    expected: "an absolute path",
    example: "/etc/motd",
  });

const mode = documented(
  z.union([z.string().regex(MODE_PATTERN), z.number().int().min(0)]),
  'Permission bits in octal, quoted: "0644". Left as they are when not given.',
  { expected: 'an octal mode such as "0644"', example: "0644" },
).optional();

const owner = documented(z.string().min(1), "Owning user (a name or uid).", {
  expected: "a user name",
  example: "root",
}).optional();

const group = documented(z.string().min(1), "Owning group (a name or gid).", {
  expected: "a group name",
  example: "root",
}).optional();

const commandLine = documented(
  z.union([
    documented(z.string().regex(/\S/), "A command line run by `sh -c` on the host.", {
      expected: "a non-empty shell command",
      example: "test -f /etc/app.conf",
    }),
    argv("The program and its arguments, run without a shell.", ["test", "-f", "/etc/app.conf"]),
  ]),
  "A command on the host: a list (run as is) or a string (run by `sh -c`).",
  {
    expected: "a list of arguments or a shell command string",
    example: ["systemctl", "daemon-reload"],
  },
);

const vars = documented(
  z.record(z.string(), argument),
  "Variables for templates (`{{ name }}`), by name.",
  { expected: "a mapping of names to values", example: { port: 8080 } },
).optional();

const modules = {
  package: documented(
    z.strictObject({
      name: documented(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/), "The Debian package name.", {
        expected: "a Debian package name",
        example: "nginx",
      }),
      state: present,
      version: documented(
        z.string().min(1),
        "An exact version (`apt-get install name=version`); any version when not given.",
        { expected: "a Debian version string", example: "1.22.1-9" },
      ).optional(),
      keep,
      notify,
    }),
    "An apt package, installed (present, optionally at a version) or removed.",
    { expected: "package settings such as { name: nginx }", example: { name: "nginx" } },
  ),
  file: documented(
    z.strictObject({
      path: path("Where the file is on the host."),
      content: documented(
        z.union([z.string(), secretReference]),
        "What the file holds, `{{ var }}` rendered; `{ secret: NAME }`: the secret's value, " +
          "as it is (the file is then `secret: true`).",
        { expected: "a string or { secret: NAME }", example: "managed by baton\n" },
      ).optional(),
      template: documented(
        z.string().min(1),
        "A template file (relative to the definition) rendered with `{{ var }}` from `vars`, " +
          "the host's vars and facts (`{{ facts.os.version }}`).",
        { expected: "a path to a template file", example: "templates/nginx.conf" },
      ).optional(),
      vars,
      mode,
      owner,
      group,
      secret: documented(
        z.boolean(),
        "The content holds secrets: plans and events say it changed, never what.",
        { expected: "true or false", example: true },
      ).optional(),
      state: present,
      keep,
      notify,
    }),
    "A file with this content (or rendered template), mode and owner; written atomically.",
    {
      expected: "file settings such as { path: /etc/motd, content: ... }",
      example: { path: "/etc/motd", content: "managed by baton\n", mode: "0644" },
    },
  ),
  directory: documented(
    z.strictObject({
      path: path("The directory."),
      mode,
      owner,
      group,
      state: present,
      keep,
      notify,
    }),
    "A directory (created with its parents).",
    { expected: "directory settings such as { path: /srv/app }", example: { path: "/srv/app" } },
  ),
  symlink: documented(
    z.strictObject({
      path: path("The link."),
      target: documented(z.string().min(1), "What the link points to.", {
        expected: "a path",
        example: "/srv/app/releases/current",
      }),
      state: present,
      keep,
      notify,
    }),
    "A symbolic link.",
    { expected: "symlink settings", example: { path: "/srv/app/current", target: "/srv/app/v2" } },
  ),
  user: documented(
    z.strictObject({
      name: documented(z.string().regex(/^[a-z_][a-z0-9_-]*\$?$/), "The login name.", {
        expected: "a user name",
        example: "deploy",
      }),
      uid: wholeNumber("The user id.", 0, 1001).optional(),
      group: documented(z.string().min(1), "The primary group.", {
        expected: "a group name",
        example: "deploy",
      }).optional(),
      groups: documented(z.array(z.string().min(1)), "Supplementary groups, exactly these.", {
        expected: "a list of group names",
        example: ["sudo"],
      }).optional(),
      shell: documented(z.string().regex(/^\//), "The login shell.", {
        expected: "an absolute path",
        example: "/bin/bash",
      }).optional(),
      home: documented(z.string().regex(/^\//), "The home directory.", {
        expected: "an absolute path",
        example: "/home/deploy",
      }).optional(),
      system: documented(z.boolean(), "A system account (no aging, low uid).", {
        expected: "true or false",
        example: false,
      }).optional(),
      state: present,
      keep,
      notify,
    }),
    "A user account.",
    { expected: "user settings such as { name: deploy }", example: { name: "deploy" } },
  ),
  group: documented(
    z.strictObject({
      name: documented(z.string().regex(/^[a-z_][a-z0-9_-]*$/), "The group name.", {
        expected: "a group name",
        example: "deploy",
      }),
      gid: wholeNumber("The group id.", 0, 1001).optional(),
      system: documented(z.boolean(), "A system group.", {
        expected: "true or false",
        example: false,
      }).optional(),
      state: present,
      keep,
      notify,
    }),
    "A group.",
    { expected: "group settings such as { name: deploy }", example: { name: "deploy" } },
  ),
  service: documented(
    z.strictObject({
      name: documented(z.string().min(1), "The service (systemd unit or init script).", {
        expected: "a service name",
        example: "nginx",
      }),
      state: documented(z.enum(["running", "stopped"]), "Running or stopped now.", {
        expected: "`running` or `stopped`",
        example: "running",
      }).optional(),
      enabled: documented(z.boolean(), "Started at boot.", {
        expected: "true or false",
        example: true,
      }).optional(),
      keep,
      notify,
    }),
    "A service: running or stopped, enabled at boot or not (systemd where present, the " +
      "init script otherwise).",
    {
      expected: "service settings such as { name: nginx }",
      example: { name: "nginx", state: "running" },
    },
  ),
  command: documented(
    z.strictObject({
      run: commandLine,
      name: documented(z.string().min(1), "Its name in plans, and for `notify`.", {
        expected: "a name",
        example: "restart nginx",
      }).optional(),
      creates: path("Not run when this path exists.").optional(),
      unless: commandLine.optional(),
      onlyIf: commandLine.optional(),
      handler: documented(
        z.boolean(),
        "Run only when a resource that changed notifies it (by name), once per apply.",
        { expected: "true or false", example: true },
      ).optional(),
      keep,
      notify,
    }),
    "A command, run when its guards say so: `creates` (a path it makes), `unless` / `onlyIf` " +
      "(commands whose exit code decides). The plan evaluates the guards.",
    {
      expected: "command settings such as { run: [...], creates: /path }",
      example: { run: ["tar", "-xf", "/tmp/app.tar", "-C", "/srv/app"], creates: "/srv/app/bin" },
    },
  ),
  lineinfile: documented(
    z.strictObject({
      path: path("The file."),
      line: documented(z.string(), "The line that must be there (or not).", {
        expected: "a line of text",
        example: "PermitRootLogin no",
      }),
      regexp: documented(
        z.string().min(1),
        "Lines matching it are replaced by `line` (present) or removed (absent).",
        { expected: "a regular expression", example: "^#?PermitRootLogin" },
      ).optional(),
      state: present,
      keep,
      notify,
    }),
    "One line of a file, kept present or absent; the rest of the file is left alone.",
    {
      expected: "lineinfile settings such as { path, line }",
      example: {
        path: "/etc/ssh/sshd_config",
        line: "PermitRootLogin no",
        regexp: "^#?PermitRootLogin",
      },
    },
  ),
  sysctl: documented(
    z.strictObject({
      key: documented(z.string().regex(/^[a-z0-9_./-]+$/), "The kernel parameter.", {
        expected: "a sysctl key",
        example: "net.ipv4.ip_forward",
      }),
      value: argument,
      persist: documented(
        z.boolean(),
        "Also written to /etc/sysctl.d/99-baton.conf (the default), so it holds after a reboot.",
        { expected: "true or false", example: true },
      ).optional(),
      keep,
      notify,
    }),
    "A kernel parameter, set now and at boot.",
    {
      expected: "sysctl settings such as { key, value }",
      example: { key: "net.ipv4.ip_forward", value: 1 },
    },
  ),
};

export const HOST_MODULES = Object.keys(modules) as (keyof typeof modules)[];

const roleUse = documented(
  z.union([
    z.string().min(1),
    z.strictObject({
      name: documented(z.string().min(1), "The role.", { expected: "a role name", example: "web" }),
      vars,
    }),
  ]),
  "A role of `roles:`, by name, optionally with vars that override the role's own.",
  {
    expected: "a role name, or { name, vars }",
    example: { name: "webserver", vars: { port: 80 } },
  },
);

/** One item of a list of resources: exactly one module (or role) key. */
export const resourceItem = documented(
  z.strictObject({
    ...Object.fromEntries(Object.entries(modules).map(([k, v]) => [k, v.optional()])),
    role: roleUse.optional(),
  }) as z.ZodType<ResourceItemInput>,
  "One resource, as a mapping with exactly one module key: package, file, directory, " +
    "symlink, user, group, service, command, lineinfile, sysctl — or role.",
  {
    expected: "a mapping with one module key, such as { package: { name: nginx } }",
    example: { package: { name: "nginx" } },
  },
);

const resourceList = documented(z.array(resourceItem), "Resources, applied in this order.", {
  expected: "a list of resources",
  example: [{ directory: { path: "/srv/app" } }],
});

export const hostsSchema = documented(
  z.record(
    z.string(),
    documented(
      z.strictObject({
        connection: documented(
          z.enum(["ssh", "local"]),
          "`ssh` (the default) or `local`: the machine Baton runs on, without SSH.",
          { expected: "`ssh` or `local`", example: "ssh" },
        ).optional(),
        address: documented(z.string().min(1), "The host's address or DNS name.", {
          expected: "an address",
          example: "10.0.0.5",
        }).optional(),
        port: wholeNumber(`The SSH port (${HOST_DEFAULTS.port}).`, 1, 2201).optional(),
        user: documented(z.string().min(1), `The SSH user (${HOST_DEFAULTS.user}).`, {
          expected: "a user name",
          example: "root",
        }).optional(),
        jump: documented(
          z.string().min(1),
          "Another host of the inventory this one is reached through (a bastion).",
          { expected: "a host name of `hosts:`", example: "bastion" },
        ).optional(),
        become: documented(
          z.boolean(),
          "Run commands through `sudo -n` (a user that is not root).",
          {
            expected: "true or false",
            example: true,
          },
        ).optional(),
        groups: documented(z.array(z.string().regex(HOST_NAME_PATTERN)), "Groups the host is in.", {
          expected: "a list of group names",
          example: ["web"],
        }).optional(),
        env: documented(z.string().min(1), "The environment the host belongs to (dev, prod…).", {
          expected: "an environment name",
          example: "prod",
        }).optional(),
        vars,
      }),
      "One host: how to reach it, its groups and environment.",
      {
        expected: "host settings such as { address, port, user, groups }",
        example: { address: "127.0.0.1", port: 2201, user: "root", groups: ["web"] },
      },
    ),
  ),
  "The hosts Baton configures, by name.",
  {
    expected: "a mapping of host names to host settings",
    example: { web1: { address: "127.0.0.1", port: 2201, groups: ["web"] } },
  },
  { propertyNames: { pattern: HOST_NAME_PATTERN.source } },
).optional();

export const sshSchema = documented(
  z.strictObject({
    identityFile: documented(z.string().min(1), "The private key (the agent is tried too).", {
      expected: "a path",
      example: "~/.ssh/id_ed25519",
    }).optional(),
    knownHosts: documented(
      z.string().min(1),
      `Host keys are checked against this file (${HOST_DEFAULTS.knownHosts}); an unknown or changed key is an error.`,
      { expected: "a path", example: "~/.ssh/known_hosts" },
    ).optional(),
    connectTimeout: duration(
      `Connecting gives up after this long (${HOST_DEFAULTS.connectTimeout}).`,
      "10s",
    ).optional(),
    commandTimeout: duration(
      `A command gives up after this long (${HOST_DEFAULTS.commandTimeout}).`,
      "10m",
    ).optional(),
    parallel: wholeNumber(`Hosts worked on at once (${HOST_DEFAULTS.parallel}).`, 1, 10).optional(),
  }),
  "How hosts are reached over SSH.",
  { expected: "ssh settings", example: { identityFile: "~/.ssh/id_ed25519" } },
).optional();

export const configureSchema = documented(
  z.record(z.string(), resourceList),
  "What hosts must be, by group, host name or `all`: lists of resources, applied in order " +
    "(`all` first, then groups, then the host's own).",
  {
    expected: "a mapping of group or host names to lists of resources",
    example: { web: [{ package: { name: "nginx" } }] },
  },
).optional();

export const rolesSchema = documented(
  z.record(
    z.string(),
    documented(
      z.strictObject({
        vars,
        resources: resourceList,
      }),
      "A named list of resources with default vars, used from `configure:` as `- role: NAME`.",
      {
        expected: "{ vars, resources }",
        example: { vars: { port: 80 }, resources: [{ package: { name: "nginx" } }] },
      },
    ),
  ),
  "Roles: parameterised lists of resources, by name.",
  { expected: "a mapping of role names to roles", example: { web: { resources: [] } } },
).optional();

/** What an environment says about its hosts: requirements, drift checks, healing. */
export const environmentHostFields = {
  require: documented(
    z.strictObject({
      os: documented(
        z.string().regex(/^[a-z0-9]+-[0-9.]+$/),
        "The OS every host of the environment runs, as `<ID>-<VERSION_ID>` of /etc/os-release.",
        { expected: "an OS such as debian-12", example: "debian-12" },
      ).optional(),
      packages: documented(
        z.record(
          z.string(),
          documented(
            z.string().regex(/^\s*(>=|<=|>>|<<|>|<|==?)?\s*\S+\s*$/),
            "A Debian version constraint: `>=1.22`, `<<2`, or an exact version.",
            { expected: "a version constraint such as >=1.22", example: ">=1.22" },
          ),
        ),
        "Packages every host must have, with a version constraint (`>=1.22`, `<<2`, an exact version).",
        {
          expected: "a mapping of package names to version constraints",
          example: { nginx: ">=1.22" },
        },
      ).optional(),
    }),
    "What every host of this environment must offer; `plan` and `drift` check it.",
    {
      expected: "a mapping with `os` and/or `packages`",
      example: { os: "debian-12", packages: { nginx: ">=1.22" } },
    },
  ).optional(),
  heal: documented(
    z.boolean(),
    "Drift found on this environment's hosts by the controller is corrected (applied), not only reported.",
    { expected: "true or false", example: true },
  ).optional(),
  driftInterval: duration(
    "How often the controller checks this environment's hosts for drift (5m).",
    "5m",
  ).optional(),
};

export const paritySchema = documented(
  z.strictObject({
    allow: documented(
      z.array(z.string().min(1)),
      "Differences between environments the team accepts, hidden from `baton parity`: " +
        "`kernel`, `os`, `package:NAME`, `library:NAME`, `driver:NAME`, `sysctl:KEY` (`*` matches any text).",
      { expected: "a list of patterns", example: ["kernel", "package:linux-image-*"] },
    ).optional(),
  }),
  "How `baton parity` compares environments.",
  { expected: "a mapping with `allow`", example: { allow: ["kernel"] } },
).optional();

type Scalar = string | number | boolean;
type ModuleInputs = { [K in keyof typeof modules]: z.output<(typeof modules)[K]> };
export type RoleUseInput = string | { name: string; vars?: Record<string, Scalar> | undefined };
export type ResourceItemInput = { [K in keyof ModuleInputs]?: ModuleInputs[K] } & {
  role?: RoleUseInput;
};
export type HostsInput = NonNullable<z.output<typeof hostsSchema>>;
export type SshInput = NonNullable<z.output<typeof sshSchema>>;
export type ConfigureInput = NonNullable<z.output<typeof configureSchema>>;
export type RolesInput = NonNullable<z.output<typeof rolesSchema>>;
export type ModuleInput<K extends keyof ModuleInputs> = ModuleInputs[K];
