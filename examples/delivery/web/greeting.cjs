const { readFileSync } = require("node:fs");
const { join } = require("node:path");

/** The greeting the app says: the first line of greeting.txt. */
function greeting() {
  return readFileSync(join(__dirname, "greeting.txt"), "utf8").split("\n")[0].trim();
}

module.exports = { greeting };
