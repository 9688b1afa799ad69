import { describe, expect, it } from "vitest";

import { commandArgv } from "../../../src/runtime/command.js";

describe("commands", () => {
  it("exec an argv with ${VAR} taken from the replica env and $$ as a literal $", () => {
    expect(
      commandArgv(
        { argv: ["busybox", "httpd", "-p", "${PORT}", "$${PORT}", "${NOPE}x"] },
        { PORT: "8080" },
      ),
    ).toEqual(["busybox", "httpd", "-p", "8080", "${PORT}", "x"]);
  });

  it("run a string under /bin/sh -c, untouched", () => {
    expect(commandArgv({ shell: "node server.js --port $PORT" }, {})).toEqual([
      "/bin/sh",
      "-c",
      "node server.js --port $PORT",
    ]);
  });
});
