/**
 * Rules of `alerts:`, `notifiers:` and `alerting:` the schema cannot express: expressions that
 * parse (placed at the very character of the expression that is wrong), notifier names that
 * exist, one kind per notifier, unique alert names, built-in rules that exist. Notifier URLs
 * are secrets: no message repeats one. Reads the raw YAML defensively, like checks.ts.
 */
import { ExprError } from "../observe/expr/errors.js";
import { checkExpr, parseExpr } from "../observe/expr/index.js";
import type { Report } from "./checks.js";
import { isFields } from "./fields.js";
import { formatPath, listWords, type Path } from "./phrases.js";
import { closestMatch } from "./suggest.js";
import type { Positions, Span } from "./yaml-source.js";

/** The rules the alert service feeds itself; `alerting.disable` names them. */
export const BUILT_IN_ALERT_NAMES = [
  "crash-loop",
  "replica-not-ready",
  "rollout-failed",
  "drift",
  "host-unreachable",
  "disk-full",
  "pipeline-failed",
  "notifier-failing",
] as const;

const NOTIFIER_KINDS = ["webhook", "slack", "email", "command"] as const;

export function checkAlerting(
  raw: Readonly<Record<string, unknown>>,
  source: Positions,
  report: Report,
): void {
  const notifiers = isFields(raw.notifiers) ? raw.notifiers : {};
  const known = Object.keys(notifiers);
  for (const [name, notifier] of Object.entries(notifiers)) {
    checkNotifier(name, notifier, report);
  }
  const alerts = Array.isArray(raw.alerts) ? raw.alerts : [];
  const seen = new Map<string, number>();
  alerts.forEach((alert, i) => {
    if (!isFields(alert)) return;
    const path: Path = ["alerts", i];
    if (typeof alert.name === "string") {
      const first = seen.get(alert.name);
      if (first !== undefined) {
        report(
          "spec.duplicate_alert",
          [...path, "name"],
          "value",
          `${formatPath([...path, "name"])}: the alert ${alert.name} is already defined at ${formatPath(["alerts", first])}`,
          "give each alert its own name: silences and history refer to alerts by name",
          { expected: "a name no other alert has", found: alert.name },
        );
      } else seen.set(alert.name, i);
      if ((BUILT_IN_ALERT_NAMES as readonly string[]).includes(alert.name)) {
        report(
          "spec.reserved_name",
          [...path, "name"],
          "value",
          `${formatPath([...path, "name"])}: ${alert.name} is a built-in alert`,
          `name your rule otherwise (e.g. my-${alert.name}); turn the built-in one off with \`alerting: { disable: [${alert.name}] }\``,
        );
      }
    }
    if (typeof alert.expr === "string")
      checkExpression(alert.expr, [...path, "expr"], source, report);
    checkReceivers(alert.notify, [...path, "notify"], known, report);
  });
  const alerting = isFields(raw.alerting) ? raw.alerting : {};
  checkReceivers(alerting.notify, ["alerting", "notify"], known, report);
  if (Array.isArray(alerting.disable)) {
    alerting.disable.forEach((name, i) => {
      if (typeof name !== "string" || (BUILT_IN_ALERT_NAMES as readonly string[]).includes(name))
        return;
      const guess = closestMatch(name, BUILT_IN_ALERT_NAMES);
      report(
        "spec.unknown_alert",
        ["alerting", "disable", i],
        "value",
        `alerting.disable[${i}]: ${name} is not a built-in alert`,
        guess !== undefined
          ? `did you mean ${guess}?`
          : `the built-in alerts are ${listWords([...BUILT_IN_ALERT_NAMES])}`,
        { expected: "a built-in alert name", found: name },
      );
    });
  }
}

function checkNotifier(name: string, notifier: unknown, report: Report): void {
  const path: Path = ["notifiers", name];
  if (!isFields(notifier)) return;
  const kinds = NOTIFIER_KINDS.filter((k) => notifier[k] !== undefined);
  if (kinds.length !== 1) {
    report(
      "spec.notifier_kind",
      path,
      "key",
      kinds.length === 0
        ? `${formatPath(path)} says nowhere to send: it needs one of ${listWords([...NOTIFIER_KINDS], "or")}`
        : `${formatPath(path)} has ${listWords(kinds)}: a notifier sends one way`,
      kinds.length === 0
        ? `e.g. \`${name}: { webhook: https://example.invalid/hook }\``
        : `split it into two notifiers, e.g. ${name}-${kinds[1]}, and list both in notify`,
      {
        expected: "exactly one of webhook, slack, email, command",
        found: kinds.join(", ") || "none",
      },
    );
  }
  for (const kind of ["webhook", "slack"] as const) {
    const url = notifier[kind];
    if (typeof url !== "string") continue;
    if (/^https?:\/\/[^/\s]+/.test(url)) continue;
    // The URL is a secret (a Slack URL is a token): the message does not repeat it.
    report(
      "spec.invalid_url",
      [...path, kind],
      "value",
      `${formatPath([...path, kind])} is not an http:// or https:// URL`,
      "write the receiver's URL, e.g. https://example.invalid/hook",
      { expected: "an http(s) URL" },
    );
  }
  const email = notifier.email;
  if (
    isFields(email) &&
    typeof email.smtp === "string" &&
    !/^\[?[^\]\s]+?\]?:\d{1,5}$/.test(email.smtp)
  ) {
    report(
      "spec.invalid_value",
      [...path, "email", "smtp"],
      "value",
      `${formatPath([...path, "email", "smtp"])} must be host:port`,
      "e.g. `smtp: 127.0.0.1:25`",
      { expected: "host:port", found: email.smtp },
    );
  }
  if (isFields(email) && (email.username === undefined) !== (email.password === undefined)) {
    const [has, lacks] =
      email.username === undefined ? ["password", "username"] : ["username", "password"];
    report(
      "spec.missing_field",
      [...path, "email", has],
      "key",
      `${formatPath([...path, "email"])} has ${has} and no ${lacks}: AUTH needs both`,
      "add `username: NAME` and `password: { secret: NAME }`, or remove both for a relay without AUTH",
      { expected: "username and password together", found: `only ${has}` },
    );
  }
}

function checkReceivers(list: unknown, path: Path, known: readonly string[], report: Report): void {
  if (!Array.isArray(list)) return;
  list.forEach((name, i) => {
    if (typeof name !== "string" || known.includes(name)) return;
    const guess = closestMatch(name, known);
    report(
      "spec.unknown_notifier",
      [...path, i],
      "value",
      `${formatPath([...path, i])}: no notifier named ${name}`,
      guess !== undefined
        ? `did you mean ${guess}?`
        : known.length > 0
          ? `the notifiers are ${listWords(known)}`
          : `define it under notifiers:, e.g. \`notifiers: { ${name}: { webhook: https://example.invalid/hook } }\``,
      { expected: "a notifier name", found: name },
    );
  });
}

function checkExpression(text: string, path: Path, source: Positions, report: Report): void {
  let problems: ExprError[];
  try {
    problems = checkExpr(parseExpr(text));
  } catch (error) {
    if (!(error instanceof ExprError)) throw error;
    problems = [error];
  }
  for (const problem of problems) {
    report(
      problem.code === "expr.syntax"
        ? "spec.invalid_expr"
        : `spec.${problem.code.replace(".", "_")}`,
      path,
      "value",
      `${formatPath(path)}: ${problem.message}`,
      problem.hint,
      {
        expected: problem.expected,
        found: problem.found,
        span: spanWithin(source.valueSpan(path), text, problem),
      },
    );
  }
}

/**
 * The expression's column placed in the file: a plain or quoted scalar on one line is
 * written as the text itself (after its quote); anything else (a block scalar, escapes)
 * cannot be mapped character for character, and the whole value is shown.
 */
function spanWithin(value: Span, text: string, problem: ExprError): Span {
  if (problem.line !== 1) return value;
  const quote = value.length === text.length + 2 ? 1 : value.length === text.length ? 0 : undefined;
  if (quote === undefined) return value;
  return { line: value.line, col: value.col + quote + problem.offset, length: 1 };
}
