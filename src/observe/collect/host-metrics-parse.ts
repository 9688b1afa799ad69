/**
 * Reads what the host-metrics script prints (see host-metrics.ts) into numbers: a pure
 * function, so it is tested on output captured from real machines. Each part is under a
 * `BOUNDARY name` line; a part that is missing or unreadable is an error naming the file
 * it came from, since a silent zero would look like a real measurement.
 */

export interface HostCpuSeconds {
  readonly user: number;
  readonly nice: number;
  readonly system: number;
  readonly idle: number;
  readonly iowait: number;
  readonly irq: number;
  readonly softirq: number;
  readonly steal: number;
}

export interface HostFilesystem {
  /** The mount point. */
  readonly mount: string;
  /** The device or source (`/dev/vda1`, `overlay`). */
  readonly device: string;
  readonly type: string;
  readonly sizeBytes: number;
  readonly usedBytes: number;
  readonly availableBytes: number;
}

export interface HostNetworkDevice {
  readonly device: string;
  readonly receivedBytes: number;
  readonly sentBytes: number;
}

export interface HostMetricsReading {
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
  /** Cumulative since boot, per mode (guest time is already inside user and nice). */
  readonly cpuSeconds: HostCpuSeconds;
  readonly memoryTotalBytes: number;
  /** What can be given to new work without swapping (MemAvailable). */
  readonly memoryAvailableBytes: number;
  readonly filesystems: readonly HostFilesystem[];
  readonly network: readonly HostNetworkDevice[];
}

export class HostMetricsParseError extends Error {
  override readonly name = "HostMetricsParseError";

  constructor(
    readonly host: string,
    message: string,
  ) {
    super(`host ${host}: ${message}`);
  }
}

/**
 * Filesystems that hold no disk: kernel views, memory, and per-process namespaces. `overlay`
 * is not among them: it is a container's root, and its size is the disk's.
 */
const PSEUDO_FILESYSTEMS = new Set([
  "autofs",
  "binfmt_misc",
  "bpf",
  "cgroup",
  "cgroup2",
  "configfs",
  "debugfs",
  "devpts",
  "devtmpfs",
  "efivarfs",
  "fuse.lxcfs",
  "fusectl",
  "hugetlbfs",
  "mqueue",
  "nsfs",
  "proc",
  "pstore",
  "ramfs",
  "rpc_pipefs",
  "securityfs",
  "selinuxfs",
  "squashfs",
  "sysfs",
  "tmpfs",
  "tracefs",
]);

/**
 * Kernel views mounted in containers (e.g. tmpfs over /proc/acpi) are never disks, and the
 * files a container engine bind-mounts into a container show the host's disk again.
 */
const PSEUDO_MOUNT = /^\/(?:(?:proc|sys|dev)(?:\/|$)|etc\/(?:hosts|hostname|resolv\.conf)$)/;

/**
 * Network devices left out: the loopback, and the host ends of container veth pairs, which
 * come and go with every container and say nothing the bridge they join does not.
 */
const SKIPPED_DEVICE = /^(?:lo|veth.*)$/;

/** Splits the script's output into its parts, by name. */
export function splitParts(output: string, boundary: string): Map<string, string> {
  const parts = new Map<string, string>();
  const marker = `${boundary} `;
  let name: string | null = null;
  let body: string[] = [];
  for (const line of output.split("\n")) {
    if (line.startsWith(marker)) {
      if (name !== null) parts.set(name, body.join("\n"));
      name = line.slice(marker.length).trim();
      body = [];
    } else if (name !== null) {
      body.push(line);
    }
  }
  if (name !== null) parts.set(name, body.join("\n"));
  return parts;
}

export function parseHostMetrics(
  host: string,
  output: string,
  boundary: string,
): HostMetricsReading {
  const parts = splitParts(output, boundary);
  const part = (name: string, source: string): string => {
    const text = parts.get(name);
    if (text === undefined || text.trim() === "") {
      throw new HostMetricsParseError(
        host,
        `${source} printed nothing; host metrics need a Linux host with /proc mounted`,
      );
    }
    return text;
  };
  const load = parseLoadavg(host, part("loadavg", "/proc/loadavg"));
  const ticks = parseClockTicks(host, parts.get("clk_tck") ?? "");
  const memory = parseMeminfo(host, part("meminfo", "/proc/meminfo"));
  const mountTypes = parseMountTypes(parts.get("mounts") ?? "");
  return {
    load1: load[0],
    load5: load[1],
    load15: load[2],
    cpuSeconds: parseCpuLine(host, part("stat", "/proc/stat"), ticks),
    memoryTotalBytes: memory.total,
    memoryAvailableBytes: memory.available,
    filesystems: parseDf(host, parts.get("df") ?? "", mountTypes),
    network: parseNetDev(host, part("netdev", "/proc/net/dev")),
  };
}

function parseLoadavg(host: string, text: string): [number, number, number] {
  // `0.52 0.58 0.59 2/870 12345`
  const match = /^\s*(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)\s/.exec(text);
  if (match === null) {
    throw new HostMetricsParseError(
      host,
      `/proc/loadavg is not three load averages: ${JSON.stringify(text.trim().slice(0, 100))}`,
    );
  }
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** USER_HZ; 100 on every Linux architecture Baton targets when getconf is absent. */
function parseClockTicks(host: string, text: string): number {
  const trimmed = text.trim();
  if (trimmed === "") return 100;
  const ticks = Number(trimmed);
  if (!Number.isInteger(ticks) || ticks <= 0) {
    throw new HostMetricsParseError(
      host,
      `getconf CLK_TCK printed ${JSON.stringify(trimmed.slice(0, 50))}, not a tick rate`,
    );
  }
  return ticks;
}

const CPU_MODES = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"] as const;

function parseCpuLine(host: string, text: string, ticksPerSecond: number): HostCpuSeconds {
  // `cpu  user nice system idle iowait irq softirq steal guest guest_nice`, in ticks; older
  // kernels print fewer columns, which read as zero.
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  const fields = line?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  if (line === undefined || fields.length < 4 || fields.some((n) => !Number.isFinite(n))) {
    throw new HostMetricsParseError(
      host,
      `/proc/stat has no readable "cpu" line: ${JSON.stringify((line ?? text).slice(0, 120))}`,
    );
  }
  const seconds = (i: number): number => (fields[i] ?? 0) / ticksPerSecond;
  const out: Record<(typeof CPU_MODES)[number], number> = {
    user: 0,
    nice: 0,
    system: 0,
    idle: 0,
    iowait: 0,
    irq: 0,
    softirq: 0,
    steal: 0,
  };
  CPU_MODES.forEach((mode, i) => {
    out[mode] = seconds(i);
  });
  return out;
}

function parseMeminfo(host: string, text: string): { total: number; available: number } {
  const kib = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(\w+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (match?.[1] !== undefined) kib.set(match[1], Number(match[2]));
  }
  const total = kib.get("MemTotal");
  if (total === undefined) {
    throw new HostMetricsParseError(host, "/proc/meminfo has no MemTotal line");
  }
  // Kernels before 3.14 have no MemAvailable: free + reclaimable caches is its estimate.
  const available =
    kib.get("MemAvailable") ??
    (kib.get("MemFree") ?? 0) + (kib.get("Buffers") ?? 0) + (kib.get("Cached") ?? 0);
  return { total: total * 1024, available: available * 1024 };
}

/** /proc/mounts: mount point → filesystem type (the last mount on a point wins, as in use). */
function parseMountTypes(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    if (fields.length < 3) continue;
    types.set(unescapeMount(fields[1] as string), fields[2] as string);
  }
  return types;
}

/** /proc/mounts writes space, tab, newline and backslash in paths as octal escapes. */
function unescapeMount(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
}

function parseDf(host: string, text: string, types: ReadonlyMap<string, string>): HostFilesystem[] {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0) return [];
  const header = lines[0] as string;
  if (!/^Filesystem\s+1024-blocks\s+Used\s+Available\s+Capacity\s+Mounted on/.test(header)) {
    throw new HostMetricsParseError(
      host,
      `df -P -k printed an unexpected header: ${JSON.stringify(header.slice(0, 120))}`,
    );
  }
  const found: HostFilesystem[] = [];
  const seen = new Set<string>();
  for (const line of lines.slice(1)) {
    // Filesystem 1024-blocks Used Available Capacity Mounted-on (the mount may hold spaces).
    const match = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\S+\s+(.+)$/.exec(line);
    if (match === null) {
      throw new HostMetricsParseError(
        host,
        `df -P -k printed a line that is not a filesystem: ${JSON.stringify(line.slice(0, 120))}`,
      );
    }
    const [, device = "", size = "0", used = "0", available = "0", mount = ""] = match;
    const type = types.get(mount) ?? "";
    if (PSEUDO_FILESYSTEMS.has(type) || PSEUDO_MOUNT.test(mount) || Number(size) === 0) continue;
    // The same filesystem seen through another mount (a container's bind-mounted
    // /etc/hosts shows the disk under its root's overlay): count it once.
    const key = `${size}/${used}/${available}`;
    if (seen.has(key)) continue;
    seen.add(key);
    found.push({
      mount,
      device,
      type,
      sizeBytes: Number(size) * 1024,
      usedBytes: Number(used) * 1024,
      availableBytes: Number(available) * 1024,
    });
  }
  return found;
}

function parseNetDev(host: string, text: string): HostNetworkDevice[] {
  const devices: HostNetworkDevice[] = [];
  // Two header lines, then `  eth0: rx_bytes packets errs drop fifo frame compressed
  // multicast tx_bytes ...` (older kernels put no space after the colon).
  for (const line of text.split("\n").slice(2)) {
    if (line.trim() === "") continue;
    const colon = line.indexOf(":");
    const fields =
      colon < 0
        ? []
        : line
            .slice(colon + 1)
            .trim()
            .split(/\s+/)
            .map(Number);
    if (colon < 0 || fields.length < 16 || fields.some((n) => !Number.isFinite(n))) {
      throw new HostMetricsParseError(
        host,
        `/proc/net/dev has a line that is not a device's counters: ${JSON.stringify(line.slice(0, 120))}`,
      );
    }
    const device = line.slice(0, colon).trim();
    if (SKIPPED_DEVICE.test(device)) continue;
    devices.push({
      device,
      receivedBytes: fields[0] as number,
      sentBytes: fields[8] as number,
    });
  }
  return devices;
}
