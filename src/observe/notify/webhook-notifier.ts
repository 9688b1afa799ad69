import type { Notification } from "../alerts/types.js";
import { type Notifier, parseNotifierUrl, safeTarget } from "./notifier.js";
import { postJson } from "./post-json.js";
import { webhookPayload } from "./webhook-payload.js";

export interface WebhookOptions {
  readonly url: string;
  /** Per attempt; the delivery queue retries. */
  readonly timeoutMs?: number;
}

/** POSTs Alertmanager's webhook JSON to a URL. */
export class WebhookNotifier implements Notifier {
  readonly target: string;
  private readonly url: URL;
  private readonly timeoutMs: number;

  constructor(
    readonly receiver: string,
    options: WebhookOptions,
  ) {
    this.url = parseNotifierUrl(receiver, "webhook", options.url);
    this.target = safeTarget("webhook", this.url);
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  send(batch: Notification): Promise<void> {
    return postJson(
      { receiver: this.receiver, target: this.target, url: this.url, timeoutMs: this.timeoutMs },
      webhookPayload(batch),
    );
  }
}
