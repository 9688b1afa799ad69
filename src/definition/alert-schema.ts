/**
 * `alerts:`, `notifiers:` and `alerting:` in `baton.yaml`: shapes only. Rules across fields
 * (expressions that parse, notifier names that exist, one kind per notifier, unique alert
 * names) are in alert-checks.ts.
 */
import { z } from "zod";
import { documented, duration, secretReference } from "./schema-fields.js";

/** Alert and notifier names: they appear in commands (`baton silence add NAME`) and labels. */
export const ALERT_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export const ALERTING_DEFAULTS = {
  severity: "warning",
  for: "0s",
  groupWait: "30s",
  groupInterval: "5m",
  repeatInterval: "4h",
  evaluationInterval: "15s",
} as const;

const receivers = (description: string) =>
  documented(z.array(z.string().min(1)), description, {
    expected: "a list of notifier names",
    example: ["ops"],
  });

const alert = documented(
  z.strictObject({
    name: documented(
      z.string().regex(ALERT_NAME_PATTERN),
      "The alert's name, unique: lowercase letters, digits, `.`, `_` and `-`.",
      { expected: "an alert name such as api-errors", example: "api-errors" },
    ),
    expr: documented(
      z.string().min(1),
      "When it fires: a PromQL subset over Baton's series, one alert per label set left " +
        "(see src/observe/expr/README.md).",
      { expected: "an expression such as x > 1", example: 'http_error_ratio{app="api"} > 0.05' },
    ),
    for: duration(
      `How long the condition must hold before the alert fires (${ALERTING_DEFAULTS.for}).`,
      "2m",
    ).optional(),
    severity: documented(
      z.string().regex(/^[a-z][a-z0-9_-]*$/),
      `A label such as page or warning (${ALERTING_DEFAULTS.severity}).`,
      { expected: "a word such as page", example: "page" },
    ).optional(),
    notify: receivers("Notifiers told about it; `alerting.notify` when absent.").optional(),
    labels: documented(
      z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()),
      "Labels added to each of its alerts (e.g. a team to route by).",
      { expected: "a mapping of label names to values", example: { team: "web" } },
    ).optional(),
    summary: documented(
      z.string().min(1),
      "Text of the notification; `{{ $labels.NAME }}` and `{{ $value }}` are filled in.",
      { expected: "a sentence", example: "{{ $labels.app }} fails {{ $value }} of requests" },
    ).optional(),
  }),
  "One alert rule: an expression, how long it must hold, whom to tell.",
  {
    expected: "{ name, expr, for?, severity?, notify? }",
    example: { name: "api-errors", expr: 'http_error_ratio{app="api"} > 0.05', for: "2m" },
  },
);

export const alertsSchema = documented(z.array(alert), "Alert rules over Baton's series.", {
  expected: "a list of alert rules",
  example: [{ name: "api-errors", expr: 'http_error_ratio{app="api"} > 0.05' }],
}).optional();

const notifier = documented(
  z.strictObject({
    webhook: documented(
      z.union([z.string().min(1), secretReference]),
      "POSTs Alertmanager's webhook JSON to this URL (a secret: never printed); " +
        "`{ secret: NAME }` takes it from the secrets.",
      { expected: "an http(s) URL or { secret: NAME }", example: "https://example.invalid/hook" },
    ).optional(),
    slack: documented(
      z.union([z.string().min(1), secretReference]),
      "A Slack-compatible incoming webhook URL (a secret: never printed).",
      { expected: "an http(s) URL", example: "https://hooks.slack.com/services/..." },
    ).optional(),
    email: documented(
      z.strictObject({
        smtp: documented(z.string().min(1), "The SMTP relay as host:port (plain SMTP).", {
          expected: "host:port",
          example: "127.0.0.1:25",
        }),
        from: documented(z.string().min(3), "The sender address.", {
          expected: "an address",
          example: "baton@example.invalid",
        }),
        to: documented(
          z.union([z.string().min(3), z.array(z.string().min(3)).min(1)]),
          "The recipients.",
          { expected: "an address or a list of them", example: ["ops@example.invalid"] },
        ),
        username: documented(
          z.string().min(1),
          "With `password`: the relay's login, sent with AUTH PLAIN or LOGIN when it offers one.",
          { expected: "a user name", example: "baton" },
        ).optional(),
        // Only `{ secret: NAME }`: a password written in the definition would sit in git.
        password: secretReference.optional(),
      }),
      "Mails each batch as plain text.",
      {
        expected: "{ smtp, from, to }",
        example: { smtp: "127.0.0.1:25", from: "baton@example.invalid", to: "ops@example.invalid" },
      },
    ).optional(),
    command: documented(
      z.array(z.string().min(1)).min(1),
      "Runs this argv with the batch as JSON on its standard input.",
      { expected: "a non-empty list of arguments", example: ["/usr/local/bin/page", "--team=ops"] },
    ).optional(),
    timeout: duration("Each delivery attempt gives up after this long.", "10s").optional(),
  }),
  "One notifier: exactly one of webhook, slack, email or command.",
  {
    expected: "{ webhook: URL } or { email: {...} }",
    example: { webhook: "https://example.invalid/hook" },
  },
);

export const notifiersSchema = documented(
  z.record(z.string(), notifier),
  "Where alerts are sent, by name (the names `notify:` lists).",
  {
    expected: "a mapping of notifier names to notifiers",
    example: { ops: { webhook: "https://example.invalid/hook" } },
  },
  { propertyNames: { pattern: ALERT_NAME_PATTERN.source } },
).optional();

export const alertingSchema = documented(
  z.strictObject({
    notify: receivers(
      "Notifiers of built-in rules and of rules without their own `notify`.",
    ).optional(),
    groupWait: duration(
      `Wait before a new group's first notification (${ALERTING_DEFAULTS.groupWait}).`,
      "30s",
    ).optional(),
    groupInterval: duration(
      `Least time between two notifications of a group that changed (${ALERTING_DEFAULTS.groupInterval}).`,
      "5m",
    ).optional(),
    repeatInterval: duration(
      `Resend a group that is still firing after this long (${ALERTING_DEFAULTS.repeatInterval}).`,
      "4h",
    ).optional(),
    evaluationInterval: duration(
      `How often expressions are evaluated (${ALERTING_DEFAULTS.evaluationInterval}).`,
      "15s",
    ).optional(),
    builtIn: documented(
      z.boolean(),
      "The built-in rules (crash-loop, replica-not-ready, rollout-failed, drift, " +
        "host-unreachable, disk-full, pipeline-failed, notifier-failing) are on (true).",
      { expected: "true or false", example: true },
    ).optional(),
    disable: documented(z.array(z.string().min(1)), "Built-in rules turned off, by name.", {
      expected: "a list of built-in rule names",
      example: ["drift"],
    }).optional(),
  }),
  "How alerts are routed and paced (Alertmanager's defaults).",
  { expected: "{ notify, groupWait, ... }", example: { notify: ["ops"], groupWait: "30s" } },
).optional();

export type AlertsInput = NonNullable<z.output<typeof alertsSchema>>;
export type NotifiersInput = NonNullable<z.output<typeof notifiersSchema>>;
export type AlertingInput = NonNullable<z.output<typeof alertingSchema>>;
