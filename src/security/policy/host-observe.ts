/**
 * What the `hosts:` rules look at on one host, in one round trip over the host's transport:
 * the asked sysctl keys from /proc/sys, the asked packages from dpkg, and `sshd -T`. Output
 * parts are marked with a random boundary, as facts.ts does, so no file can forge one.
 */
import { randomBytes } from "node:crypto";
import { splitParts } from "../../hosts/facts.js";
import type { Transport } from "../../hosts/transport.js";
import type { HostPolicy } from "./host-policy.js";
import type { ObservedHost } from "./hosts.js";

// $1 the boundary, $2 the sysctl keys, $3 the packages (space-separated; the schema allows
// neither spaces nor glob characters in them, so the unquoted loops split them safely).
const SCRIPT = `B="$1"
part() { printf '\\n%s %s\\n' "$B" "$1"; }
PATH="$PATH:/usr/sbin:/sbin"
part sysctl
for k in $2; do
  f="/proc/sys/$(printf '%s' "$k" | tr . /)"
  if [ -r "$f" ]; then printf '%s %s\\n' "$k" "$(cat "$f")"; fi
done
part dpkg
if [ -n "$3" ] && command -v dpkg-query >/dev/null 2>&1; then
  dpkg-query -W -f '\${db:Status-Abbrev}\\t\${binary:Package}\\t\${Version}\\n' $3 2>/dev/null
fi
part sshd
if [ "$4" = yes ]; then sshd -T 2>&1 || echo "exit code $?"; fi
part end
`;

export async function observeHost(transport: Transport, policy: HostPolicy): Promise<ObservedHost> {
  const boundary = `--baton-policy-${randomBytes(12).toString("hex")}`;
  const wantSshd = Object.keys(policy.sshd).length > 0;
  const result = await transport.exec([
    "sh",
    "-c",
    SCRIPT,
    "sh",
    boundary,
    Object.keys(policy.sysctl).join(" "),
    policy.packagesAbsent.join(" "),
    wantSshd ? "yes" : "no",
  ]);
  const output = result.stdout.toString("utf8");
  if (!output.includes(`${boundary} end`)) {
    throw new Error(
      `${transport.host}: checking the policy failed (exit code ${result.code}): ${result.stderr.toString("utf8").trim().slice(0, 500)}`,
    );
  }
  return parseObserved(output, boundary, wantSshd);
}

export function parseObserved(output: string, boundary: string, wantSshd: boolean): ObservedHost {
  const parts = splitParts(output, boundary);
  const lines = (name: string) =>
    (parts.get(name) ?? "").split("\n").filter((line) => line.trim() !== "");
  const sysctl: Record<string, string> = {};
  for (const line of lines("sysctl")) {
    const space = line.indexOf(" ");
    if (space > 0) sysctl[line.slice(0, space)] = line.slice(space + 1).trim();
  }
  const packages: Record<string, string> = {};
  for (const line of lines("dpkg")) {
    const [status = "", name, version] = line.split("\t");
    // The second letter is the package's state: n(ot installed) and c(onfig files only) are
    // gone; installed, unpacked or half-installed ones are there.
    if (name === undefined || version === undefined || "nc".includes(status[1] ?? "n")) continue;
    packages[name] = version;
  }
  if (!wantSshd) return { sysctl, packages };
  const sshd: Record<string, string> = {};
  const sshdLines = lines("sshd");
  for (const line of sshdLines) {
    const match = /^([a-z0-9]+)\s+(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) sshd[match[1]] = match[2].trim();
  }
  if (sshd.port === undefined) {
    return { sysctl, packages, sshdError: sshdLines.join(" ").slice(0, 200) || "no output" };
  }
  return { sysctl, packages, sshd };
}
