import type { Notification } from "../alerts/types.js";

/** Anything that can tell a receiver about a batch of alerts. */
export interface Notifier {
  /** The receiver's name in the definition (`notifiers: { ops: ... }`). */
  readonly receiver: string;
  /** Where it sends, safe to print: host:port, never a path, query or credentials. */
  readonly target: string;
  /** Resolves once delivered; rejects with a NotifierError. */
  send(batch: Notification): Promise<void>;
}

/** A failed delivery, worded with the receiver and a safe target only. */
export class NotifierError extends Error {
  constructor(
    readonly receiver: string,
    readonly target: string,
    reason: string,
    /** False when retrying cannot help (e.g. a 4xx other than 408/429). */
    readonly retryable = true,
  ) {
    super(`notifier "${receiver}" (${target}): ${reason}`);
    this.name = "NotifierError";
  }
}

/**
 * host:port of a URL, the only part of it an error may show: webhook paths and queries often
 * carry tokens (a Slack URL is a secret as a whole), and userinfo is a password.
 */
export function safeTarget(kind: string, url: URL): string {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const path = url.pathname === "/" && url.search === "" ? "" : "/***";
  return `${kind} ${url.protocol}//${url.hostname}:${port}${path}`;
}

/** Parses a notifier URL, naming the receiver (not the URL) when it is malformed. */
export function parseNotifierUrl(receiver: string, kind: string, text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(
      `notifier "${receiver}": the ${kind} URL is not a valid URL; write it as http(s)://host[:port]/path`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(
      `notifier "${receiver}": the ${kind} URL must start with http:// or https://, not ${url.protocol}`,
    );
  }
  return url;
}
