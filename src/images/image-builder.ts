import { EngineCallError, postProgress } from "./engine-stream.js";
import { ImageError } from "./errors.js";

export interface BuildRequest {
  readonly socketPath: string;
  /** The app, for messages. */
  readonly app: string;
  readonly context: Buffer;
  readonly dockerfile: string;
  readonly tag: string;
  readonly args: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  /** Each line of the engine's output ("Step 2/5 : COPY …"), as it comes. */
  readonly onOutput: (line: string) => void;
  /** Abandons the build: the engine stops it when the connection closes. */
  readonly signal?: AbortSignal;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
const ANSI = /\u001b\[[0-9;]*m/g;
/** The builder's own bookkeeping, not the step's output. */
const BUILDER_NOISE = /^( ---> |Removing intermediate container )/;

/** Lines of the failing step shown with a failed build. */
const FAILED_STEP_LINES = 30;

/**
 * Builds an image through the Engine API (POST /build with the context tar) and returns its
 * id. A failing step throws an ImageError quoting that step and its last output lines.
 */
export async function buildImage(request: BuildRequest): Promise<string> {
  const query = new URLSearchParams({
    t: request.tag,
    dockerfile: request.dockerfile,
    buildargs: JSON.stringify(request.args),
    labels: JSON.stringify(request.labels),
    rm: "1",
    forcerm: "1",
  });
  let step = "";
  let stepOutput: string[] = [];
  let imageId: string | undefined;
  let failure: string | undefined;
  let partial = "";
  const take = (text: string): void => {
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    for (const raw of lines) {
      // The engine paints a step's stderr red; the terminal gets it plain, as any output.
      const line = raw.replace(ANSI, "");
      request.onOutput(line);
      if (/^Step \d+\/\d+ :/.test(line)) {
        step = line;
        stepOutput = [];
      } else if (line.trim() !== "" && !BUILDER_NOISE.test(line)) stepOutput.push(line);
    }
  };
  try {
    await postProgress(
      request.socketPath,
      `/build?${query}`,
      {
        body: request.context,
        headers: { "content-type": "application/x-tar" },
        ...(request.signal === undefined ? {} : { signal: request.signal }),
      },
      (message) => {
        if (message.stream !== undefined) take(message.stream);
        if (message.aux?.ID !== undefined) imageId = message.aux.ID;
        if (message.error !== undefined) {
          failure = message.errorDetail?.message ?? message.error;
        }
      },
    );
  } catch (error) {
    if (error instanceof EngineCallError) {
      throw new ImageError(
        "build.refused",
        `the Docker engine refused to build ${request.app}: ${error.message}`,
        error.status === 503 ? "start dockerd" : "check the Dockerfile and the build arguments",
      );
    }
    throw error;
  }
  if (partial !== "") take("\n");
  if (failure !== undefined) {
    const output = stepOutput.slice(-FAILED_STEP_LINES).map((line) => `    ${line}`);
    throw new ImageError(
      "build.failed",
      `building ${request.app} failed${step === "" ? "" : ` at ${step.replace(/ :/, ":")}`}: ${failure.trim()}`,
      output.length > 0
        ? `the step's output ended with:\n${output.join("\n")}`
        : "fix the Dockerfile and build again; nothing was recorded",
    );
  }
  if (imageId === undefined) {
    throw new ImageError(
      "build.no_image",
      `the Docker engine ended the build of ${request.app} without naming an image`,
      "see the output above; build again",
    );
  }
  return imageId;
}
