/**
 * What a host is (OS, kernel, hardware, packages, libraries, drivers, ports, users, security
 * settings), gathered in ONE command: a fixed POSIX sh script prints each part under a marker
 * line holding a random boundary (which no file on the host can forge ahead of time), and
 * the output is parsed here. The parser is pure, so it is tested on a captured output.
 */
import { randomBytes } from "node:crypto";
import type { AddressFact, DiskFact, HostFacts, ListeningFact, UserFact } from "../api/hosts.js";
import type { ParityFacts } from "./parity.js";
import type { Transport } from "./transport.js";

export type { AddressFact, DiskFact, HostFacts, ListeningFact, UserFact };

/** The sysctl values compared between environments (security parity). */
export const SECURITY_SYSCTLS = [
  "kernel.randomize_va_space",
  "kernel.kptr_restrict",
  "kernel.dmesg_restrict",
  "kernel.yama.ptrace_scope",
  "kernel.unprivileged_bpf_disabled",
  "fs.protected_hardlinks",
  "fs.protected_symlinks",
  "fs.suid_dumpable",
  "net.ipv4.ip_forward",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.conf.all.rp_filter",
  "net.ipv4.conf.all.accept_redirects",
  "net.ipv4.conf.all.send_redirects",
  "net.ipv6.conf.all.forwarding",
] as const;

// $1 is the boundary. Every part prints even when its tool is missing (empty, or a fallback
// from /proc), so one absent tool costs one fact, not the whole gathering.
const SCRIPT = `B="$1"
part() { printf '\\n%s %s\\n' "$B" "$1"; }
has() { command -v "$1" >/dev/null 2>&1; }
PATH="$PATH:/usr/sbin:/sbin"
part hostname; uname -n
part os-release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
part kernel; uname -r
part architecture; uname -m
part cpus; getconf _NPROCESSORS_ONLN 2>/dev/null || grep -c '^processor' /proc/cpuinfo
part meminfo; grep '^MemTotal:' /proc/meminfo
part df; df -P -k 2>/dev/null
if has ip; then part ip-addr; ip -o addr show 2>/dev/null
else part proc-fib-trie; cat /proc/net/fib_trie 2>/dev/null; part proc-if-inet6; cat /proc/net/if_inet6 2>/dev/null; fi
part dpkg; has dpkg-query && dpkg-query -W -f '\${db:Status-Abbrev}\\t\${binary:Package}\\t\${Version}\\n' 2>/dev/null
part ldconfig; has ldconfig && ldconfig -p 2>/dev/null
part modules; cat /proc/modules 2>/dev/null
if has ss; then part ss; ss -ltnuH 2>/dev/null
else for f in tcp tcp6 udp udp6; do part "proc-net-$f"; cat "/proc/net/$f" 2>/dev/null; done; fi
part passwd; getent passwd 2>/dev/null || cat /etc/passwd
part systemd; if [ -d /run/systemd/system ]; then echo yes; else echo no; fi
part sysctl
for k in ${SECURITY_SYSCTLS.join(" ")}; do
  f="/proc/sys/$(printf '%s' "$k" | tr . /)"
  if [ -r "$f" ]; then printf '%s %s\\n' "$k" "$(cat "$f")"; fi
done
part end
`;

/** The one command that prints every fact, each part under a `BOUNDARY name` line. */
export function factsCommand(boundary: string): string[] {
  return ["sh", "-c", SCRIPT, "sh", boundary];
}

/** Gathers the host's facts in one round trip. */
export async function gatherFacts(transport: Transport): Promise<HostFacts> {
  const boundary = `--baton-facts-${randomBytes(12).toString("hex")}`;
  const result = await transport.exec(factsCommand(boundary));
  const output = result.stdout.toString("utf8");
  if (!output.includes(`${boundary} end`)) {
    throw new Error(
      `${transport.host}: gathering facts failed (exit code ${result.code}): ${result.stderr.toString("utf8").trim().slice(0, 500)}`,
    );
  }
  return parseFacts(output, boundary);
}

/** Splits the script's output into its parts, by name. */
export function splitParts(output: string, boundary: string): Map<string, string> {
  const parts = new Map<string, string>();
  const marker = `\n${boundary} `;
  const pieces = `\n${output}`.split(marker).slice(1);
  for (const piece of pieces) {
    const newline = piece.indexOf("\n");
    const name = newline === -1 ? piece : piece.slice(0, newline);
    parts.set(name.trim(), newline === -1 ? "" : piece.slice(newline + 1));
  }
  return parts;
}

function lines(text: string | undefined): string[] {
  return (text ?? "").split("\n").filter((line) => line.trim() !== "");
}

/** The facts in the output of the script, marked with `boundary`. */
export function parseFacts(output: string, boundary: string): HostFacts {
  const parts = splitParts(output, boundary);
  const osRelease = parseOsRelease(parts.get("os-release") ?? "");
  return {
    hostname: (parts.get("hostname") ?? "").trim(),
    os: {
      id: osRelease.ID ?? "",
      version: osRelease.VERSION_ID ?? "",
      prettyName: osRelease.PRETTY_NAME ?? "",
    },
    kernel: (parts.get("kernel") ?? "").trim(),
    architecture: (parts.get("architecture") ?? "").trim(),
    cpus: Number.parseInt(parts.get("cpus") ?? "", 10) || 0,
    memoryBytes: parseMemTotal(parts.get("meminfo") ?? ""),
    disks: parseDf(parts.get("df") ?? ""),
    addresses: parts.has("ip-addr")
      ? parseIpAddr(parts.get("ip-addr") ?? "")
      : [
          ...parseFibTrie(parts.get("proc-fib-trie") ?? ""),
          ...parseIfInet6(parts.get("proc-if-inet6") ?? ""),
        ],
    packages: parseDpkg(parts.get("dpkg") ?? ""),
    libraries: parseLdconfig(parts.get("ldconfig") ?? ""),
    modules: lines(parts.get("modules"))
      .map((line) => line.split(" ")[0] ?? "")
      .filter(Boolean)
      .sort(),
    listening: parts.has("ss")
      ? parseSs(parts.get("ss") ?? "")
      : (["tcp", "tcp6", "udp", "udp6"] as const).flatMap((file) =>
          parseProcNet(parts.get(`proc-net-${file}`) ?? "", file),
        ),
    users: parsePasswd(parts.get("passwd") ?? ""),
    systemd: (parts.get("systemd") ?? "").trim() === "yes",
    sysctl: Object.fromEntries(
      lines(parts.get("sysctl")).map((line) => {
        const space = line.indexOf(" ");
        return [line.slice(0, space), line.slice(space + 1).trim()];
      }),
    ),
  };
}

export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of lines(text)) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] === undefined || match[2] === undefined) continue;
    let value = match[2];
    if (/^".*"$|^'.*'$/.test(value)) value = value.slice(1, -1).replace(/\\(["\\$`])/g, "$1");
    fields[match[1]] = value;
  }
  return fields;
}

function parseMemTotal(text: string): number {
  const match = /MemTotal:\s+(\d+)\s*kB/.exec(text);
  return match?.[1] !== undefined ? Number(match[1]) * 1024 : 0;
}

function parseDf(text: string): DiskFact[] {
  // df -P: Filesystem 1024-blocks Used Available Capacity Mounted-on (the mount may hold spaces).
  return lines(text)
    .slice(1)
    .flatMap((line) => {
      const match = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\S+\s+(.+)$/.exec(line);
      if (match === null) return [];
      const [, filesystem = "", size = "0", used = "0", , mount = ""] = match;
      return [
        { filesystem, mount, sizeBytes: Number(size) * 1024, usedBytes: Number(used) * 1024 },
      ];
    });
}

function parseIpAddr(text: string): AddressFact[] {
  // `2: eth0    inet 172.17.0.3/16 brd … scope global eth0\       valid_lft …`
  return lines(text).flatMap((line) => {
    const match = /^\d+:\s+(\S+)\s+(inet6?)\s+([0-9a-fA-F.:]+)\/(\d+)/.exec(line);
    if (match === null) return [];
    const [, name = "", family, address = "", prefix = "0"] = match;
    return [
      {
        interface: name.replace(/@.*$/, ""),
        family: family === "inet6" ? ("inet6" as const) : ("inet" as const),
        address,
        prefix: Number(prefix),
      },
    ];
  });
}

/** /proc/net/fib_trie: an address line followed by `/32 host LOCAL` is one of the host's. */
function parseFibTrie(text: string): AddressFact[] {
  const found = new Set<string>();
  const all = text.split("\n");
  for (const [index, line] of all.entries()) {
    const match = /[|+]--\s+(\d+\.\d+\.\d+\.\d+)/.exec(line);
    if (match?.[1] !== undefined && /\/32 host LOCAL/.test(all[index + 1] ?? "")) {
      found.add(match[1]);
    }
  }
  return [...found].map((address) => ({ interface: "", family: "inet", address, prefix: 32 }));
}

function parseIfInet6(text: string): AddressFact[] {
  // `fe800000000000000042acfffe110003 02 40 20 80 eth0`
  return lines(text).flatMap((line) => {
    const [hex, , prefix, , , name] = line.trim().split(/\s+/);
    if (hex?.length !== 32) return [];
    const groups = hex.match(/.{4}/g) ?? [];
    const address = groups.map((group) => group.replace(/^0{1,3}/, "")).join(":");
    return [
      {
        interface: name ?? "",
        family: "inet6" as const,
        address,
        prefix: Number.parseInt(prefix ?? "0", 16),
      },
    ];
  });
}

function parseDpkg(text: string): Record<string, string> {
  const packages: Record<string, string> = {};
  for (const line of lines(text)) {
    const [status, name, version] = line.split("\t");
    // `ii`: installed; half-installed or config-only packages are not counted.
    if (status?.trim() !== "ii" || name === undefined || version === undefined) continue;
    packages[name] = version;
  }
  return packages;
}

function parseLdconfig(text: string): Record<string, string[]> {
  const libraries: Record<string, string[]> = {};
  for (const line of lines(text)) {
    const match = /^\s+(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)/.exec(line);
    if (match?.[1] === undefined || match[3] === undefined) continue;
    const paths = libraries[match[1]] ?? [];
    if (!paths.includes(match[3])) paths.push(match[3]);
    libraries[match[1]] = paths;
  }
  return libraries;
}

/** `ss -ltnuH`: Netid State Recv-Q Send-Q Local:Port Peer:Port. */
function parseSs(text: string): ListeningFact[] {
  return dedupe(
    lines(text).flatMap((line) => {
      const [netid, , , , local] = line.trim().split(/\s+/);
      if ((netid !== "tcp" && netid !== "udp") || local === undefined) return [];
      const colon = local.lastIndexOf(":");
      const port = Number(local.slice(colon + 1));
      const address = local
        .slice(0, colon)
        .replace(/^\[|\]$/g, "")
        .replace(/%.*$/, "");
      return Number.isInteger(port) ? [{ protocol: netid, address, port }] : [];
    }),
  );
}

/** /proc/net/{tcp,udp}[6]: listening TCP sockets have state 0A, bound UDP ones 07. */
function parseProcNet(text: string, file: "tcp" | "tcp6" | "udp" | "udp6"): ListeningFact[] {
  const protocol = file.startsWith("tcp") ? ("tcp" as const) : ("udp" as const);
  const wanted = protocol === "tcp" ? "0A" : "07";
  return dedupe(
    lines(text)
      .slice(1)
      .flatMap((line) => {
        const [, local, , state] = line.trim().split(/\s+/);
        if (state !== wanted || local === undefined) return [];
        const [hex = "", portHex = ""] = local.split(":");
        return [{ protocol, address: procAddress(hex), port: Number.parseInt(portHex, 16) }];
      }),
  );
}

/** A /proc/net address: 32-bit words in host (little-endian here) byte order. */
function procAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) => (word.match(/.{2}/g) ?? []).reverse());
  if (bytes.length === 4) return bytes.map((byte) => Number.parseInt(byte, 16)).join(".");
  const groups: string[] = [];
  for (let i = 0; i < bytes.length; i += 2) {
    groups.push(Number.parseInt(`${bytes[i]}${bytes[i + 1]}`, 16).toString(16));
  }
  const full = groups.join(":");
  return full === "0:0:0:0:0:0:0:0" ? "::" : full;
}

function dedupe(listening: ListeningFact[]): ListeningFact[] {
  const seen = new Set<string>();
  return listening.filter((entry) => {
    const key = `${entry.protocol} ${entry.address} ${entry.port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function parsePasswd(text: string): UserFact[] {
  return lines(text).flatMap((line) => {
    const [name, , uid, gid, , home, shell] = line.split(":");
    if (name === undefined || uid === undefined || gid === undefined) return [];
    return [{ name, uid: Number(uid), gid: Number(gid), home: home ?? "", shell: shell ?? "" }];
  });
}

/** `<ID>-<VERSION_ID>` (`debian-12`): how environments' `require: { os }` and parity name an OS. */
export function osName(facts: HostFacts): string {
  return `${facts.os.id}-${facts.os.version}`;
}

/**
 * The facts as parity and environment requirements compare them (ParityFacts and
 * RequirementFacts of parity.ts / requirements.ts): the OS by name, each library by where
 * it resolves, kernel modules as drivers.
 */
export function comparableFacts(facts: HostFacts): ParityFacts {
  return {
    os: osName(facts),
    kernel: facts.kernel,
    packages: facts.packages,
    libraries: Object.fromEntries(
      Object.entries(facts.libraries).map(([name, paths]) => [name, [...paths].sort().join(" ")]),
    ),
    drivers: facts.modules,
    sysctl: facts.sysctl,
  };
}
