import type { Notification } from "../alerts/types.js";
import { alertLine, batchTitle } from "./alert-text.js";
import { type Notifier, parseNotifierUrl, safeTarget } from "./notifier.js";
import { postJson } from "./post-json.js";

export interface SlackOptions {
  /** An incoming-webhook URL; it is a secret as a whole, so only its host ever shows. */
  readonly url: string;
  readonly timeoutMs?: number;
}

/** The body Slack (and Mattermost, Rocket.Chat) incoming webhooks take. */
export interface SlackPayload {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

type SlackBlock =
  | { readonly type: "header"; readonly text: { type: "plain_text"; text: string } }
  | { readonly type: "section"; readonly text: { type: "mrkdwn"; text: string } };

/** Slack's limits: 150 characters in a header, 3000 in a section. */
export function slackPayload(batch: Notification): SlackPayload {
  const title = batchTitle(batch);
  const lines = [...batch.firing, ...batch.resolved].map((a) => `• ${escapeMarkup(alertLine(a))}`);
  return {
    text: title,
    blocks: [
      { type: "header", text: { type: "plain_text", text: title.slice(0, 150) } },
      { type: "section", text: { type: "mrkdwn", text: lines.join("\n").slice(0, 3000) } },
    ],
  };
}

/** Slack reads <, > and & as markup. */
function escapeMarkup(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export class SlackNotifier implements Notifier {
  readonly target: string;
  private readonly url: URL;
  private readonly timeoutMs: number;

  constructor(
    readonly receiver: string,
    options: SlackOptions,
  ) {
    this.url = parseNotifierUrl(receiver, "slack", options.url);
    this.target = safeTarget("slack", this.url);
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  send(batch: Notification): Promise<void> {
    return postJson(
      { receiver: this.receiver, target: this.target, url: this.url, timeoutMs: this.timeoutMs },
      slackPayload(batch),
    );
  }
}
