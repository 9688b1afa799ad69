/**
 * The `processes:` rules, against an app that runs as processes. Without a `user:` a
 * replica runs as the controller's user, which on a server is root: nonRoot wants one named.
 */
import { formatPath } from "../../definition/phrases.js";
import type { AppInput } from "../../definition/schema.js";
import { isRootUser } from "./dangers.js";
import type { Violation } from "./rules.js";
import type { PolicyInput } from "./schema.js";

type ProcessRules = NonNullable<PolicyInput["processes"]>;

export function checkProcessApp(name: string, app: AppInput, rules: ProcessRules): Violation[] {
  if (rules.nonRoot !== true) return [];
  const path = ["apps", name];
  const user = app.user;
  if (typeof user === "string" && !isRootUser(user)) return [];
  const at = [...path, "user"];
  return [
    {
      area: "processes",
      rule: ["nonRoot"],
      path: at,
      what:
        typeof user === "string"
          ? `${formatPath(at)} is ${user}`
          : `${formatPath(path)} names no user, so its replicas run as the controller's user`,
      expected: "a user that is not root, such as `user: app` or `user: 1000:1000`",
      found: typeof user === "string" ? user : "no user",
      hint: "add `user: NAME` (an unprivileged account of the machine) to the app",
    },
  ];
}
