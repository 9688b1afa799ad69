/**
 * The one way a command reaches a host's shell: each argument in single quotes, a single
 * quote inside closed, escaped and reopened (`'` → `'\''`). Over SSH a command is a string
 * the login shell splits again; quoting every argument this way makes it split back into
 * exactly the argv it was, whatever the argument holds (spaces, `$`, `;`, newlines, quotes).
 */
export function quoteArg(arg: string): string {
  if (arg.includes("\0")) {
    throw new Error("a command argument cannot hold a NUL byte: no shell can pass it on");
  }
  // Plain words stay readable in plans and logs; anything else is quoted.
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, "'\\''")}'`;
}

/** argv as one shell command line: `quoteArgv(["echo", "a b"])` → `echo 'a b'`. */
export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error("an empty command");
  return argv.map(quoteArg).join(" ");
}
