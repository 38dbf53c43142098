// Reading a child process's first line of stdout (a server announcing where it listens), then
// draining the rest so the child never blocks on a full pipe.

/**
 * Reads `stdout` up to its first newline (or its end) and returns that line without the newline,
 * with `drained`, which settles once the rest of the output has been read and thrown away.
 */
export async function readFirstLine(
  stdout: ReadableStream<Uint8Array>,
): Promise<{ line: string; drained: Promise<void> }> {
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  const drained = (async () => {
    while (!(await reader.read()).done) { /* nothing more is printed */ }
  })();
  return { line: out.split("\n")[0], drained };
}
