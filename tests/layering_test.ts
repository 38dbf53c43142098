// The layers of src/ only point down, and no file imports itself round a cycle.
//
//   vocabulary  frames, what a connection reports, the errors every layer raises
//   protocol    RFC 6455 without I/O                      (imports protocol, vocabulary)
//   transport   sockets, the runtime's WebSocket, timers  (imports transport, protocol, vocabulary)
//   client      the machine, the actor, the public API    (imports anything below it)
//
// Every file under src/ is read and its import and export-from specifiers are taken from its
// tokens (comments, strings and regular expressions are skipped, so an example in a JSDoc block
// is not an import): static imports, `import type`, re-exports, and dynamic `import("...")`,
// including `typeof import("...")` in types. `mod.ts` files only re-export.

import assert from "node:assert/strict";

/** The layers, lowest first: a file may import from its own layer and the ones before it. */
const LAYERS = ["vocabulary", "protocol", "transport", "client"] as const;

const ROOT = new URL("../", import.meta.url);

// --- a small TypeScript tokenizer: just enough to find module specifiers ---

type Token =
  | { readonly kind: "name"; readonly value: string }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "punct"; readonly value: string }
  | { readonly kind: "other" };

/** Keywords after which a `/` starts a regular expression rather than a division. */
const BEFORE_REGEX = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

/** Splits TypeScript source into tokens, dropping comments and the text of templates. */
function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  // One entry per open `${` of a template: the brace depth inside that expression.
  const templates: number[] = [];
  let i = 0;
  const n = source.length;

  const regexAllowed = (): boolean => {
    const last = tokens.at(-1);
    if (last === undefined) return true;
    if (last.kind === "punct") return last.value !== ")" && last.value !== "]";
    if (last.kind === "name") return BEFORE_REGEX.has(last.value);
    return false;
  };

  /** Reads template text from `i` (just after a backtick or a closing `}`) to its end or `${`. */
  const templateText = (): void => {
    while (i < n) {
      const c = source[i];
      if (c === "\\") i += 2;
      else if (c === "`") {
        i++;
        tokens.push({ kind: "other" });
        return;
      } else if (c === "$" && source[i + 1] === "{") {
        i += 2;
        templates.push(0);
        return;
      } else i++;
    }
    throw new SyntaxError("unterminated template literal");
  };

  while (i < n) {
    const c = source[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "/" && source[i + 1] === "/") {
      while (i < n && source[i] !== "\n") i++;
    } else if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      if (end < 0) throw new SyntaxError("unterminated comment");
      i = end + 2;
    } else if (c === '"' || c === "'") {
      let value = "";
      i++;
      while (i < n && source[i] !== c) {
        if (source[i] === "\\") {
          value += source[i + 1];
          i += 2;
        } else value += source[i++];
      }
      if (i >= n) throw new SyntaxError("unterminated string");
      i++;
      tokens.push({ kind: "string", value });
    } else if (c === "`") {
      i++;
      templateText();
    } else if (c === "/" && regexAllowed()) {
      let inClass = false;
      i++;
      while (i < n && (inClass || source[i] !== "/")) {
        if (source[i] === "\\") i++;
        else if (source[i] === "[") inClass = true;
        else if (source[i] === "]") inClass = false;
        else if (source[i] === "\n") throw new SyntaxError("unterminated regular expression");
        i++;
      }
      i++;
      while (i < n && /[a-z]/.test(source[i])) i++;
      tokens.push({ kind: "other" });
    } else if (/[A-Za-z_$]/.test(c)) {
      const start = i;
      while (i < n && /[\w$]/.test(source[i])) i++;
      tokens.push({ kind: "name", value: source.slice(start, i) });
    } else if (/[0-9]/.test(c)) {
      while (i < n && /[\w.]/.test(source[i])) i++;
      tokens.push({ kind: "other" });
    } else if (c === "{" && templates.length > 0) {
      templates[templates.length - 1]++;
      tokens.push({ kind: "punct", value: c });
      i++;
    } else if (c === "}" && templates.length > 0 && templates.at(-1) === 0) {
      // The end of a template's `${...}`: back to its text.
      templates.pop();
      i++;
      templateText();
    } else {
      if (c === "}" && templates.length > 0) templates[templates.length - 1]--;
      tokens.push({ kind: "punct", value: c });
      i++;
    }
  }
  return tokens;
}

/**
 * The module specifiers `source` imports or re-exports from, in order: `from "x"`, `import "x"`,
 * `import("x")` (an `import(...)` of anything but a string literal gives `undefined`, which no
 * layer allows), and `require("x")`.
 */
function moduleSpecifiers(source: string): Array<string | undefined> {
  const tokens = tokenize(source);
  const found: Array<string | undefined> = [];
  tokens.forEach((t, i) => {
    if (t.kind !== "name") return;
    const next = tokens[i + 1];
    const after = tokens[i + 2];
    if (t.value === "from" && next?.kind === "string") found.push(next.value);
    else if (t.value === "import" && next?.kind === "string") found.push(next.value);
    else if (
      (t.value === "import" || t.value === "require") && next?.kind === "punct" &&
      next.value === "("
    ) {
      found.push(
        after?.kind === "string" && tokens[i + 3]?.kind === "punct" &&
          (tokens[i + 3] as { value: string }).value === ")"
          ? after.value
          : undefined,
      );
    }
  });
  return found;
}

/**
 * Why `source` is not a module of re-exports only (`export * from "x";`,
 * `export * as name from "x";`, `export { a, type B } from "x";`, `export type { C } from "x";`),
 * or `undefined` when it is.
 */
function notOnlyReexports(source: string): string | undefined {
  const tokens = tokenize(source);
  const is = (i: number, kind: Token["kind"], value?: string) =>
    tokens[i]?.kind === kind &&
    (value === undefined || (tokens[i] as { value?: string }).value === value);
  let i = 0;
  while (i < tokens.length) {
    const start = i;
    if (!is(i++, "name", "export")) {
      return `the statement at token ${start} does not start with export`;
    }
    if (is(i, "name", "type") && is(i + 1, "punct", "{")) i++;
    if (is(i, "punct", "*")) {
      i++;
      if (is(i, "name", "as")) {
        if (!is(i + 1, "name")) return `the statement at token ${start} has a malformed "* as"`;
        i += 2;
      }
    } else if (is(i, "punct", "{")) {
      i++;
      while (i < tokens.length && !is(i, "punct", "}")) {
        if (!is(i, "name") && !is(i, "punct", ",")) {
          return `the statement at token ${start} exports something other than names`;
        }
        i++;
      }
      i++;
    } else return `the statement at token ${start} exports a declaration`;
    if (!is(i, "name", "from") || !is(i + 1, "string")) {
      return `the statement at token ${start} exports without re-exporting from a module`;
    }
    i += 2;
    if (is(i, "punct", ";")) i++;
  }
  return undefined;
}

// --- the graph of src/ ---

interface SourceFile {
  /** The path from the repository root, with forward slashes: "src/client/_actor.ts". */
  readonly path: string;
  /** Its layer, or undefined for a file outside every layer. */
  readonly layer: string | undefined;
  readonly source: string;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory) out.push(...await listFiles(`${path}/`));
    else if (entry.isFile) out.push(path);
  }
  return out.sort();
}

async function readSources(): Promise<SourceFile[]> {
  const files = [];
  for (const path of await listFiles("src/")) {
    const folder = path.split("/")[1];
    files.push({
      path,
      layer: (LAYERS as readonly string[]).includes(folder) ? folder : undefined,
      source: await Deno.readTextFile(new URL(path, ROOT)),
    });
  }
  return files;
}

/** `specifier` resolved against the file at `from`, as a path from the repository root. */
function resolvePath(from: string, specifier: string): string {
  const url = new URL(specifier, new URL(from, ROOT));
  return url.href.slice(ROOT.href.length);
}

interface Edge {
  readonly from: string;
  readonly to: string;
}

async function importGraph(): Promise<{ files: SourceFile[]; edges: Edge[]; bare: Edge[] }> {
  const files = await readSources();
  const edges: Edge[] = [];
  const bare: Edge[] = [];
  for (const file of files) {
    if (!file.path.endsWith(".ts")) continue;
    for (const specifier of moduleSpecifiers(file.source)) {
      if (specifier === undefined) bare.push({ from: file.path, to: "(a computed import)" });
      else if (specifier.startsWith("./") || specifier.startsWith("../")) {
        edges.push({ from: file.path, to: resolvePath(file.path, specifier) });
      } else bare.push({ from: file.path, to: specifier });
    }
  }
  return { files, edges, bare };
}

function layerOf(path: string): number {
  return (LAYERS as readonly string[]).indexOf(path.split("/")[1]);
}

/** A cycle in the graph as a list of paths (first = last), or undefined. */
function findCycle(edges: readonly Edge[]): string[] | undefined {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, "open");
    stack.push(node);
    for (const to of next.get(node) ?? []) {
      if (state.get(to) === "open") return [...stack.slice(stack.indexOf(to)), to];
      if (state.get(to) === undefined) {
        const cycle = visit(to);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of [...next.keys()].sort()) {
    if (state.get(node) === undefined) {
      const cycle = visit(node);
      if (cycle) return cycle;
    }
  }
  return undefined;
}

// --- the checks ---

Deno.test("layering: the tokenizer finds imports in code only, static and dynamic", () => {
  const source = [
    "// import { x } from './commented.ts';",
    "/** @example",
    ' * import { y } from "@parley/client";',
    " */",
    'import { a } from "./a.ts";',
    'import type { B } from "../b.ts";',
    'export * from "./c.ts";',
    "export { d, type E } from './d.ts';",
    'import "./side_effect.ts";',
    'const s = "from \\"./in_a_string.ts\\"";',
    'const t = `import("./in_a_template.ts") ${await import("./in_template_code.ts")}`;',
    "const r = /from \"'`[/]/g.test(s) ? 1 / 2 : 3;",
    'let m: typeof import("./typed.ts") | undefined;',
    "const u = await import(name);",
  ].join("\n");
  assert.deepEqual(moduleSpecifiers(source), [
    "./a.ts",
    "../b.ts",
    "./c.ts",
    "./d.ts",
    "./side_effect.ts",
    "./in_template_code.ts",
    "./typed.ts",
    undefined,
  ]);
});

Deno.test("layering: the re-export check tells a mod.ts of re-exports from one with code", () => {
  assert.equal(
    notOnlyReexports(
      '/** doc */\nexport * from "./a.ts";\nexport * as b from "./b.ts";\n' +
        'export { c, type D } from "./c.ts";\nexport type { E } from "./e.ts";\n',
    ),
    undefined,
  );
  assert.notEqual(notOnlyReexports('export const x = 1;\nexport * from "./a.ts";\n'), undefined);
  assert.notEqual(notOnlyReexports('import { a } from "./a.ts";\nexport { a };\n'), undefined);
  assert.notEqual(notOnlyReexports('export * from "./a.ts";\nconsole.log(1);\n'), undefined);
});

Deno.test("layering: every file under src/ belongs to a layer", async () => {
  const outside = (await readSources()).filter((f) => f.layer === undefined).map((f) => f.path);
  assert.deepEqual(outside, [], `files outside the layers ${LAYERS.join(", ")}`);
});

Deno.test("layering: no import points from a lower layer to a higher one", async () => {
  const { edges } = await importGraph();
  assert.ok(edges.length > 50, `only ${edges.length} imports found: is the scanner broken?`);
  const upward = edges
    .filter((e) => layerOf(e.to) < 0 || layerOf(e.to) > layerOf(e.from))
    .map((e) => `${e.from} -> ${e.to}`);
  assert.deepEqual(upward, [], `layers from the bottom: ${LAYERS.join(" <- ")}`);
});

Deno.test("layering: the vocabulary imports nothing from the rest of the library", async () => {
  const { edges } = await importGraph();
  const out = edges
    .filter((e) => e.from.startsWith("src/vocabulary/") && !e.to.startsWith("src/vocabulary/"))
    .map((e) => `${e.from} -> ${e.to}`);
  assert.deepEqual(out, []);
});

Deno.test("layering: every relative import names a file that exists", async () => {
  const { edges } = await importGraph();
  const missing: string[] = [];
  for (const e of edges) {
    try {
      if (!(await Deno.stat(new URL(e.to, ROOT))).isFile) missing.push(`${e.from} -> ${e.to}`);
    } catch {
      missing.push(`${e.from} -> ${e.to}`);
    }
  }
  assert.deepEqual(missing, []);
});

Deno.test("layering: src/ imports no package, and only the transport loads runtime modules", async () => {
  const { bare } = await importGraph();
  const wrong = bare
    .filter((e) => !(e.to.startsWith("node:") && e.from.startsWith("src/transport/")))
    .map((e) => `${e.from} -> ${e.to}`);
  assert.deepEqual(wrong, []);
});

Deno.test("layering: the file import graph of src/ has no cycle", async () => {
  const { edges } = await importGraph();
  const cycle = findCycle(edges);
  assert.equal(cycle, undefined, `import cycle: ${cycle?.join(" -> ")}`);
});

Deno.test("layering: the cycle check finds a cycle when there is one", () => {
  assert.deepEqual(
    findCycle([
      { from: "a", to: "b" },
      { from: "b", to: "c" },
      { from: "c", to: "a" },
      { from: "c", to: "d" },
    ]),
    ["a", "b", "c", "a"],
  );
  assert.equal(findCycle([{ from: "a", to: "b" }, { from: "a", to: "c" }]), undefined);
});

Deno.test("layering: mod.ts files only re-export", async () => {
  const mods = [
    { path: "mod.ts", source: await Deno.readTextFile(new URL("mod.ts", ROOT)) },
    ...(await readSources()).filter((f) => f.path.endsWith("/mod.ts")),
  ];
  assert.ok(mods.length >= 3, "the root mod.ts and the layers' mod.ts files");
  const wrong = mods.flatMap((m) => {
    const why = notOnlyReexports(m.source);
    return why === undefined ? [] : [`${m.path}: ${why}`];
  });
  assert.deepEqual(wrong, []);
});
