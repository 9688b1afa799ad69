/**
 * An environment's policy against the definition as that environment sees it (its overlay):
 * each violation is an error at the offending line that names the rule and where the policy
 * writes it, so that whoever reads it knows both what to change and who asked for it.
 * Host rules are about what the hosts are, not what the file says: `baton drift` checks them.
 */
import type { Diagnostic } from "../../definition/errors.js";
import { isFields } from "../../definition/fields.js";
import { formatPath, type Path } from "../../definition/phrases.js";
import { type DefinitionInput, registryUrl } from "../../definition/schema.js";
import type { Positions, Span } from "../../definition/yaml-source.js";
import { checkApp } from "./apps.js";
import { checkContainerApp } from "./containers.js";
import { checkProcessApp } from "./processes.js";
import { requirement, type Violation } from "./rules.js";
import type { PolicyInput } from "./schema.js";

export interface PolicyContext {
  /** The file as shown to the user. */
  readonly file: string;
  /** Absolute folder of the definition: the project, which volumes may not leave. */
  readonly dir: string;
  readonly source: Positions;
  /** Project name, for the repository of apps Baton builds. */
  readonly project: string;
}

/** Every violation of environment `env`'s policy by `input`, the definition overlaid for `env`. */
export function policyDiagnostics(
  input: DefinitionInput,
  env: string,
  ctx: PolicyContext,
): Diagnostic[] {
  const policy = input.environments?.[env]?.policy;
  if (policy === undefined) return [];
  const violations: Violation[] = [];
  for (const [name, app] of Object.entries(input.apps)) {
    if (policy.apps !== undefined) violations.push(...checkApp(name, app, policy.apps));
    const containers = app.runtime !== "process" || app.build !== undefined;
    if (containers && policy.containers !== undefined) {
      const image =
        app.build === undefined
          ? (app.image ?? "")
          : `${registryUrl(input.registry) ?? ""}/${input.project ?? ctx.project}/${name}`;
      violations.push(
        ...checkContainerApp({ name, app, image, projectDir: ctx.dir }, policy.containers),
      );
    }
    if (!containers && policy.processes !== undefined) {
      violations.push(...checkProcessApp(name, app, policy.processes));
    }
  }
  return violations.map((v) => toDiagnostic(v, env, policy, ctx));
}

/** `baton.yaml:41:7`: where rule `rule` of `area` is written in env's policy. */
export function ruleLocation(
  env: string,
  area: string,
  rule: Path,
  ctx: { readonly file: string; readonly source: Positions },
): string {
  const span: Span = ctx.source.keySpan(["environments", env, "policy", area, ...rule]);
  return `${ctx.file}:${span.line}:${span.col}`;
}

function toDiagnostic(
  v: Violation,
  env: string,
  policy: PolicyInput,
  ctx: PolicyContext,
): Diagnostic {
  const path = v.path ?? [];
  const value = valueAt(policy[v.area], v.rule);
  return {
    code: "spec.policy_violation",
    message: `${v.what}, ${env}'s policy requires ${requirement(v.area, v.rule, value)} (policy at ${ruleLocation(env, v.area, v.rule, ctx)})`,
    file: ctx.file,
    ...ctx.source.valueSpan(path),
    path: formatPath(path),
    expected: v.expected,
    found: v.found,
    hint: v.hint,
  };
}

function valueAt(node: unknown, path: Path): unknown {
  let current = node;
  for (const segment of path) {
    if (!isFields(current)) return undefined;
    current = current[String(segment)];
  }
  return current;
}
