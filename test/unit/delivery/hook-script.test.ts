import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { HOOK_MARKER, hookScript } from "../../../src/delivery/index.js";

describe("hookScript", () => {
  it("is a POSIX sh script marked as Baton's, with every path quoted", () => {
    const script = hookScript({
      node: "/usr/bin/node",
      cli: "/opt/baton/dist/bin/baton.js",
      stateDir: "/var/lib/baton team/state",
      pipeline: "api's",
    });
    expect(script.startsWith("#!/bin/sh\n")).toBe(true);
    expect(script).toContain(HOOK_MARKER);
    expect(script).toContain(
      `/usr/bin/node /opt/baton/dist/bin/baton.js hooks notify --state '/var/lib/baton team/state' --pipeline 'api'\\''s' --repo "$repo" "$ref" "$old" "$new"`,
    );
    expect(script).toContain("exit 0\n");
    // sh -n parses without running: the script is valid shell whatever the paths hold.
    execFileSync("sh", ["-n"], { input: script });
  });

  it("notifies every pipeline of the repository when none is named", () => {
    const script = hookScript({ node: "/usr/bin/node", cli: "/b.js", stateDir: "/s" });
    expect(script).not.toContain("--pipeline");
  });
});
