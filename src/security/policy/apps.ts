/** The `apps:` rules, against any app. */
import { formatPath } from "../../definition/phrases.js";
import type { AppInput } from "../../definition/schema.js";
import type { Violation } from "./rules.js";
import type { PolicyInput } from "./schema.js";

type AppRules = NonNullable<PolicyInput["apps"]>;

export function checkApp(name: string, app: AppInput, rules: AppRules): Violation[] {
  const path = ["apps", name];
  const found: Violation[] = [];
  if (rules.requireReadiness === true && app.health.readiness === undefined) {
    found.push({
      area: "apps",
      rule: ["requireReadiness"],
      path: [...path, "health"],
      what: `${formatPath(path)} has no health.readiness`,
      expected: "a readiness probe",
      found: "none",
      hint: "add e.g. `health: { readiness: { http: /healthz } }` to the app",
    });
  }
  if (rules.minReplicas !== undefined && app.replicas < rules.minReplicas) {
    found.push({
      area: "apps",
      rule: ["minReplicas"],
      path: [...path, "replicas"],
      what: `${formatPath([...path, "replicas"])} is ${app.replicas}`,
      expected: `at least ${rules.minReplicas} replicas`,
      found: String(app.replicas),
      hint: `set \`replicas: ${rules.minReplicas}\` or more (in this environment's overrides if other environments need fewer)`,
    });
  }
  return found;
}
