// Starts tests/support/python_server.py (a Python `websockets` server answering the portable
// suite's routes, commands and control channel) with Debian's /usr/bin/python3, the interpreter
// python3-websockets installs into (a python3 earlier on PATH, say pyenv's, may lack it).

import { fileURLToPath } from "node:url";
import { type ServerProcess, startServerProcess } from "./servers.ts";

/**
 * The interpreter the server runs under: Debian's, or PARLEY_PYTHON (one with websockets 10.4+,
 * on a machine without Debian's package).
 */
export const PYTHON = Deno.env.get("PARLEY_PYTHON") || "/usr/bin/python3";

const script = fileURLToPath(new URL("./python_server.py", import.meta.url));

/**
 * The version of `websockets` that {@linkcode PYTHON} imports; throws saying which Debian
 * package to install when it cannot.
 */
export async function pythonWebsocketsVersion(): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(PYTHON, {
      args: ["-c", "import websockets; print(websockets.__version__)"],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new Error(
      `${PYTHON} cannot be run (${error}): install Debian's python3-websockets ` +
        "(apt-get install python3-websockets)",
    );
  }
  if (!out.success) {
    throw new Error(
      `${PYTHON} cannot import websockets: install Debian's python3-websockets ` +
        `(apt-get install python3-websockets)\n${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
  return new TextDecoder().decode(out.stdout).trim();
}

/** Starts the Python websockets server; it exits on close(). */
export async function startPythonServer(): Promise<ServerProcess> {
  await pythonWebsocketsVersion();
  return await startServerProcess(PYTHON, ["-u", script], "tests/support/python_server.py");
}
