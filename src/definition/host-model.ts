/**
 * The typed form of the host part of a definition: the inventory (`hosts:`, `ssh:`) and what
 * each host must be (`configure:`, `roles:`), resolved per host in definition order.
 */
import type { HostPolicy } from "../security/policy/host-policy.js";

export interface SshSettings {
  /** Absolute path of the private key; the agent (SSH_AUTH_SOCK) is tried too when set. */
  readonly identityFile?: string;
  /** Absolute path of the known_hosts file every host key is checked against. */
  readonly knownHosts: string;
  /** Connecting (TCP, key exchange, auth) gives up after this long. */
  readonly connectTimeoutMs: number;
  /** A command on a host gives up after this long. */
  readonly commandTimeoutMs: number;
  /** Hosts worked on at once. */
  readonly parallel: number;
}

export interface SshHost {
  readonly name: string;
  readonly connection: "ssh";
  readonly address: string;
  readonly port: number;
  readonly user: string;
  /** Reached through this host of the inventory (its own connection is made first). */
  readonly jump?: string;
  /** Commands run through `sudo -n` (the user is not root). */
  readonly become: boolean;
  readonly groups: readonly string[];
  /** The environment the host belongs to (`env:`), for drift and parity. */
  readonly env?: string;
  readonly vars: Readonly<Record<string, string>>;
}

export interface LocalHost {
  readonly name: string;
  readonly connection: "local";
  readonly become: boolean;
  readonly groups: readonly string[];
  readonly env?: string;
  readonly vars: Readonly<Record<string, string>>;
}

export type HostSpec = SshHost | LocalHost;

/** What may come along with any resource. */
export interface ResourceCommon {
  /** Left on the host when it leaves the definition (not removed). */
  readonly keep: boolean;
  /** Handler names run once, after the host's changes, when this resource changed. */
  readonly notify: readonly string[];
}

export type PresentAbsent = "present" | "absent";

export interface PackageResource extends ResourceCommon {
  readonly module: "package";
  readonly name: string;
  readonly state: PresentAbsent;
  /** An exact Debian version (`apt-get install name=version`); any version when absent. */
  readonly version?: string;
}

export interface FileResource extends ResourceCommon {
  readonly module: "file";
  readonly path: string;
  /** What the file must hold, a template already rendered for this host. */
  readonly content: string;
  /**
   * `content: { secret: NAME }`: the secret whose value the content is, filled in by the
   * controller once decrypted (security/secrets); `content` is empty until then.
   */
  readonly contentSecret?: string;
  /** "0644"-style octal string; left as it is when absent (0644 for a new file). */
  readonly mode?: string;
  readonly owner?: string;
  readonly group?: string;
  /** The content holds secrets: plans and events show that it changed, never what. */
  readonly secret: boolean;
  readonly state: PresentAbsent;
}

export interface DirectoryResource extends ResourceCommon {
  readonly module: "directory";
  readonly path: string;
  readonly mode?: string;
  readonly owner?: string;
  readonly group?: string;
  readonly state: PresentAbsent;
}

export interface SymlinkResource extends ResourceCommon {
  readonly module: "symlink";
  readonly path: string;
  readonly target: string;
  readonly state: PresentAbsent;
}

export interface UserResource extends ResourceCommon {
  readonly module: "user";
  readonly name: string;
  readonly uid?: number;
  /** Primary group. */
  readonly group?: string;
  /** Supplementary groups, exactly these. */
  readonly groups?: readonly string[];
  readonly shell?: string;
  readonly home?: string;
  readonly system: boolean;
  readonly state: PresentAbsent;
}

export interface GroupResource extends ResourceCommon {
  readonly module: "group";
  readonly name: string;
  readonly gid?: number;
  readonly system: boolean;
  readonly state: PresentAbsent;
}

export interface ServiceResource extends ResourceCommon {
  readonly module: "service";
  readonly name: string;
  readonly state?: "running" | "stopped";
  readonly enabled?: boolean;
}

export interface CommandResource extends ResourceCommon {
  readonly module: "command";
  /** Its name in plans and for `notify` (the argv when not given). */
  readonly name: string;
  readonly argv: readonly string[];
  /** Not run when this path exists. */
  readonly creates?: string;
  /** Not run when this command exits 0. */
  readonly unless?: readonly string[];
  /** Run only when this command exits 0. */
  readonly onlyIf?: readonly string[];
  /** A handler: run only when notified, never on its own. */
  readonly handler: boolean;
}

export interface LineInFileResource extends ResourceCommon {
  readonly module: "lineinfile";
  readonly path: string;
  readonly line: string;
  /** The line(s) to replace (present) or remove (absent); the exact line when not given. */
  readonly regexp?: string;
  readonly state: PresentAbsent;
}

export interface SysctlResource extends ResourceCommon {
  readonly module: "sysctl";
  /** e.g. net.ipv4.ip_forward */
  readonly key: string;
  readonly value: string;
  /** Also written to /etc/sysctl.d/99-baton.conf, so it survives a reboot. */
  readonly persist: boolean;
}

export type HostResource =
  | PackageResource
  | FileResource
  | DirectoryResource
  | SymlinkResource
  | UserResource
  | GroupResource
  | ServiceResource
  | CommandResource
  | LineInFileResource
  | SysctlResource;

export type HostModuleName = HostResource["module"];

/** One resource as declared for one host, before its template (if any) is rendered. */
export interface HostResourceDecl {
  /** A file's `content` may still hold `{{ var }}`, rendered per host at run time. */
  readonly resource: HostResource;
  /** Where it is declared, for messages: `configure.web[2]`, `roles.nginx.resources[0]`. */
  readonly origin: string;
  /** Template variables: the host's, then the role's, then the resource's own. */
  readonly vars: Readonly<Record<string, string>>;
}

export interface HostRequirements {
  /** `<ID>-<VERSION_ID>`, e.g. debian-12. */
  readonly os?: string;
  /** Package → version constraint (`>=1.22`). */
  readonly packages: Readonly<Record<string, string>>;
}

/** What an environment says about its hosts. */
export interface HostEnvironment {
  readonly require?: HostRequirements;
  /** The `hosts:` rules of the environment's policy: `drift` reports hosts that break them. */
  readonly policy?: HostPolicy;
  readonly heal: boolean;
  readonly driftIntervalMs: number;
}

/** The host part of a definition. */
export interface HostsDefinition {
  readonly hosts: Readonly<Record<string, HostSpec>>;
  readonly ssh: SshSettings;
  /** What each host must be, in order: `all`, then its groups in order, then its own. */
  readonly resources: Readonly<Record<string, readonly HostResourceDecl[]>>;
  /** By environment name (`environments:`), for the hosts whose `env` it is. */
  readonly environments: Readonly<Record<string, HostEnvironment>>;
  /** Differences `baton parity` does not show (`parity.allow`). */
  readonly parityAllow: readonly string[];
}
