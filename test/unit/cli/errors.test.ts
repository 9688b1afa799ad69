import { describe, expect, it } from "vitest";
import { RetryError } from "../../../src/apps/bad-revision.js";
import { ProxyError } from "../../../src/apps/proxy/errors.js";
import { RollbackError } from "../../../src/apps/rollback-target.js";
import { SnapshotError } from "../../../src/apps/snapshots.js";
import { CliError, isUserError } from "../../../src/cli/errors.js";
import { ControllerError } from "../../../src/controller/errors.js";
import { SpecError } from "../../../src/definition/index.js";
import { DeliveryError } from "../../../src/delivery/errors.js";
import { PlanError } from "../../../src/engine/errors.js";
import { HostError } from "../../../src/hosts/errors.js";
import { TransportError } from "../../../src/hosts/transport.js";
import { ImageError } from "../../../src/images/errors.js";
import { ExprError } from "../../../src/observe/expr/errors.js";
import { LogFilterError } from "../../../src/observe/logs/log-filter.js";
import { MetricsError } from "../../../src/observe/metrics/errors.js";
import { StateError } from "../../../src/store/errors.js";

describe("a user error", () => {
  const userErrors: [string, Error & { code?: unknown }][] = [
    ["CliError", new CliError("init.exists", "baton.yaml exists", "pass --force")],
    ["ControllerError", new ControllerError("controller.unknown_app", "no app web")],
    ["StateError", new StateError("state.corrupt", "state.db is damaged", "restore a backup")],
    ["ProxyError", new ProxyError("proxy.port_in_use", "port 8080 is in use", 409)],
    ["PlanError", new PlanError("engine.cycle", "a needs b needs a", "break the cycle")],
    ["ImageError", new ImageError("build.failed", "the build failed", "see its output")],
    ["TransportError", new TransportError("ssh.unreachable", "web1", "no route", "start sshd")],
    ["HostError", new HostError("hosts.unknown_host", "no host db", "hosts: web1")],
    ["DeliveryError", new DeliveryError("repo-not-found", "no repository at /x", "git init")],
    ["SpecError", new SpecError([])],
    // Not in the list of names the CLI recognised before: printed as bugs in Baton.
    ["RollbackError", new RollbackError("rollback.no_previous", "web has no earlier revision")],
    ["RetryError", new RetryError("rollout.not_blocked", "nothing to retry")],
    ["SnapshotError", new SnapshotError("snapshot.copy_failed", "could not copy ./web")],
    [
      "ExprError",
      new ExprError("expr.syntax", "rate(", {
        offset: 5,
        expected: "a series",
        found: "the end",
        hint: "close it",
      }),
    ],
    ["MetricsError", new MetricsError("metrics.corrupt", "metrics.db is damaged", "move it away")],
    ["LogFilterError", new LogFilterError("--where x is not a condition", "write FIELD=VALUE")],
  ];

  it.each(userErrors)("%s is recognised as one, with its code", (_, error) => {
    expect(isUserError(error)).toBe(true);
    expect(typeof error.code).toBe("string");
  });

  it("is not any error with a code: a bug stays a bug", () => {
    const errno = Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" });
    expect(isUserError(errno)).toBe(false);
    expect(isUserError(new TypeError("x is undefined"))).toBe(false);
    expect(isUserError("a string")).toBe(false);
  });
});
