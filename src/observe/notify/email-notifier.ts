import { hostname } from "node:os";
import type { Notification } from "../alerts/types.js";
import { batchText, batchTitle } from "./alert-text.js";
import { emailMessage } from "./email-message.js";
import { type Notifier, NotifierError } from "./notifier.js";
import { SmtpError, sendMail } from "./smtp-client.js";

export interface EmailOptions {
  /** The relay as host:port (e.g. 127.0.0.1:25); plain SMTP, no TLS. */
  readonly smtp: string;
  /** With `password`: AUTH PLAIN or LOGIN, when the relay offers it after EHLO. */
  readonly username?: string;
  /** The decrypted secret; never part of `target` or an error. */
  readonly password?: string;
  readonly from: string;
  readonly to: readonly string[];
  /** EHLO name and Message-ID domain; the machine's name by default. */
  readonly helo?: string;
  readonly timeoutMs?: number;
}

/** Mails a batch as plain text through an SMTP relay. */
export class EmailNotifier implements Notifier {
  readonly target: string;
  private readonly host: string;
  private readonly port: number;

  constructor(
    readonly receiver: string,
    private readonly options: EmailOptions,
  ) {
    const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(options.smtp);
    const port = Number(match?.[2]);
    if (match === null || port < 1 || port > 65535) {
      throw new Error(
        `notifier "${receiver}": smtp must be host:port (e.g. 127.0.0.1:25), got ${JSON.stringify(options.smtp)}`,
      );
    }
    if (options.to.length === 0) {
      throw new Error(`notifier "${receiver}": email needs at least one address in to`);
    }
    this.host = match[1] as string;
    this.port = port;
    this.target = `email smtp ${this.host}:${this.port}`;
  }

  async send(batch: Notification): Promise<void> {
    const helo = this.options.helo ?? hostname();
    const message = emailMessage({
      from: this.options.from,
      to: this.options.to,
      subject: batchTitle(batch),
      body: `${batchText(batch)}\n`,
      date: new Date(),
      domain: helo,
    });
    try {
      await sendMail({
        host: this.host,
        port: this.port,
        helo,
        from: this.options.from,
        to: this.options.to,
        message,
        timeoutMs: this.options.timeoutMs ?? 30_000,
        ...(this.options.username === undefined || this.options.password === undefined
          ? {}
          : { auth: { username: this.options.username, password: this.options.password } }),
      });
    } catch (error) {
      if (!(error instanceof SmtpError)) throw error;
      throw new NotifierError(this.receiver, this.target, error.message, error.code < 500);
    }
  }
}
