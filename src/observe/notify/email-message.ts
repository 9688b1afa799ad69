import { randomUUID } from "node:crypto";

export interface EmailContent {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly body: string;
  readonly date: Date;
  /** The domain part of the Message-ID. */
  readonly domain: string;
}

/**
 * A plain-text RFC 5322 message in UTF-8. Header values lose their line breaks (an alert label
 * must not be able to add a header) and a non-ASCII subject is RFC 2047 encoded.
 */
export function emailMessage(content: EmailContent): string {
  const headers = [
    `From: ${headerValue(content.from)}`,
    `To: ${content.to.map(headerValue).join(", ")}`,
    `Subject: ${encodedWord(headerValue(content.subject))}`,
    `Date: ${content.date.toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${randomUUID()}@${headerValue(content.domain)}>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "Auto-Submitted: auto-generated",
  ];
  return `${headers.join("\r\n")}\r\n\r\n${content.body.replace(/\r\n|\r|\n/g, "\r\n")}\r\n`;
}

function headerValue(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}

function encodedWord(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  return `=?UTF-8?B?${Buffer.from(text, "utf8").toString("base64")}?=`;
}
