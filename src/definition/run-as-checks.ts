/**
 * Who a process app's replicas run as (`user:`, `group:`) and what they inherit
 * (`inheritEnv:`). The users are looked up only where the replicas will run: the controller,
 * or a CLI working on its own state directory (`accounts` given). `baton validate` may run
 * anywhere, so it checks the syntax alone.
 */
import { type Accounts, resolveRunAs } from "../util/accounts.js";
import type { Report } from "./checks.js";
import type { Fields } from "./fields.js";
import { formatPath, type Path } from "./phrases.js";

const USER = /^(?:[A-Za-z_][A-Za-z0-9_.-]*\$?|\d+)(?::(?:[A-Za-z_][A-Za-z0-9_.-]*|\d+))?$/;

export function checkRunAs(
  app: Fields,
  path: Path,
  accounts: Accounts | undefined,
  report: Report,
): void {
  const containers = app.runtime === "docker" || app.runtime === "swarm" || app.build !== undefined;
  if (containers && app.inheritEnv !== undefined) {
    report(
      "spec.invalid_value",
      [...path, "inheritEnv"],
      "key",
      `${formatPath([...path, "inheritEnv"])} applies to processes, but ${formatPath(path)} runs as containers`,
      "a container gets only its declared `env:`; list the variables it needs there",
      { expected: "runtime: process", found: `runtime: ${String(app.runtime ?? "docker")}` },
    );
  }
  const { user, group } = app;
  if (typeof user === "string" && !USER.test(user)) {
    report(
      "spec.invalid_value",
      [...path, "user"],
      "value",
      `${formatPath([...path, "user"])} must be NAME, UID, NAME:GROUP or UID:GID, found ${JSON.stringify(user)}`,
      'write e.g. `user: postgres` or `user: "1000:1000"`',
      { expected: "NAME or UID[:GID]", found: user },
    );
    return;
  }
  if (typeof user === "string" && user.includes(":") && typeof group === "string") {
    report(
      "spec.invalid_value",
      [...path, "group"],
      "key",
      `${formatPath(path)} names its group twice: in \`user: ${user}\` and in \`group: ${group}\``,
      "keep one of them",
    );
    return;
  }
  if (containers || accounts === undefined) return;
  if (typeof user !== "string" && typeof group !== "string") return;
  const resolved = resolveRunAs(
    typeof user === "string" ? user : undefined,
    typeof group === "string" ? group : undefined,
    accounts,
  );
  if (resolved === undefined || resolved.ok) return;
  const at = [...path, resolved.field];
  report(resolved.code, at, "value", `${formatPath(at)}: ${resolved.message}`, resolved.hint, {
    expected: resolved.field === "group" ? "a group of this machine" : "a user of this machine",
    found: String(app[resolved.field]),
  });
}
