import { describe, expect, it } from "vitest";
import type { SysctlResource } from "../../../../src/definition/host-model.js";
import { WRITE_SCRIPT } from "../../../../src/hosts/modules/path-state.js";
import { SYSCTL_FILE, sysctlModule } from "../../../../src/hosts/modules/sysctl.js";
import { common, results, stat } from "./fixtures.js";

const forward: SysctlResource = {
  ...common,
  module: "sysctl",
  key: "net.ipv4.ip_forward",
  value: "1",
  persist: false,
};

function conf(content: string): string {
  return `${stat("644")}\n${Buffer.from(content).toString("base64")}\n`;
}

describe("sysctl module", () => {
  it("reads the live value; in state when it agrees (whitespace aside)", () => {
    expect(sysctlModule.probes(forward)).toEqual([
      { id: "value", argv: ["sysctl", "-n", "net.ipv4.ip_forward"] },
    ]);
    expect(sysctlModule.diff(forward, results({ value: "1\n" }))).toEqual([]);
    const range = { ...forward, key: "net.ipv4.ip_local_port_range", value: "1024  65000" };
    expect(sysctlModule.diff(range, results({ value: "1024\t65000\n" }))).toEqual([]);
  });

  it("another value: sysctl -w", () => {
    const changes = sysctlModule.diff(forward, results({ value: "0\n" }));
    expect(changes).toEqual([{ field: "value", from: "0", to: "1" }]);
    expect(sysctlModule.apply(forward, changes, new Map())).toEqual([
      { argv: ["sysctl", "-w", "net.ipv4.ip_forward=1"] },
    ]);
  });

  it("persist: its line in 99-baton.conf, after the live value", () => {
    const kept = { ...forward, persist: true };
    expect(sysctlModule.probes(kept)[1]!.argv.at(-1)).toBe(SYSCTL_FILE);
    const host = results({ value: "0\n", persist: conf("# mine\nnet.ipv4.ip_forward=0\n") });
    const changes = sysctlModule.diff(kept, host);
    expect(changes.map((change) => change.field)).toEqual(["value", "persist.content"]);
    expect(sysctlModule.apply(kept, changes, host)).toEqual([
      { argv: ["sysctl", "-w", "net.ipv4.ip_forward=1"] },
      {
        argv: ["sh", "-c", WRITE_SCRIPT, "sh", SYSCTL_FILE, "0644", "0:0"],
        input: "# mine\nnet.ipv4.ip_forward = 1\n",
      },
    ]);
    const inState = results({ value: "1\n", persist: conf("net.ipv4.ip_forward = 1\n") });
    expect(sysctlModule.diff(kept, inState)).toEqual([]);
  });

  it("an unknown key is an error that says so", () => {
    expect(() =>
      sysctlModule.diff(forward, results({ value: [255, "", "sysctl: cannot stat /proc/sys/x"] })),
    ).toThrow(/is the key spelled right/);
    expect(() =>
      sysctlModule.diff(forward, results({ value: [127, "", "sh: 1: sysctl: not found"] })),
    ).toThrow(/name: procps/);
  });

  it("removal: the persisted line only (a key dotted like a regexp is matched literally)", () => {
    expect(sysctlModule.removal(forward)).toBeUndefined();
    expect(sysctlModule.removal({ ...forward, persist: true })).toEqual({
      ...common,
      module: "lineinfile",
      path: SYSCTL_FILE,
      line: "net.ipv4.ip_forward = 1",
      regexp: "^\\s*net\\.ipv4\\.ip_forward\\s*=",
      state: "absent",
    });
  });
});
