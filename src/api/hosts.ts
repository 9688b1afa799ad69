/**
 * A pass over the hosts as the API answers it (`POST /api/v1/hosts/apply`), and as `baton
 * apply --json`, `baton plan --json` and `baton drift --json` show it to scripts.
 */

/** One field that differs on a host, for the plan: `mode: 0600 → 0644`. */
export interface HostFieldChange {
  readonly field: string;
  /** As found on the host; null when missing. Masked for secret content. */
  readonly from: string | null;
  /** As the definition says; null when it must go. Masked for secret content. */
  readonly to: string | null;
  /** For content: a unified diff from → to (masked for secret content). */
  readonly diff?: string;
}

export type ResourceStatus =
  /** In the desired state already. */
  | "unchanged"
  /** plan: would be changed; apply: was changed. */
  | "changed"
  /** No longer declared: plan: would be removed; apply: was removed. */
  | "removed"
  /** Its change failed: the host stopped there. */
  | "failed"
  /** Not run: an earlier resource of the host failed. */
  | "skipped";

export interface ResourceOutcome {
  readonly module: string;
  readonly id: string;
  /** Where the definition declares it (for a removal: where it was applied from). */
  readonly origin: string;
  readonly status: ResourceStatus;
  readonly changes: readonly HostFieldChange[];
  /** Why a resource in state is left alone, when not obvious ("skipped: /x exists"). */
  readonly note?: string;
  readonly error?: string;
}

export interface HostOutcome {
  readonly host: string;
  /** Reached and, when applying, every change made. */
  readonly ok: boolean;
  /** Why the host could not be reached or its run failed as a whole. */
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string };
  readonly resources: readonly ResourceOutcome[];
  /** Handlers run (apply), or that would run (plan). */
  readonly handlers: readonly string[];
  /** What the host lacks of its environment's `require:` (checked against its facts). */
  readonly unmet: readonly string[];
  /** Execs on the host, facts included: what batching is for. */
  readonly roundTrips: number;
  readonly ms: number;
}

/** `POST /api/v1/hosts/apply` (body `{}`): the controller's environment's hosts, configured. */
export interface HostsApplyAnswer {
  readonly hosts: readonly HostOutcome[];
}

/** A resource in the `--json` form: what differs, and why it failed. */
export interface ResourceOutcomeJson {
  readonly module: string;
  readonly id: string;
  readonly origin: string;
  readonly changes: readonly HostFieldChange[];
  readonly error?: string;
}

/** One host in the `--json` form: its resources listed by what happened to them. */
export interface HostOutcomeJson {
  readonly host: string;
  readonly ok: boolean;
  readonly error?: HostOutcome["error"];
  readonly changed: readonly ResourceOutcomeJson[];
  readonly unchanged: readonly { readonly module: string; readonly id: string }[];
  readonly removed: readonly ResourceOutcomeJson[];
  readonly failed: readonly ResourceOutcomeJson[];
  readonly skipped: readonly { readonly module: string; readonly id: string }[];
  readonly handlers: readonly string[];
  readonly unmet: readonly string[];
  readonly roundTrips: number;
  /** Whole milliseconds. */
  readonly ms: number;
}

/** `POST /api/v1/drift` `{targets?}`: what differs on each host (commands left out). */
export interface DriftRequest {
  /** Host or group names, or `all`; absent: every host of the environment. */
  readonly targets?: readonly string[];
}

export interface DriftAnswer {
  readonly hosts: readonly HostOutcome[];
}

/** What a host is, as `baton facts` gathers it (one round trip): `GET`-like `POST /api/v1/hosts/facts`. */
export interface HostFacts {
  readonly hostname: string;
  /** From /etc/os-release: ID, VERSION_ID, PRETTY_NAME (`debian`, `12`, `Debian GNU/Linux 12 (bookworm)`). */
  readonly os: { readonly id: string; readonly version: string; readonly prettyName: string };
  /** `uname -r`. */
  readonly kernel: string;
  /** `uname -m`, e.g. `x86_64`. */
  readonly architecture: string;
  readonly cpus: number;
  /** MemTotal, in bytes. */
  readonly memoryBytes: number;
  readonly disks: readonly DiskFact[];
  readonly addresses: readonly AddressFact[];
  /** Installed Debian packages: name (with `:arch` when not native) → version. */
  readonly packages: Readonly<Record<string, string>>;
  /** Shared libraries known to the loader: soname → paths (one per ABI). */
  readonly libraries: Readonly<Record<string, readonly string[]>>;
  /** Loaded kernel modules (drivers), sorted. */
  readonly modules: readonly string[];
  readonly listening: readonly ListeningFact[];
  readonly users: readonly UserFact[];
  /** Whether systemd runs as init (so services are systemd units). */
  readonly systemd: boolean;
  /** Security-relevant kernel settings, by sysctl name (those the host has). */
  readonly sysctl: Readonly<Record<string, string>>;
}

export interface DiskFact {
  readonly filesystem: string;
  readonly mount: string;
  readonly sizeBytes: number;
  readonly usedBytes: number;
}

export interface AddressFact {
  /** Unknown (`""`) when read from /proc. */
  readonly interface: string;
  readonly family: "inet" | "inet6";
  readonly address: string;
  readonly prefix: number;
}

export interface ListeningFact {
  readonly protocol: "tcp" | "udp";
  readonly address: string;
  readonly port: number;
}

export interface UserFact {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

export interface ParityRow {
  /** `os`, `kernel`, `package:NAME`, `library:NAME`, `driver:NAME`, `sysctl:KEY`. */
  readonly item: string;
  /** The values seen in each environment (several when its hosts differ among themselves). */
  readonly left: readonly string[];
  readonly right: readonly string[];
}

/** `POST /api/v1/hosts/facts` `{targets?}` (`baton facts`): gathered now, kept in the state. */
export interface FactsRequest {
  /** Host or group names, or `all`; absent: every host of the environment. */
  readonly targets?: readonly string[];
}

/** Why a host could not be reached or read. */
export interface HostFailure {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
}

export interface FactsAnswer {
  /** By host name, in inventory order: when (RFC 3339) and what. */
  readonly hosts: Readonly<
    Record<string, { readonly gatheredAt: string; readonly facts: HostFacts }>
  >;
  readonly failed: Readonly<Record<string, HostFailure>>;
}

/** `POST /api/v1/parity` `{left, right}` (`baton parity`): two environments' hosts compared. */
export interface ParityRequest {
  readonly left: string;
  readonly right: string;
}

export interface ParityAnswer {
  readonly left: string;
  readonly right: string;
  /** What differs, `parity.allow` left out, in item order. */
  readonly rows: readonly ParityRow[];
  /** The differences the definition accepts (`parity.allow`). */
  readonly allowed: readonly string[];
  /** Hosts that could not be reached: host → why. */
  readonly failed: Readonly<Record<string, string>>;
}
