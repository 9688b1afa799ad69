import { readFileSync } from "node:fs";
import type { StepSecret } from "../../definition/pipeline-model.js";

/**
 * The values of a step's secrets, read when it starts: from a file the controller can read
 * (one trailing newline dropped, as `echo x > file` leaves it) or from the controller's own
 * environment. A secret that cannot be had fails the step with where it was looked for —
 * never with a value.
 */
export function readStepSecrets(
  secrets: Readonly<Record<string, StepSecret>>,
  environment: NodeJS.ProcessEnv,
): { values: Record<string, string> } | { problem: string } {
  const values: Record<string, string> = {};
  for (const [name, source] of Object.entries(secrets)) {
    if (source.kind === "env") {
      const value = environment[source.name];
      if (value === undefined || value === "") {
        return {
          problem: `secret ${name}: the controller's environment has no ${source.name}; start the controller with it set (e.g. ${source.name}=… baton up --detach)`,
        };
      }
      values[name] = value;
      continue;
    }
    try {
      values[name] = readFileSync(source.path, "utf8").replace(/\r?\n$/, "");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
      return {
        problem: `secret ${name}: cannot read ${source.path} (${code}); create it readable by the controller's user, or fix the path in the step's \`secrets:\``,
      };
    }
  }
  return { values };
}
