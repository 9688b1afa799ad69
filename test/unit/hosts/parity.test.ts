import { describe, expect, it } from "vitest";
import { compareParity, type ParityFacts } from "../../../src/hosts/parity.js";
import { unmetRequirements } from "../../../src/hosts/requirements.js";

const host = (over: Partial<ParityFacts> = {}): ParityFacts => ({
  os: "debian-12",
  kernel: "6.1.0-28-amd64",
  packages: { nginx: "1.22.1-9", openssl: "3.0.15-1~deb12u1" },
  libraries: { "libssl.so.3": "3.0.15-1~deb12u1" },
  drivers: ["overlay", "br_netfilter"],
  sysctl: { "net.ipv4.ip_forward": "1" },
  ...over,
});

describe("compareParity", () => {
  it("finds what differs between two environments, and nothing where they agree", () => {
    const dev = [host(), host()];
    const prod = [
      host({ kernel: "6.1.0-30-amd64", packages: { nginx: "1.22.1-9" }, drivers: ["overlay"] }),
      host({ sysctl: { "net.ipv4.ip_forward": "0" } }),
    ];
    expect(compareParity(dev, prod)).toEqual([
      { item: "kernel", left: ["6.1.0-28-amd64"], right: ["6.1.0-28-amd64", "6.1.0-30-amd64"] },
      {
        item: "package:openssl",
        left: ["3.0.15-1~deb12u1"],
        right: ["(missing)", "3.0.15-1~deb12u1"],
      },
      { item: "driver:br_netfilter", left: ["loaded"], right: ["loaded", "not loaded"] },
      { item: "sysctl:net.ipv4.ip_forward", left: ["1"], right: ["0", "1"] },
    ]);
    expect(compareParity(dev, [host()])).toEqual([]);
  });

  it("leaves out the differences the team allows", () => {
    const prod = [host({ kernel: "6.1.0-30-amd64", packages: { nginx: "1.22.1-9" } })];
    expect(compareParity([host()], prod, ["kernel", "package:open*"])).toEqual([]);
  });
});

describe("unmetRequirements", () => {
  it("says what a host lacks for its environment", () => {
    const required = { os: "debian-12", packages: { nginx: ">=1.22", curl: ">=7" } };
    expect(
      unmetRequirements(
        required,
        { os: "debian-12", packages: { nginx: "1.22.1-9", curl: "7.88.1-10" } },
        "prod",
      ),
    ).toEqual([]);
    expect(
      unmetRequirements(required, { os: "debian-11", packages: { nginx: "1.18.0-6.1" } }, "prod"),
    ).toEqual([
      "runs debian-11; environment prod requires debian-12",
      "has nginx 1.18.0-6.1; environment prod requires nginx >=1.22",
      "has no package curl; environment prod requires curl >=7",
    ]);
  });
});
