import { describe, expect, it } from "vitest";
import {
  compilePattern,
  fieldText,
  LogFilterError,
  type LogRecord,
  lineFields,
  mergeByTime,
  parseCondition,
  passes,
  recordJson,
  secretMasker,
} from "../../../src/observe/logs/index.js";

const record = (line: string, at = 0, source = "web-1"): LogRecord => {
  const fields = lineFields(line);
  return { at, source, line, ...(fields === undefined ? {} : { fields }) };
};

describe("log line fields", () => {
  it("are a JSON object line's fields; other lines have none", () => {
    expect(lineFields('{"level":"error","msg":"boom","n":3}')).toEqual({
      level: "error",
      msg: "boom",
      n: 3,
    });
    expect(lineFields('  {"a":1}  ')).toEqual({ a: 1 });
    expect(lineFields("plain text")).toBeUndefined();
    expect(lineFields("[1,2]")).toBeUndefined();
    expect(lineFields("{broken")).toBeUndefined();
    expect(lineFields("{not json}")).toBeUndefined();
  });

  it("read as text, nested ones by a dotted name", () => {
    const fields = { level: "warn", n: 3, ok: true, http: { status: 503 }, "a.b": "literal" };
    expect(fieldText(fields, "level")).toBe("warn");
    expect(fieldText(fields, "n")).toBe("3");
    expect(fieldText(fields, "ok")).toBe("true");
    expect(fieldText(fields, "http.status")).toBe("503");
    expect(fieldText(fields, "a.b")).toBe("literal");
    expect(fieldText(fields, "missing")).toBeUndefined();
    expect(fieldText(fields, "http.missing")).toBeUndefined();
  });
});

describe("--where and --grep", () => {
  it("parse =, != and ~ conditions", () => {
    expect(parseCondition("level=error")).toEqual({ field: "level", op: "=", value: "error" });
    expect(parseCondition("level!=debug")).toEqual({ field: "level", op: "!=", value: "debug" });
    expect(parseCondition("msg=a=b")).toEqual({ field: "msg", op: "=", value: "a=b" });
    expect(parseCondition("http.status~^5")).toMatchObject({ field: "http.status", op: "~" });
    expect(parseCondition("msg=")).toEqual({ field: "msg", op: "=", value: "" });
  });

  it("reject what is not a condition, saying how to write one", () => {
    expect(() => parseCondition("level")).toThrow(LogFilterError);
    expect(() => parseCondition("level")).toThrow(/not a condition/);
    expect(() => parseCondition("=x")).toThrow(LogFilterError);
    try {
      parseCondition("msg~(");
    } catch (error) {
      expect(error).toBeInstanceOf(LogFilterError);
      expect((error as LogFilterError).hint).toMatch(/escape/);
    }
    expect(() => compilePattern("[", "--grep")).toThrow(/--grep: "\[" is not a regular expression/);
  });

  it("keep only the lines every condition holds for", () => {
    const error = record('{"level":"error","msg":"db down","http":{"status":503}}');
    const info = record('{"level":"info","msg":"ok"}');
    const plain = record("plain error text");
    const where = (...c: string[]) => ({ where: c.map(parseCondition) });
    const kept = (filter: Parameters<typeof passes>[1]) =>
      [error, info, plain].filter((r) => passes(r, filter)).map((r) => r.line);
    expect(kept(where("level=error"))).toEqual([error.line]);
    // != keeps lines without the field: they are not equal to it.
    expect(kept(where("level!=info"))).toEqual([error.line, plain.line]);
    expect(kept(where("http.status~^5\\d\\d$"))).toEqual([error.line]);
    expect(kept(where("level=error", "msg~ok"))).toEqual([]);
    expect(kept({ grep: /error/, where: [] })).toEqual([error.line, plain.line]);
    expect(kept({ where: [] })).toHaveLength(3);
  });
});

describe("secret masking", () => {
  it("masks every occurrence, the longer secret first, and leaves tiny values alone", () => {
    const mask = secretMasker(["s3cr3t-token", "s3cr3t", "ab"]);
    expect(mask("token=s3cr3t-token and s3cr3t, ab")).toBe("token=*** and ***, ab");
    expect(secretMasker([])("unchanged")).toBe("unchanged");
  });
});

describe("interleaving by time", () => {
  it("merges sources by time and keeps each source's own order", () => {
    const a = [record("a1", 10, "a"), record("a2", 30, "a"), record("a3", 20, "a")];
    const b = [record("b1", 15, "b"), record("b2", 25, "b")];
    expect(mergeByTime([a, b]).map((r) => r.line)).toEqual(["a1", "b1", "b2", "a2", "a3"]);
    expect(mergeByTime([])).toEqual([]);
  });

  it("print as one JSON object per line, with the time in RFC 3339", () => {
    const r = record('{"level":"error"}', Date.UTC(2026, 10, 26, 14, 0, 0), "web-1");
    expect(JSON.parse(recordJson({ ...r, app: "web", replica: "web-1" }))).toEqual({
      at: "2026-11-26T14:00:00.000Z",
      source: "web-1",
      app: "web",
      replica: "web-1",
      line: '{"level":"error"}',
      fields: { level: "error" },
    });
  });
});
