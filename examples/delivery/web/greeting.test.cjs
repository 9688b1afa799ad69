const test = require("node:test");
const assert = require("node:assert");
const { greeting } = require("./greeting.cjs");

test("the greeting is one short line", () => {
  const text = greeting();
  assert.ok(text.length > 0, "greeting.txt is empty");
  assert.ok(text.length <= 60, `the greeting is ${text.length} characters, at most 60 fit`);
});
