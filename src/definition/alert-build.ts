/**
 * The validated `alerts:`, `notifiers:` and `alerting:` → the model: durations in ms and
 * defaults filled in. Runs only on input that passed the checks.
 */
import type { AlertingSpec, AlertRuleSpec, NotifierDefinition } from "./alert-model.js";
import {
  ALERTING_DEFAULTS,
  type AlertingInput,
  type AlertsInput,
  type NotifiersInput,
} from "./alert-schema.js";
import { parseDuration } from "./units.js";

export function buildAlerting(
  alerts: AlertsInput | undefined,
  notifiers: NotifiersInput | undefined,
  alerting: AlertingInput | undefined,
): AlertingSpec {
  const rules = (alerts ?? []).map(
    (a): AlertRuleSpec => ({
      name: a.name,
      expr: a.expr,
      forMs: ms(a.for ?? ALERTING_DEFAULTS.for),
      severity: a.severity ?? ALERTING_DEFAULTS.severity,
      ...(a.notify === undefined ? {} : { notify: a.notify }),
      labels: a.labels ?? {},
      ...(a.summary === undefined ? {} : { summary: a.summary }),
    }),
  );
  const built: Record<string, NotifierDefinition> = {};
  for (const [name, n] of Object.entries(notifiers ?? {})) {
    const timeout = n.timeout === undefined ? {} : { timeoutMs: ms(n.timeout) };
    const url = (value: string | { secret: string }) => (typeof value === "string" ? value : "");
    const secretOf = (field: string, value: string | { secret: string }) =>
      typeof value === "string" ? {} : { secretFields: { [field]: value.secret } };
    if (n.webhook !== undefined) {
      built[name] = { webhook: url(n.webhook), ...secretOf("webhook", n.webhook), ...timeout };
    } else if (n.slack !== undefined) {
      built[name] = { slack: url(n.slack), ...secretOf("slack", n.slack), ...timeout };
    } else if (n.email !== undefined) {
      const to = typeof n.email.to === "string" ? [n.email.to] : n.email.to;
      const { smtp, from, username, password } = n.email;
      built[name] = {
        email: { smtp, from, to, ...(username === undefined ? {} : { username }) },
        ...(password === undefined ? {} : { secretFields: { "email.password": password.secret } }),
        ...timeout,
      };
    } else if (n.command !== undefined) built[name] = { command: n.command, ...timeout };
  }
  return {
    rules,
    notifiers: built,
    notify: alerting?.notify ?? [],
    groupWaitMs: ms(alerting?.groupWait ?? ALERTING_DEFAULTS.groupWait),
    groupIntervalMs: ms(alerting?.groupInterval ?? ALERTING_DEFAULTS.groupInterval),
    repeatIntervalMs: ms(alerting?.repeatInterval ?? ALERTING_DEFAULTS.repeatInterval),
    evaluationIntervalMs: ms(alerting?.evaluationInterval ?? ALERTING_DEFAULTS.evaluationInterval),
    builtIn: alerting?.builtIn ?? true,
    disable: alerting?.disable ?? [],
  };
}

function ms(duration: string): number {
  const value = parseDuration(duration);
  if (value === undefined) throw new Error(`bug: ${duration} passed the schema but does not parse`);
  return value;
}
