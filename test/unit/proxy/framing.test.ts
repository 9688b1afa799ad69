import { describe, expect, it } from "vitest";
import {
  HEAD_COMPLETE,
  HttpFramer,
  MESSAGE_COMPLETE,
  type MessageHead,
  type MessageKind,
} from "../../../src/apps/proxy/framing.js";

type Event =
  | { readonly type: "head"; readonly at: number; readonly head: MessageHead }
  | { readonly type: "end"; readonly at: number }
  | { readonly type: "error"; readonly at: number; readonly code: string };

/** Feeds `chunks` in order; records events with the absolute stream offset they end at. */
function run(framer: HttpFramer, chunks: readonly Buffer[], eof = false): Event[] {
  const events: Event[] = [];
  let offset = 0;
  for (const chunk of chunks) {
    let pos = 0;
    while (pos < chunk.length) {
      const n = framer.execute(chunk, pos);
      if (framer.error !== null) {
        events.push({ type: "error", at: offset + pos, code: framer.error.code });
        return events;
      }
      pos += n;
      if (framer.events & HEAD_COMPLETE) {
        events.push({ type: "head", at: offset + pos, head: framer.head as MessageHead });
      }
      if (framer.events & MESSAGE_COMPLETE) events.push({ type: "end", at: offset + pos });
      if (n === 0 && framer.events === 0) throw new Error("framer made no progress");
    }
    offset += chunk.length;
  }
  if (eof && framer.finish()) events.push({ type: "end", at: offset });
  return events;
}

function frame(kind: MessageKind, text: string, opts: { method?: string; eof?: boolean } = {}) {
  const framer = new HttpFramer(kind);
  if (opts.method !== undefined) framer.expectResponseTo(opts.method);
  return run(framer, [Buffer.from(text, "latin1")], opts.eof);
}

/** The same stream split in two at every byte, and byte by byte, frames identically. */
function expectSplitInvariant(kind: MessageKind, text: string, method?: string): Event[] {
  const whole = Buffer.from(text, "latin1");
  const expected = frame(kind, text, method === undefined ? {} : { method });
  for (let i = 1; i < whole.length; i++) {
    const framer = new HttpFramer(kind);
    if (method !== undefined) framer.expectResponseTo(method);
    const got = run(framer, [whole.subarray(0, i), whole.subarray(i)]);
    expect(got, `split at ${i}`).toEqual(expected);
  }
  const framer = new HttpFramer(kind);
  if (method !== undefined) framer.expectResponseTo(method);
  const bytes = [...whole].map((b) => Buffer.from([b]));
  expect(run(framer, bytes), "byte by byte").toEqual(expected);
  return expected;
}

function ends(events: readonly Event[]): number[] {
  return events.filter((e) => e.type === "end").map((e) => e.at);
}

function heads(events: readonly Event[]): MessageHead[] {
  return events.flatMap((e) => (e.type === "head" ? [e.head] : []));
}

describe("HttpFramer on requests", () => {
  it("ends a request without body right after its head", () => {
    const text = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    const events = frame("request", text);
    expect(ends(events)).toEqual([text.length]);
    const [head] = heads(events);
    expect(head).toMatchObject({ method: "GET", minor: 1, keepAlive: true, body: "none" });
  });

  it("frames a Content-Length body split at every byte", () => {
    const text = "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world";
    const events = expectSplitInvariant("request", text);
    expect(ends(events)).toEqual([text.length]);
    expect(heads(events)[0]).toMatchObject({ method: "POST", body: "length", contentLength: 11 });
  });

  it("frames a chunked body with extensions and trailers split at every byte", () => {
    const text =
      "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "5;name=value\r\nhello\r\n" +
      "A\r\n0123456789\r\n" +
      "0\r\nX-Checksum: abc\r\nX-More: def\r\n\r\n";
    const events = expectSplitInvariant("request", text);
    expect(ends(events)).toEqual([text.length]);
    expect(heads(events)[0]?.body).toBe("chunked");
  });

  it("frames a chunked body without trailers split at every byte", () => {
    const text = "PUT /c HTTP/1.1\r\ntransfer-encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    expect(ends(expectSplitInvariant("request", text))).toEqual([text.length]);
  });

  it("separates pipelined requests at their exact boundaries", () => {
    const a = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n";
    const b = "POST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz";
    const c = "DELETE /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nq\r\n0\r\n\r\n";
    const events = expectSplitInvariant("request", a + b + c);
    expect(ends(events)).toEqual([a.length, a.length + b.length, a.length + b.length + c.length]);
    expect(heads(events).map((h) => h.method)).toEqual(["GET", "POST", "DELETE"]);
  });

  it("ignores empty lines before a request line", () => {
    const text = "\r\n\r\nGET / HTTP/1.1\r\n\r\n";
    expect(ends(frame("request", text))).toEqual([text.length]);
  });

  it("reads keep-alive from the version and the Connection header", () => {
    const head = (t: string) => heads(frame("request", t))[0];
    expect(head("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")?.keepAlive).toBe(false);
    expect(head("GET / HTTP/1.0\r\n\r\n")?.keepAlive).toBe(false);
    expect(head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")?.keepAlive).toBe(true);
    expect(
      head("GET / HTTP/1.1\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n")?.upgrade,
    ).toBe(true);
    expect(head("GET / HTTP/1.1\r\nupgrade: websocket\r\n\r\n")?.upgrade).toBe(false);
    const both = head("GET / HTTP/1.1\r\nConnection: Keep-Alive, Upgrade\r\nUpgrade: ws\r\n\r\n");
    expect(both).toMatchObject({ keepAlive: true, upgrade: true });
  });

  it("accepts identical repeated Content-Length values", () => {
    const text = "POST / HTTP/1.1\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok";
    expect(ends(frame("request", text))).toEqual([text.length]);
  });

  it.each([
    ["a bad request line", "GET/HTTP/1.1\r\n\r\n"],
    ["an unknown version", "GET / HTTP/2.0\r\n\r\n"],
    ["a header without colon", "GET / HTTP/1.1\r\nHost x\r\n\r\n"],
    ["space before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n"],
    ["obsolete line folding", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"],
    ["a bare LF inside a header", "GET / HTTP/1.1\r\nX: a\nTransfer-Encoding: chunked\r\n\r\n"],
    ["a bare CR inside a header", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n"],
    ["a NUL inside a header", "GET / HTTP/1.1\r\nX: a\u0000b\r\n\r\n"],
    [
      "conflicting Content-Length",
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    ],
    ["a non-numeric Content-Length", "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n"],
    ["a negative Content-Length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"],
    [
      "both Transfer-Encoding and Content-Length",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
    ],
    [
      "a Transfer-Encoding not ending in chunked",
      "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    ],
    ["a bad chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"],
    ["chunk data without CRLF", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n"],
    ["a space in the target", "GET /a b HTTP/1.1\r\n\r\n"],
  ])("rejects %s as malformed", (_name, text) => {
    const events = frame("request", text);
    expect(events.at(-1)).toMatchObject({ type: "error", code: "malformed" });
  });

  it("rejects a head larger than the limit, even before it ends", () => {
    const framer = new HttpFramer("request", { maxHeadBytes: 1024 });
    const big = Buffer.from(`GET / HTTP/1.1\r\nX: ${"a".repeat(600)}\r\n`, "latin1");
    const events = run(framer, [big, big]);
    expect(events).toEqual([{ type: "error", at: big.length, code: "head_too_large" }]);
  });
});

describe("HttpFramer on responses", () => {
  it("frames a Content-Length response split at every byte", () => {
    const text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    const events = expectSplitInvariant("response", text, "GET");
    expect(ends(events)).toEqual([text.length]);
    expect(heads(events)[0]).toMatchObject({ status: 200, body: "length", keepAlive: true });
  });

  it("frames a chunked response with trailers split at every byte", () => {
    const text =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\n\r\n";
    expect(ends(expectSplitInvariant("response", text, "GET"))).toEqual([text.length]);
  });

  it("gives a response to HEAD no body despite its Content-Length", () => {
    const text = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
    expect(ends(frame("response", text, { method: "HEAD" }))).toEqual([text.length]);
  });

  it.each([204, 304])("gives a %i response no body", (status) => {
    const text = `HTTP/1.1 ${status} X\r\nContent-Length: 10\r\n\r\n`;
    expect(ends(frame("response", text, { method: "GET" }))).toEqual([text.length]);
  });

  it("frames 100 Continue as an interim message before the final response", () => {
    const interim = "HTTP/1.1 100 Continue\r\n\r\n";
    const final = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    const events = expectSplitInvariant("response", interim + final, "POST");
    expect(heads(events).map((h) => h.status)).toEqual([100, 201]);
    expect(ends(events)).toEqual([interim.length, interim.length + final.length]);
  });

  it("reads a body without length until the server closes", () => {
    const text = "HTTP/1.1 200 OK\r\n\r\nstream until close";
    const events = frame("response", text, { method: "GET", eof: true });
    expect(heads(events)[0]).toMatchObject({ body: "close", keepAlive: false });
    expect(ends(events)).toEqual([text.length]);
  });

  it("lets Transfer-Encoding override Content-Length in a response", () => {
    const text =
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    expect(ends(frame("response", text, { method: "GET" }))).toEqual([text.length]);
  });

  it("switches to a tunnel after 101 and after a 2xx to CONNECT", () => {
    const upgrade = new HttpFramer("response");
    const text = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
    const bytes = Buffer.from(`${text}\x81\x05hello`, "latin1");
    const events = run(upgrade, [bytes]);
    expect(ends(events)).toEqual([text.length]);
    expect(upgrade.tunnel).toBe(true);

    const connect = new HttpFramer("response");
    connect.expectResponseTo("CONNECT");
    run(connect, [Buffer.from("HTTP/1.1 200 Connection established\r\n\r\n", "latin1")]);
    expect(connect.tunnel).toBe(true);
  });

  it("honours Connection: close and HTTP/1.0", () => {
    expect(
      heads(
        frame("response", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
      )[0]?.keepAlive,
    ).toBe(false);
    expect(
      heads(frame("response", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"))[0]?.keepAlive,
    ).toBe(false);
  });

  it.each([
    ["a bad status line", "HTTP/1.1 2000 OK\r\n\r\n"],
    ["a status line without code", "HTTP/1.1 OK\r\n\r\n"],
    ["garbage", "hello\r\n\r\n"],
  ])("rejects %s as malformed", (_name, text) => {
    expect(frame("response", text).at(-1)).toMatchObject({ type: "error", code: "malformed" });
  });
});
