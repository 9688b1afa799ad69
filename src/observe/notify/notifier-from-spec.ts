import { CommandNotifier } from "./command-notifier.js";
import { EmailNotifier, type EmailOptions } from "./email-notifier.js";
import type { Notifier } from "./notifier.js";
import { SlackNotifier } from "./slack-notifier.js";
import { WebhookNotifier } from "./webhook-notifier.js";

/**
 * One entry of the definition's `notifiers:` map, e.g. `ops: { webhook: https://… }`. Exactly
 * one kind per receiver; `timeoutMs` bounds each attempt.
 */
export type NotifierSpec = { readonly timeoutMs?: number } & (
  | { readonly webhook: string }
  | { readonly slack: string }
  | { readonly email: Omit<EmailOptions, "timeoutMs"> }
  | { readonly command: readonly string[] }
);

const KINDS = ["webhook", "slack", "email", "command"] as const;

export function notifierFromSpec(receiver: string, spec: NotifierSpec): Notifier {
  const kinds = KINDS.filter((k) => k in spec);
  if (kinds.length !== 1) {
    throw new Error(
      `notifier "${receiver}" must have exactly one of ${KINDS.join(", ")}; it has ${kinds.length === 0 ? "none" : kinds.join(" and ")}`,
    );
  }
  const timeout = spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs };
  if ("webhook" in spec) return new WebhookNotifier(receiver, { url: spec.webhook, ...timeout });
  if ("slack" in spec) return new SlackNotifier(receiver, { url: spec.slack, ...timeout });
  if ("email" in spec) return new EmailNotifier(receiver, { ...spec.email, ...timeout });
  return new CommandNotifier(receiver, { argv: spec.command, ...timeout });
}
