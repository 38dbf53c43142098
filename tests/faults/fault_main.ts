// The fault client (fault_client.ts) in a process of its own: `deno run --allow-net=127.0.0.1`,
// `node` or `bun` on this file with the client's options as JSON (the last argument). Commands
// come as JSON lines on stdin, events go as JSON lines to stdout. It never calls process.exit:
// once the client has stopped and stdin has ended, the process must end by itself, so a socket
// or timer left behind shows as a process that does not exit.

import process from "node:process";
import { type FaultCommand, runFaultClient } from "./fault_client.ts";

const options = JSON.parse(process.argv[process.argv.length - 1]);

async function* commands(): AsyncGenerator<FaultCommand> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of process.stdin) {
    text += typeof chunk === "string"
      ? chunk
      : decoder.decode(chunk as Uint8Array, { stream: true });
    let at;
    while ((at = text.indexOf("\n")) >= 0) {
      const line = text.slice(0, at).trim();
      text = text.slice(at + 1);
      if (line !== "") yield JSON.parse(line) as FaultCommand;
    }
  }
}

await runFaultClient(options, commands(), (line) => console.log(JSON.stringify(line)));
