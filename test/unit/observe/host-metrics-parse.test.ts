import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  HOST_METRICS_BOUNDARY,
  HostMetricsParseError,
  hostMetricSamples,
  parseHostMetrics,
} from "../../../src/observe/collect/index.js";

// Captured on the development VM with hostMetricsCommand() (one sandbox-only mount line
// removed): a Docker host with ext4 on /dev/vda, cgroup v1 and a few idle devices.
const VM = readFileSync(new URL("./fixtures/host-metrics-vm.txt", import.meta.url), "utf8");
const B = HOST_METRICS_BOUNDARY;

/** Output made of the given parts, as the script prints it. */
function output(parts: Record<string, string>): string {
  const body = Object.entries(parts)
    .map(([name, text]) => `\n${B} ${name}\n${text}`)
    .join("");
  return `${body}\n${B} end\n`;
}

const NETDEV_HEADER = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed`;

const MINIMAL = {
  loadavg: "0.00 0.01 0.05 1/80 100",
  stat: "cpu  100 0 50 1000 0 0 0 0 0 0\ncpu0 100 0 50 1000 0 0 0 0 0 0",
  meminfo: "MemTotal:        1000 kB\nMemAvailable:     600 kB",
  netdev: NETDEV_HEADER,
};

function rawLine(name: string): string {
  const line = VM.split("\n").find((l) => l.startsWith(name));
  if (line === undefined) throw new Error(`fixture has no ${name} line`);
  return line;
}

describe("parseHostMetrics on a real capture", () => {
  const reading = parseHostMetrics("vm", VM, B);

  it("reads load, CPU seconds (ticks / CLK_TCK) and memory", () => {
    const [l1, l5, l15] = rawLine("10.").split(" ").map(Number);
    expect([reading.load1, reading.load5, reading.load15]).toEqual([l1, l5, l15]);
    const ticks = rawLine("cpu ").trim().split(/\s+/).slice(1).map(Number);
    expect(reading.cpuSeconds.user).toBeCloseTo((ticks[0] ?? 0) / 100, 6);
    expect(reading.cpuSeconds.system).toBeCloseTo((ticks[2] ?? 0) / 100, 6);
    expect(reading.cpuSeconds.idle).toBeCloseTo((ticks[3] ?? 0) / 100, 6);
    expect(reading.cpuSeconds.softirq).toBeCloseTo((ticks[6] ?? 0) / 100, 6);
    expect(reading.memoryTotalBytes).toBe(24_683_620 * 1024);
    const available = Number(/MemAvailable:\s+(\d+)/.exec(VM)?.[1]);
    expect(reading.memoryAvailableBytes).toBe(available * 1024);
  });

  it("keeps the disk filesystems and leaves tmpfs, devtmpfs and cgroup views out", () => {
    expect(reading.filesystems.map((f) => [f.mount, f.device, f.type])).toEqual([
      ["/", "/dev/vda", "ext4"],
    ]);
    const root = reading.filesystems[0];
    expect(root?.sizeBytes).toBe(264_212_084 * 1024);
    expect(root?.usedBytes).toBeGreaterThan(0);
    expect(root?.availableBytes).toBeGreaterThan(0);
  });

  it("reads each network device's byte counters, without lo", () => {
    expect(reading.network.map((n) => n.device)).toEqual([
      "ifb0",
      "ifb1",
      "eth0",
      "docker0",
      "docker_gwbridge",
    ]);
    expect(reading.network.find((n) => n.device === "eth0")).toEqual({
      device: "eth0",
      receivedBytes: 2_451_023_361,
      sentBytes: 7_933_436,
    });
  });

  it("turns into labelled samples", () => {
    const samples = hostMetricSamples("vm", reading, 1_000);
    const find = (name: string, labels: Record<string, string>) =>
      samples.find(
        (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
      );
    expect(find("baton_host_memory_bytes", { kind: "total" })?.value).toBe(24_683_620 * 1024);
    expect(find("baton_host_filesystem_bytes", { mount: "/", kind: "size" })?.labels).toEqual({
      host: "vm",
      mount: "/",
      kind: "size",
    });
    expect(
      find("baton_host_network_bytes_total", { device: "docker0", direction: "sent" })?.value,
    ).toBe(775_030_624);
    expect(samples.filter((s) => s.name === "baton_host_cpu_seconds_total")).toHaveLength(8);
    expect(samples.every((s) => s.at === 1_000 && s.labels.host === "vm")).toBe(true);
  });
});

describe("parseHostMetrics on a real Debian 12 container (no network)", () => {
  const captured = readFileSync(
    new URL("./fixtures/host-metrics-debian12-container.txt", import.meta.url),
    "utf8",
  );
  const reading = parseHostMetrics("debian", captured, B);

  it("sees the overlay root as the one disk, and no device but lo (left out)", () => {
    expect(reading.filesystems.map((f) => [f.mount, f.device, f.type])).toEqual([
      ["/", "overlay", "overlay"],
    ]);
    expect(reading.network).toEqual([]);
  });

  it("reads the host kernel's load, CPU and memory through the container's /proc", () => {
    expect(reading.memoryTotalBytes).toBe(24_683_620 * 1024);
    expect(reading.memoryAvailableBytes).toBeGreaterThan(0);
    expect(reading.cpuSeconds.idle).toBeGreaterThan(0);
    expect(reading.load1).toBeGreaterThanOrEqual(0);
  });
});

describe("parseHostMetrics edge cases", () => {
  it("counts a container's disk once: its overlay root, not the bind-mounted /etc/hosts", () => {
    // df -P -k of a Debian 12 container on this machine (test/unit/hosts/fixtures).
    const df = `Filesystem     1024-blocks     Used Available Capacity Mounted on
overlay          264212084 24970472  81420440      24% /
tmpfs                65536        0     65536       0% /dev
tmpfs             12341808        0  12341808       0% /sys/fs/cgroup
shm                  65536        0     65536       0% /dev/shm
/dev/vda         264212084 24970472  81420440      24% /etc/hosts
tmpfs             12341808        0  12341808       0% /proc/acpi
tmpfs             12341808        0  12341808       0% /sys/firmware`;
    // No /proc/mounts part: the mount points alone still tell the kernel views apart.
    const reading = parseHostMetrics("c1", output({ ...MINIMAL, df }), B);
    expect(reading.filesystems.map((f) => [f.mount, f.device])).toEqual([["/", "overlay"]]);
  });

  it("reads a mount point with spaces, typed through /proc/mounts' octal escapes", () => {
    const mounts = "/dev/sdb1 /srv/my\\040data ext4 rw 0 0\ntmpfs /run tmpfs rw 0 0";
    const df = `Filesystem 1024-blocks Used Available Capacity Mounted on
/dev/sdb1 1000 400 600 40% /srv/my data
tmpfs 2000 10 1990 1% /run`;
    const reading = parseHostMetrics("h", output({ ...MINIMAL, mounts, df }), B);
    expect(reading.filesystems).toEqual([
      {
        mount: "/srv/my data",
        device: "/dev/sdb1",
        type: "ext4",
        sizeBytes: 1_024_000,
        usedBytes: 409_600,
        availableBytes: 614_400,
      },
    ]);
  });

  it("reads an old kernel: no MemAvailable, fewer cpu columns, no space after the colon", () => {
    const reading = parseHostMetrics(
      "old",
      output({
        loadavg: "1.50 1.00 0.50 2/100 4242",
        clk_tck: "",
        stat: "cpu  200 10 100 5000 20 1 2",
        meminfo: "MemTotal: 2048 kB\nMemFree: 512 kB\nBuffers: 128 kB\nCached: 256 kB",
        netdev: `${NETDEV_HEADER}\n  eth0:1234 5 0 0 0 0 0 0 5678 6 0 0 0 0 0 0`,
      }),
      B,
    );
    expect(reading.memoryAvailableBytes).toBe((512 + 128 + 256) * 1024);
    expect(reading.cpuSeconds).toEqual({
      user: 2,
      nice: 0.1,
      system: 1,
      idle: 50,
      iowait: 0.2,
      irq: 0.01,
      softirq: 0.02,
      steal: 0,
    });
    expect(reading.network).toEqual([{ device: "eth0", receivedBytes: 1234, sentBytes: 5678 }]);
    expect(reading.filesystems).toEqual([]);
  });

  it("leaves out container veth ends", () => {
    const netdev = `${NETDEV_HEADER}
vethab12cd: 10 1 0 0 0 0 0 0 20 2 0 0 0 0 0 0
  eth0: 30 3 0 0 0 0 0 0 40 4 0 0 0 0 0 0`;
    const reading = parseHostMetrics("h", output({ ...MINIMAL, netdev }), B);
    expect(reading.network.map((n) => n.device)).toEqual(["eth0"]);
  });

  it("uses the host's own tick rate", () => {
    const reading = parseHostMetrics("h", output({ ...MINIMAL, clk_tck: "250" }), B);
    expect(reading.cpuSeconds.user).toBe(0.4);
  });

  it("fails naming the host and the file when a part is missing or unreadable", () => {
    const { loadavg: _, ...noLoad } = MINIMAL;
    expect(() => parseHostMetrics("web1", output(noLoad), B)).toThrow(
      new HostMetricsParseError(
        "web1",
        "/proc/loadavg printed nothing; host metrics need a Linux host with /proc mounted",
      ),
    );
    expect(() => parseHostMetrics("web1", output({ ...MINIMAL, loadavg: "n/a" }), B)).toThrow(
      /host web1: \/proc\/loadavg is not three load averages: "n\/a"/,
    );
    expect(() =>
      parseHostMetrics("web1", output({ ...MINIMAL, meminfo: "MemFree: 1 kB" }), B),
    ).toThrow(/host web1: \/proc\/meminfo has no MemTotal line/);
    expect(() => parseHostMetrics("web1", output({ ...MINIMAL, stat: "intr 1 2 3" }), B)).toThrow(
      /host web1: \/proc\/stat has no readable "cpu" line/,
    );
    expect(() =>
      parseHostMetrics(
        "web1",
        output({ ...MINIMAL, df: "Filesystem Size Used Avail Use% Mounted on" }),
        B,
      ),
    ).toThrow(/df -P -k printed an unexpected header/);
    expect(() =>
      parseHostMetrics(
        "web1",
        output({ ...MINIMAL, netdev: `${NETDEV_HEADER}\n  eth0: 1 2 3` }),
        B,
      ),
    ).toThrow(/\/proc\/net\/dev has a line that is not a device's counters: " {2}eth0: 1 2 3"/);
    expect(() => parseHostMetrics("web1", output({ ...MINIMAL, clk_tck: "fast" }), B)).toThrow(
      /getconf CLK_TCK printed "fast"/,
    );
  });
});
