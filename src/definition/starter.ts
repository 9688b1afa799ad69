/**
 * The baton.yaml that `baton init` writes: valid as it is, commented so that a newcomer
 * learns the format by reading it, and guessing the command from package.json.
 */
import { toAppName } from "./names.js";

export interface DetectedProject {
  packageJson?: { scripts?: Record<string, string>; main?: string };
}

export function starterDefinition(folderName: string, detected: DetectedProject): string {
  const app = toAppName(folderName);
  const { command, note } = guessCommand(detected);
  return `# Baton definition: which apps run, how many replicas of each, and how to check them.
# \`baton schema\` prints the JSON Schema of this file, every field explained; point your
# editor's YAML extension at it for completion. \`baton plan\` shows what would change.

# project: ${folderName}    # default: the name of this folder

apps:
  ${app}:
    # A list is exec'd directly (\${PORT} is expanded from the replica's environment);
    # a string such as "npm run serve" is run by /bin/sh -c.
    command: ${command}${note}
    replicas: 2           # identical processes; one that exits is restarted at once
    port: 8080            # Baton's proxy listens here and balances over ready replicas;
                          # each replica listens on its own PORT environment variable
    health:
      readiness:
        http: /           # traffic goes only to replicas answering 2xx or 3xx here
    # env: { NODE_ENV: production }
    # stopGrace: 10s      # time between SIGTERM and SIGKILL
`;
}

function guessCommand(detected: DetectedProject): { command: string; note: string } {
  const pkg = detected.packageJson;
  if (pkg?.scripts?.start !== undefined) {
    return { command: '["npm", "start"]', note: "   # the start script of package.json" };
  }
  if (pkg?.main !== undefined && pkg.main !== "") {
    // JSON strings are valid YAML, whatever the file name contains.
    return { command: `["node", ${JSON.stringify(pkg.main)}]`, note: "   # main of package.json" };
  }
  return {
    command: '["node", "server.js"]',
    note: "   # placeholder: replace with the command that starts your app",
  };
}
