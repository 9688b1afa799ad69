import { describe, expect, it } from "vitest";
import type { HostResource } from "../../../../src/definition/host-model.js";
import { moduleFor } from "../../../../src/hosts/modules/index.js";
import { common } from "./fixtures.js";

describe("moduleFor", () => {
  it("finds the module of every kind of resource", () => {
    const resources: HostResource[] = [
      { ...common, module: "package", name: "nginx", state: "present" },
      { ...common, module: "file", path: "/f", content: "", secret: false, state: "present" },
      { ...common, module: "directory", path: "/d", state: "present" },
      { ...common, module: "symlink", path: "/l", target: "/t", state: "present" },
      { ...common, module: "user", name: "u", system: false, state: "present" },
      { ...common, module: "group", name: "g", system: false, state: "present" },
      { ...common, module: "service", name: "s" },
      { ...common, module: "command", name: "c", argv: ["true"], handler: false },
      { ...common, module: "lineinfile", path: "/f", line: "x", state: "present" },
      { ...common, module: "sysctl", key: "k", value: "1", persist: false },
    ];
    for (const resource of resources) {
      expect(moduleFor(resource).module).toBe(resource.module);
    }
  });
});
