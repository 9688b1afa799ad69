import { describe, expect, it } from "vitest";
import type { PackageResource } from "../../../../src/definition/host-model.js";
import { packageModule } from "../../../../src/hosts/modules/package.js";
import { common, results } from "./fixtures.js";

const nginx: PackageResource = { ...common, module: "package", name: "nginx", state: "present" };
const APT = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"];
const notFound: [number, string, string] = [
  1,
  "",
  "dpkg-query: no packages found matching nginx\n",
];

describe("package module", () => {
  it("asks dpkg-query for status and version, and whether apt has lists", () => {
    expect(packageModule.probes(nginx)).toEqual([
      { id: "status", argv: ["dpkg-query", "-W", "-f", "${Status} ${Version}", "nginx"] },
      { id: "lists", argv: ["sh", "-c", expect.stringContaining("/var/lib/apt/lists")] },
    ]);
    expect(packageModule.probes({ ...nginx, state: "absent" })).toHaveLength(1);
  });

  it("installed: in state, whatever the version unless one is pinned", () => {
    const found = results({ status: "install ok installed 1.22.1-9", lists: "" });
    expect(packageModule.diff(nginx, found)).toEqual([]);
    expect(packageModule.diff({ ...nginx, version: "1.22.1-9" }, found)).toEqual([]);
    expect(packageModule.diff({ ...nginx, version: "1.22.1-10" }, found)).toEqual([
      { field: "version", from: "1.22.1-9", to: "1.22.1-10" },
    ]);
  });

  it("missing (never installed, or removed with its config left): apt-get install", () => {
    for (const status of [notFound, "deinstall ok config-files 1.22.1-9"] as const) {
      const found = results({ status, lists: "" });
      const changes = packageModule.diff({ ...nginx, version: "1.22.1-9" }, found);
      expect(changes).toEqual([
        { field: "state", from: "absent", to: "present" },
        { field: "version", from: null, to: "1.22.1-9" },
      ]);
      expect(packageModule.apply({ ...nginx, version: "1.22.1-9" }, changes, found)).toEqual([
        {
          argv: [
            ...APT,
            "install",
            "-y",
            "--no-install-recommends",
            "--allow-downgrades",
            "nginx=1.22.1-9",
          ],
        },
      ]);
    }
  });

  it("a host without package lists gets apt-get update first", () => {
    const found = results({ status: notFound, lists: [1, ""] });
    const changes = packageModule.diff(nginx, found);
    expect(packageModule.apply(nginx, changes, found)).toEqual([
      { argv: [...APT, "update"] },
      { argv: [...APT, "install", "-y", "--no-install-recommends", "nginx"] },
    ]);
  });

  it("absent: apt-get remove when installed", () => {
    const gone = packageModule.removal({ ...nginx, version: "1" }) as PackageResource;
    expect(gone).toEqual({ ...nginx, state: "absent" });
    expect(packageModule.diff(gone, results({ status: notFound }))).toEqual([]);
    const found = results({ status: "install ok installed 1.22.1-9" });
    const changes = packageModule.diff(gone, found);
    expect(changes).toEqual([{ field: "state", from: "present", to: "absent" }]);
    expect(packageModule.apply(gone, changes, found)).toEqual([
      { argv: [...APT, "remove", "-y", "nginx"] },
    ]);
  });

  it("merges many packages into one remove and one install", () => {
    const missing = results({ status: notFound, lists: "" });
    const installed = results({ status: "install ok installed 1" });
    const items = [
      {
        resource: nginx,
        changes: [{ field: "state", from: "absent", to: "present" }],
        results: missing,
      },
      {
        resource: { ...nginx, name: "tree", version: "2.1.0-1" },
        changes: [{ field: "state", from: "absent", to: "present" }],
        results: missing,
      },
      {
        resource: { ...nginx, name: "vim", state: "absent" as const },
        changes: [{ field: "state", from: "present", to: "absent" }],
        results: installed,
      },
    ];
    expect(packageModule.merge!(items)).toEqual([
      { argv: [...APT, "remove", "-y", "vim"] },
      {
        argv: [
          ...APT,
          "install",
          "-y",
          "--no-install-recommends",
          "--allow-downgrades",
          "nginx",
          "tree=2.1.0-1",
        ],
      },
    ]);
  });

  it("dpkg-query failing otherwise is an error with its message", () => {
    expect(() =>
      packageModule.diff(nginx, results({ status: [2, "", "dpkg: database locked"] })),
    ).toThrow(/database locked/);
  });
});
