/**
 * What gives an app's replicas power over the host they run on, as data: the Docker socket
 * (whoever reaches it starts a privileged container), the host's system folders, paths that
 * leave the project, root, and the capabilities that undo a container's isolation. Used by
 * the `allowPrivileged` check and by the `noPrivilegedMounts` / `nonRoot` policy rules.
 */
import { isAbsolute, relative, resolve } from "node:path";

export const DOCKER_SOCKETS = ["/var/run/docker.sock", "/run/docker.sock"] as const;

/**
 * Host folders whose mount reads or changes the host itself. A folder holding one of them
 * (`/var` holds `/var/run`) is as dangerous as the folder it holds.
 */
export const SYSTEM_PATHS = [
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/proc",
  "/root",
  "/run",
  "/sbin",
  "/sys",
  "/usr",
  "/var/lib/containerd",
  "/var/lib/docker",
  "/var/log",
  "/var/run",
] as const;

/**
 * Folders holding people's homes: the folder itself or one home (its `.ssh`, its keys) is
 * the host's; a project deeper inside one is not.
 */
export const HOME_ROOTS = ["/home"] as const;

/**
 * Capabilities that reach past the container: mounts and namespaces (SYS_ADMIN), kernel
 * modules, raw devices, other processes' memory, the clock, the network stack, reading any
 * file, the LSMs, eBPF. `ALL` is every one of them.
 */
export const PRIVILEGED_CAPABILITIES = [
  "ALL",
  "BPF",
  "DAC_READ_SEARCH",
  "MAC_ADMIN",
  "MAC_OVERRIDE",
  "NET_ADMIN",
  "PERFMON",
  "SYSLOG",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_MODULE",
  "SYS_PTRACE",
  "SYS_RAWIO",
  "SYS_TIME",
] as const;

/** `CAP_SYS_ADMIN` and `SYS_ADMIN` are the same capability to Docker. */
export function capabilityName(written: string): string {
  return written.replace(/^CAP_/, "");
}

export function isPrivilegedCapability(written: string): boolean {
  return (PRIVILEGED_CAPABILITIES as readonly string[]).includes(capabilityName(written));
}

/** `root`, `0`, `0:0`, `0:1000`: the user part is what gives root's powers. */
export function isRootUser(user: string): boolean {
  const name = user.split(":")[0]?.trim();
  return name === "0" || name === "root";
}

/** The host side of a volume (`./data:/data`, `/etc:/etc:ro`); undefined for a named volume. */
export function hostSourceOf(volume: string): string | undefined {
  const source = volume.slice(0, volume.indexOf(":") === -1 ? undefined : volume.indexOf(":"));
  return source.startsWith(".") || source.startsWith("/") ? source : undefined;
}

/** Why mounting `volume` gives power over the host, or undefined when it does not. */
export function mountDanger(volume: string, projectDir: string): string | undefined {
  const source = hostSourceOf(volume);
  if (source === undefined) return undefined;
  const absolute = resolve(projectDir, source);
  const inside = relative(projectDir, absolute);
  const escapes = inside === ".." || inside.startsWith("../") || isAbsolute(inside);
  if (!escapes) return undefined;
  if (!isAbsolute(source)) return `leaves the project folder (${source} is ${absolute})`;
  if ((DOCKER_SOCKETS as readonly string[]).includes(absolute)) {
    return `is the Docker socket, which gives root on the host`;
  }
  if (absolute === "/") return "is the host's whole filesystem";
  const system = SYSTEM_PATHS.find(
    (p) => absolute === p || absolute.startsWith(`${p}/`) || p.startsWith(`${absolute}/`),
  );
  if (system !== undefined) return `is the host system folder ${absolute}`;
  if (absolute.split("/").includes(".ssh")) return "holds SSH keys of the host";
  const home = HOME_ROOTS.find(
    (h) =>
      absolute === h ||
      (absolute.startsWith(`${h}/`) && !absolute.slice(h.length + 1).includes("/")),
  );
  return home === undefined
    ? undefined
    : `is ${absolute === home ? "every" : "a"} home folder of the host`;
}
