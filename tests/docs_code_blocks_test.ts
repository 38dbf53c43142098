// Every ```ts block of README.md and docs/*.md type-checks against this repository's mod.ts: each
// block is written to a file of its own, with `@parley/client` and `jsr:@parley/client` pointing
// at mod.ts, and `deno check` runs on them all. Blocks that are not TypeScript use another fence
// (```sh, ```text, ```js); a block that needs context declares it (`declare const conn: ...`).

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = new URL("../", import.meta.url);
const MOD = new URL("mod.ts", ROOT).href;

/** One fenced block: where it starts (1-based line of the fence) and its lines. */
interface Block {
  readonly doc: string;
  readonly line: number;
  readonly lang: string;
  readonly code: string;
}

/** The fenced blocks of a Markdown text (``` fences at the start of a line). */
function fencedBlocks(doc: string, text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})\s*([\w-]*)/.exec(lines[i]);
    if (open === null) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith(open[1]) && l.trim() === open[1]);
    assert.ok(end > i, `${doc}:${i + 1}: a code block that is never closed`);
    blocks.push({ doc, line: i + 1, lang: open[2], code: lines.slice(i + 1, end).join("\n") });
    i = end;
  }
  return blocks;
}

/** README.md and every Markdown file of docs/, relative to the repository. */
async function documents(): Promise<string[]> {
  const docs = ["README.md"];
  for await (const entry of Deno.readDir(new URL("docs/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".md")) docs.push(`docs/${entry.name}`);
  }
  return docs.sort();
}

async function allBlocks(): Promise<Block[]> {
  const blocks: Block[] = [];
  for (const doc of await documents()) {
    blocks.push(...fencedBlocks(doc, await Deno.readTextFile(new URL(doc, ROOT))));
  }
  return blocks;
}

/** The block with the library's specifiers pointing at mod.ts. */
function pointAtMod(code: string): string {
  return code.replace(/(["'])(?:jsr:)?@parley\/client\1/g, JSON.stringify(MOD));
}

Deno.test("every ts code block of the README and of docs/ type-checks against mod.ts", async () => {
  const blocks = (await allBlocks()).filter((b) => b.lang === "ts");
  assert.ok(blocks.some((b) => b.doc === "README.md"), "the README has no ts block");

  const dir = await Deno.makeTempDir({ prefix: "parley_doc_blocks_" });
  try {
    const files: string[] = [];
    for (const block of blocks) {
      // The file's name says where the block is, so deno check's messages point at it.
      const name = `${block.doc.replaceAll("/", "_")}_line_${block.line}.ts`;
      await Deno.writeTextFile(`${dir}/${name}`, pointAtMod(block.code) + "\n");
      files.push(name);
    }
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--no-config", "--no-lock", "--quiet", ...files],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    assert.equal(
      out.code,
      0,
      `deno check failed for a code block (file <doc>_line_<n>.ts):\n${text}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("code blocks name their language, and TypeScript is fenced as ts", async () => {
  for (const block of await allBlocks()) {
    const where = `${block.doc}:${block.line}`;
    assert.notEqual(block.lang, "", `${where}: a code block without a language (ts, sh, text...)`);
    assert.ok(
      !["typescript", "tsx", "mts"].includes(block.lang),
      `${where}: fence TypeScript as ts, so that it is type-checked`,
    );
  }
});

Deno.test("the README stays a ten-minute read: at most 300 lines", async () => {
  const lines = (await Deno.readTextFile(fileURLToPath(new URL("README.md", ROOT)))).split("\n");
  const count = lines.at(-1) === "" ? lines.length - 1 : lines.length;
  assert.ok(count <= 300, `README.md has ${count} lines`);
});
