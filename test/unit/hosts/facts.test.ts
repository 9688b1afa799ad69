import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  comparableFacts,
  osName,
  parseFacts,
  parseOsRelease,
  splitParts,
} from "../../../src/hosts/facts.js";

// Captured from a test host (Debian 12 container) with this boundary, then trimmed; the two
// /proc/modules lines were added (a container shows none) and one `rc` package line.
const BOUNDARY = "--baton-facts-0123456789abcdef01234567";
const CAPTURED = readFileSync(new URL("./fixtures/facts-debian12.txt", import.meta.url), "utf8");

describe("parseFacts", () => {
  const facts = parseFacts(CAPTURED, BOUNDARY);

  it("reads the OS, kernel, architecture, CPUs and memory", () => {
    expect(facts.os).toEqual({
      id: "debian",
      version: "12",
      prettyName: "Debian GNU/Linux 12 (bookworm)",
    });
    expect(facts.kernel).toMatch(/^\d+\.\d+/);
    expect(facts.architecture).toBe("x86_64");
    expect(facts.cpus).toBe(2);
    expect(facts.memoryBytes).toBeGreaterThan(1024 * 1024 * 1024);
    expect(facts.hostname).toMatch(/^baton-host-/);
  });

  it("reads the installed packages with their versions, not removed ones", () => {
    expect(facts.packages["openssh-server"]).toBe("1:9.2p1-2+deb12u10");
    expect(facts.packages.sudo).toBe("1.9.13p3-1+deb12u4");
    expect(facts.packages["removed-but-config"]).toBeUndefined();
  });

  it("reads shared libraries, one path per soname and ABI", () => {
    expect(facts.libraries["libz.so.1"]).toEqual(["/lib/x86_64-linux-gnu/libz.so.1"]);
    expect(facts.libraries["libc.so.6"]).toEqual(["/lib/x86_64-linux-gnu/libc.so.6"]);
  });

  it("reads disks, addresses, modules, listening ports, users, systemd and sysctls", () => {
    expect(facts.disks).toContainEqual(
      expect.objectContaining({ mount: "/", filesystem: "overlay" }),
    );
    expect(facts.disks.find((disk) => disk.mount === "/")?.sizeBytes).toBeGreaterThan(0);
    expect(facts.addresses).toContainEqual({
      interface: "lo",
      family: "inet",
      address: "127.0.0.1",
      prefix: 8,
    });
    expect(facts.modules).toEqual(["br_netfilter", "overlay"]);
    expect(facts.listening).toEqual([
      { protocol: "tcp", address: "0.0.0.0", port: 22 },
      { protocol: "tcp", address: "::", port: 22 },
    ]);
    expect(facts.users).toContainEqual({
      name: "root",
      uid: 0,
      gid: 0,
      home: "/root",
      shell: "/bin/bash",
    });
    expect(facts.users.map((user) => user.name)).toContain("deploy");
    expect(facts.systemd).toBe(false);
    expect(facts.sysctl["kernel.randomize_va_space"]).toBe("2");
    expect(Object.keys(facts.sysctl)).toContain("net.ipv4.ip_forward");
  });

  it("gives the view parity and requirements compare", () => {
    expect(osName(facts)).toBe("debian-12");
    const comparable = comparableFacts(facts);
    expect(comparable.os).toBe("debian-12");
    expect(comparable.libraries["libz.so.1"]).toBe("/lib/x86_64-linux-gnu/libz.so.1");
    expect(comparable.drivers).toEqual(["br_netfilter", "overlay"]);
    expect(comparable.packages["openssh-server"]).toBe("1:9.2p1-2+deb12u10");
  });

  it("ignores a line that looks like a marker but lacks the boundary", () => {
    const forged = CAPTURED.replace(
      "ii \tsudo\t",
      "--baton-facts-forged systemd\nyes\nii \tsudo\t",
    );
    expect(parseFacts(forged, BOUNDARY).systemd).toBe(false);
  });

  it("falls back to /proc for addresses and listening ports", () => {
    const proc = [
      `${BOUNDARY} proc-fib-trie`,
      "Main:",
      "  +-- 0.0.0.0/0 3 0 5",
      "     |-- 10.1.2.3",
      "        /32 host LOCAL",
      "     |-- 10.1.2.255",
      "        /32 link BROADCAST",
      `${BOUNDARY} proc-if-inet6`,
      "00000000000000000000000000000001 01 80 10 80       lo",
      `${BOUNDARY} proc-net-tcp`,
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid",
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0",
      "   1: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0",
      `${BOUNDARY} proc-net-udp6`,
      "  sl  local_address                         remote_address                        st",
      "   0: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 07",
      `${BOUNDARY} end`,
    ].join("\n");
    const facts = parseFacts(proc, BOUNDARY);
    expect(facts.addresses).toEqual([
      { interface: "", family: "inet", address: "10.1.2.3", prefix: 32 },
      { interface: "lo", family: "inet6", address: "0:0:0:0:0:0:0:1", prefix: 128 },
    ]);
    expect(facts.listening).toEqual([
      { protocol: "tcp", address: "127.0.0.1", port: 8080 },
      { protocol: "udp", address: "::", port: 53 },
    ]);
  });

  it("splits parts only at boundary lines", () => {
    const parts = splitParts(`x\n${BOUNDARY} a\n1\n${BOUNDARY} b\n2\n`, BOUNDARY);
    expect([...parts.entries()]).toEqual([
      ["a", "1"],
      ["b", "2\n"],
    ]);
  });

  it("unquotes os-release values", () => {
    expect(parseOsRelease('NAME="Debian \\"x\\""\nID=debian\n# c\n')).toEqual({
      NAME: 'Debian "x"',
      ID: "debian",
    });
  });
});
