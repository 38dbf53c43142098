// The data the compression cases (groups 12 and 13) send, in slices that wrap around. The suite
// sends five files it ships (autobahntestsuite/testdata/: Goethe's Faust I from Project
// Gutenberg, the 512x512 "Lena" bitmap, a PDF paper, one of its own JSON reports and one of its
// HTML reports); they are not ours to copy, so these are generated stand-ins of the same kind and
// the same length: prose, an 8-bit grayscale bitmap (smooth, with a little noise), a PDF-like file
// whose streams are incompressible, a JSON report and an HTML report. Deterministic: every run, on
// every runtime, sends the same bytes.

/** One data set: Autobahn's name, description and message type. */
export interface DeflateData {
  /** The suite's key (WS_COMPRESSION_TESTDATA in case12_x_x.py). */
  readonly name: "json_data1" | "lena512" | "gutenberg_faust" | "html_data1" | "ooms";
  readonly description: string;
  readonly binary: boolean;
  readonly bytes: Uint8Array;
}

/** A deterministic generator (xorshift32). */
function generator(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const encoder = new TextEncoder();

/** `text` as UTF-8, cut or repeated to exactly `length` bytes (ASCII, so any cut is valid). */
function exactly(text: string, length: number): Uint8Array {
  const bytes = encoder.encode(text);
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += bytes.length) out.set(bytes.subarray(0, length - at), at);
  return out;
}

/** A JSON report of many agents and cases, like the suite's index.json. */
function jsonReport(length: number): Uint8Array {
  const next = generator(12);
  const behaviors = ["OK", "OK", "OK", "NON-STRICT", "INFORMATIONAL", "FAILED"];
  let text = "{\n";
  for (let agent = 0; text.length < length; agent++) {
    text += `   "Agent${agent}/0.${agent % 10}.${agent % 7}": {\n`;
    for (let g = 1; g <= 10; g++) {
      for (let c = 1; c <= 12; c++) {
        const b = behaviors[next() % behaviors.length];
        text += `      "${g}.${c}": {\n         "behavior": "${b}",\n` +
          `         "behaviorClose": "${next() % 9 === 0 ? "INFORMATIONAL" : "OK"}",\n` +
          `         "duration": ${next() % 40},\n` +
          `         "remoteCloseCode": ${[1000, 1002, 1007, 1000][next() % 4]},\n` +
          `         "reportfile": "agent${agent}_case_${g}_${c}.json"\n      },\n`;
      }
    }
    text += "   },\n";
  }
  return exactly(text, length);
}

/** A 512x512 8-bit grayscale BMP: 54-byte header, 256-color palette, a smooth picture. */
function bitmap(): Uint8Array {
  const width = 512;
  const height = 512;
  const offset = 54 + 1024;
  const out = new Uint8Array(offset + width * height);
  const view = new DataView(out.buffer);
  out[0] = 0x42; // "BM"
  out[1] = 0x4d;
  view.setUint32(2, out.length, true);
  view.setUint32(10, offset, true);
  view.setUint32(14, 40, true); // BITMAPINFOHEADER
  view.setInt32(18, width, true);
  view.setInt32(22, height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, 8, true);
  view.setUint32(34, width * height, true);
  view.setUint32(46, 256, true);
  for (let i = 0; i < 256; i++) {
    out[54 + 4 * i] = out[55 + 4 * i] = out[56 + 4 * i] = i;
  }
  const next = generator(512);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = 128 + 60 * Math.sin(x / 37) * Math.cos(y / 23) + 40 * Math.sin((x + y) / 91) +
        (next() % 9) - 4;
      out[offset + y * width + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return out;
}

const WORDS = ("der die das und nicht ich du er sie es wir ihr mich dich sich mein dein sein " +
  "ein eine einen dem den des zu mit von auf in an aus bei nach um so wie was wer wo wenn doch " +
  "noch nur schon auch ja nein hier dort Herz Geist Welt Gott Teufel Nacht Tag Licht Sonne " +
  "Himmel Erde Leben Tod Liebe Seele Wissen Kunst Zeit Ende Anfang Tat Wort Sinn Kraft Mensch " +
  "Doktor Meister Schüler Gretchen Mephistopheles Faust Wagner Marthe Frau Herr Knabe Engel " +
  "gehen kommen sehen sagen wissen denken lieben leben sterben bleiben werden haben sein " +
  "sprechen hören fühlen suchen finden halten geben nehmen ruhen streben irren schweben " +
  "dunkel hell tief hoch alt jung schön süß bitter still wild ewig heilig fern nah").split(" ");

/** Verse-like German prose, UTF-8 (umlauts included), as Project Gutenberg's plain text. */
function prose(length: number): Uint8Array {
  const next = generator(2229);
  let text = "Faust: Der Tragödie erster Teil (a generated stand-in)\r\n\r\n";
  while (encoder.encode(text).length < length + 64) {
    const speaker = ["FAUST", "MEPHISTOPHELES", "WAGNER", "MARGARETE", "CHOR DER ENGEL"][
      next() % 5
    ];
    text += `${speaker}:\r\n`;
    for (let line = 0, lines = 2 + (next() % 6); line < lines; line++) {
      const words: string[] = [];
      for (let w = 0, n = 4 + (next() % 6); w < n; w++) words.push(WORDS[next() % WORDS.length]);
      const first = words[0];
      words[0] = first[0].toUpperCase() + first.slice(1);
      text += `${words.join(" ")}${[",", ".", "!", "?", ";"][next() % 5]}\r\n`;
    }
    text += "\r\n";
  }
  // Cut at a character boundary, then pad with spaces to the exact length.
  const bytes = encoder.encode(text);
  let end = length;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  const out = new Uint8Array(length).fill(0x20);
  out.set(bytes.subarray(0, end));
  return out;
}

/** An HTML report: a stylesheet, then a long table of cases and agents. */
function htmlReport(length: number): Uint8Array {
  const next = generator(380);
  let text = '<!DOCTYPE html>\n<html>\n   <head>\n      <meta charset="utf-8" />\n' +
    '      <style lang="css">\nbody { background-color: #F4F4F4; color: #333; }\n' +
    "td.case_ok { background-color: #0a0; text-align: center; }\n" +
    "td.case_failed { background-color: #900; text-align: center; }\n</style>\n   </head>\n" +
    '   <body>\n      <table id="agent_case_results">\n';
  for (let n = 0; text.length < length; n++) {
    const id = `${1 + (n % 13)}_${1 + (n % 7)}_${n}`;
    text += `         <tr class="agent_case_result_row">\n` +
      `            <td class="case"><a href="#case_desc_${id}">Case ${
        id.replaceAll("_", ".")
      }</a></td>\n`;
    for (let a = 0; a < 3; a++) {
      const ok = next() % 11 !== 0;
      const outcome = ok ? "case_ok" : "case_failed";
      text += `            <td class="${outcome}"><a href="agent${a}_case_${id}.html">${
        ok ? "Pass" : "Fail"
      }</a></td><td class="close close_hide ${outcome}"><span class="close_code">${
        [1000, 1002, 1007][next() % 3]
      }</span></td>\n`;
    }
    text += "         </tr>\n";
  }
  return exactly(text, length);
}

/** A PDF-like file: objects whose streams are (like real compressed streams) random bytes. */
function pdf(length: number): Uint8Array {
  const next = generator(5439);
  const out = new Uint8Array(length);
  let at = 0;
  const put = (bytes: Uint8Array) => {
    const n = Math.min(bytes.length, length - at);
    out.set(bytes.subarray(0, n), at);
    at += n;
  };
  put(encoder.encode("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"));
  for (let obj = 1; at < length; obj++) {
    const size = 2000 + (next() % 30000);
    put(encoder.encode(`${obj} 0 obj\n<< /Length ${size} /Filter /FlateDecode >>\nstream\n`));
    const stream = new Uint8Array(size);
    for (let i = 0; i < size; i += 4) {
      const r = next();
      stream[i] = r;
      stream[i + 1] = r >>> 8;
      stream[i + 2] = r >>> 16;
      stream[i + 3] = r >>> 24;
    }
    put(stream);
    put(encoder.encode("\nendstream\nendobj\n"));
  }
  return out;
}

let sets: ReadonlyMap<DeflateData["name"], DeflateData> | undefined;

/**
 * The data sets, in the order the suite numbers them (12.1 to 12.5: Python 2's order of the
 * WS_COMPRESSION_TESTDATA dict), made on first use.
 */
export function deflateDataSets(): ReadonlyMap<DeflateData["name"], DeflateData> {
  return sets ??= new Map(
    ([
      ["json_data1", "Large JSON data file", false, () => jsonReport(194_056)],
      ["lena512", "Lena Picture, Bitmap 512x512 bw", true, bitmap],
      [
        "gutenberg_faust",
        "Human readable text, Goethe's Faust I (German)",
        true,
        () => prose(222_218),
      ],
      ["html_data1", "Large HTML file", false, () => htmlReport(379_709)],
      ["ooms", "A larger PDF", true, () => pdf(1_042_328)],
    ] as const).map(([name, description, binary, make]) => [
      name,
      { name, description: `${description} (generated stand-in)`, binary, bytes: make() },
    ]),
  );
}

/**
 * The `n`-th message (0-based) of `length` bytes a case sends from `data`: the slices follow one
 * another and wrap around at the end (case12_x_x.py's sendOne).
 */
export function deflateMessage(data: Uint8Array, length: number, n: number): Uint8Array {
  if (length === 0) return new Uint8Array(0);
  const from = (n * length) % data.length;
  const to = from + length;
  if (to <= data.length) return data.subarray(from, to);
  const out = new Uint8Array(length);
  out.set(data.subarray(from));
  out.set(data.subarray(0, to - data.length), data.length - from);
  return out;
}
