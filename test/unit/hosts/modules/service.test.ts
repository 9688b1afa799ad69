import { describe, expect, it } from "vitest";
import type { ServiceResource } from "../../../../src/definition/host-model.js";
import { serviceModule } from "../../../../src/hosts/modules/service.js";
import { common, results } from "./fixtures.js";

const nginx: ServiceResource = {
  ...common,
  module: "service",
  name: "nginx",
  state: "running",
  enabled: true,
};

describe("service module", () => {
  it("is in state when running and enabled, under systemd or an init script", () => {
    expect(serviceModule.diff(nginx, results({ status: "systemd\nrunning\nenabled\n" }))).toEqual(
      [],
    );
    expect(serviceModule.diff(nginx, results({ status: "sysv\nrunning\nenabled\n" }))).toEqual([]);
  });

  it("only the fields given are compared", () => {
    const found = results({ status: "systemd\nstopped\ndisabled\n" });
    expect(serviceModule.diff({ ...nginx, state: undefined, enabled: undefined }, found)).toEqual(
      [],
    );
  });

  it("systemd: systemctl enable / start, disable / stop", () => {
    const found = results({ status: "systemd\nstopped\ndisabled\n" });
    const changes = serviceModule.diff(nginx, found);
    expect(changes).toEqual([
      { field: "state", from: "stopped", to: "running" },
      { field: "enabled", from: "false", to: "true" },
    ]);
    expect(serviceModule.apply(nginx, changes, found)).toEqual([
      { argv: ["systemctl", "enable", "--", "nginx"] },
      { argv: ["systemctl", "start", "--", "nginx"] },
    ]);
    const off = { ...nginx, state: "stopped" as const, enabled: false };
    const running = results({ status: "systemd\nrunning\nenabled\n" });
    expect(serviceModule.apply(off, serviceModule.diff(off, running), running)).toEqual([
      { argv: ["systemctl", "disable", "--", "nginx"] },
      { argv: ["systemctl", "stop", "--", "nginx"] },
    ]);
  });

  it("without systemd: the init script and update-rc.d", () => {
    const found = results({ status: "sysv\nstopped\ndisabled\n" });
    expect(serviceModule.apply(nginx, serviceModule.diff(nginx, found), found)).toEqual([
      { argv: ["update-rc.d", "nginx", "defaults"] },
      { argv: ["/etc/init.d/nginx", "start"] },
    ]);
    const off = { ...nginx, state: "stopped" as const, enabled: false };
    const running = results({ status: "sysv\nrunning\nenabled\n" });
    expect(serviceModule.apply(off, serviceModule.diff(off, running), running)).toEqual([
      { argv: ["update-rc.d", "nginx", "remove"] },
      { argv: ["/etc/init.d/nginx", "stop"] },
    ]);
  });

  it("a service not installed (yet) is stopped: to run it is planned, to stop it is not", () => {
    const found = results({ status: "sysv\nmissing\ndisabled\n" });
    expect(serviceModule.diff(nginx, found)[0]).toEqual({
      field: "state",
      from: "missing",
      to: "running",
    });
    expect(serviceModule.diff({ ...nginx, state: "stopped", enabled: false }, found)).toEqual([]);
  });

  it("has no removal: a service belongs to its package", () => {
    expect(serviceModule.removal(nginx)).toBeUndefined();
  });
});
