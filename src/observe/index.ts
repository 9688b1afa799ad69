/**
 * observe/: what Baton watches and says — the series shape, collectors (replicas, proxy,
 * hosts, the controller), the alert expression language, the Prometheus exposition, alert
 * states and notifiers, the metrics store.
 */
export { type ActiveAlert, AlertEngine, type AlertEngineOptions } from "./alerts/alert-engine.js";
export { alertLabels, fingerprintOf } from "./alerts/alert-labels.js";
export { BUILT_IN_RULES } from "./alerts/built-in-rules.js";
export { parseMatcher, SilenceSet } from "./alerts/silences.js";
export * from "./alerts/types.js";
export * from "./collect/index.js";
export * from "./exposition.js";
export * from "./expr/index.js";
export * from "./metrics/index.js";
export { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from "./notify/backoff.js";
export {
  CommandNotifier,
  CommandNotifierError,
  type CommandOptions,
} from "./notify/command-notifier.js";
export { type DeliveryOptions, DeliveryQueue } from "./notify/delivery-queue.js";
export { EmailNotifier, type EmailOptions } from "./notify/email-notifier.js";
export { type Notifier, NotifierError } from "./notify/notifier.js";
export { type NotifierSpec, notifierFromSpec } from "./notify/notifier-from-spec.js";
export { SlackNotifier, type SlackOptions, slackPayload } from "./notify/slack-notifier.js";
export { WebhookNotifier, type WebhookOptions } from "./notify/webhook-notifier.js";
export { type WebhookPayload, webhookPayload } from "./notify/webhook-payload.js";
export * from "./series.js";
export { familiesFromStore, renderStoreExposition } from "./store-exposition.js";
