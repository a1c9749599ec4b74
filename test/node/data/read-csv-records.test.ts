/**
 * The loader's CSV record reading (papaparse, plus the start line, duplicate key, field count and
 * quote errors the loader adds) against csv-parse as an independent RFC 4180 reference: the same
 * records for the same text, whether it comes as one string or as a stream cut anywhere after its
 * first line.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { DataError } from "../../../trainer/data/data-error";
import { loadCsv } from "../../../trainer/data/load-csv";
import { CsvSyntaxError, readCsvRecords } from "../../../trainer/data/read-csv-records";
import { testConfig } from "./test-config";

interface Read {
  fields: string[];
  line: number;
  key: string;
}

async function read(input: string | Readable): Promise<Read[]> {
  const out: Read[] = [];
  await readCsvRecords(input, (fields, line, key) => out.push({ fields, line, key }));
  return out;
}

const reference = (text: string): string[][] => parse(text, { bom: true, skip_empty_lines: true });

/** papaparse picks the line end from the first chunk, so every cut here falls after the first line. */
function firstLineEnd(text: string): number {
  const match = /\r\n|\n|\r/.exec(text);
  return match ? match.index + match[0].length : text.length;
}

const TRICKY = [
  "a,b,c\n1,2,3\n4,5,6\n",
  "a,b,c\r\n1,2,3\r\n4,5,6",
  "a,b,c\r1,2,3\r4,5,6\r",
  "\uFEFFa,b\n1,2\n",
  'a,b\n"x, y",2\n"say ""hi""",3\n',
  'a,b\n"multi\nline",2\n3,"two\r\nbreaks\nhere"\n4,5\n',
  'a,b\r\n"multi\nline",2\r\n3,"two\r\nbreaks"\r\n4,5\r\n',
  'a,b\n"",""\n,\n"a""",""""\n',
  "a,b\n\n\n1,2\n\n3,4\n\n",
  "a,b\r\n\r\n1,2\r\n\r\n",
  "a,b\n1, 2 \n x ,y\n",
  'a,b\n"quoted at end","of file"',
  'a,b\r\n"quoted at end","of file"',
  "a,b\nno,final newline",
  "a,b\n1,\u00e9t\u00e9 \u{1F600}\n",
];

describe("readCsvRecords", () => {
  it.each(TRICKY.map((t) => [JSON.stringify(t), t]))("reads %s as csv-parse does", async (_, text) => {
    expect((await read(text!)).map((r) => r.fields)).toEqual(reference(text!));
  });

  it("gives the same records, lines and keys from a stream wherever its later chunks are cut", async () => {
    for (const text of TRICKY) {
      const whole = await read(text);
      const first = firstLineEnd(text);
      for (let cut = first; cut <= text.length; cut++) {
        const chunks = [text.slice(0, first), text.slice(first, cut), text.slice(cut)];
        expect(await read(Readable.from(chunks)), `${JSON.stringify(text)} cut at ${cut}`).toEqual(whole);
      }
      // One UTF-16 unit a chunk: cuts inside "", inside "\r\n" and between surrogate halves.
      const units = [text.slice(0, first), ...Array.from({ length: text.length - first }, (_, i) => text[first + i]!)];
      expect(await read(Readable.from(units)), JSON.stringify(text)).toEqual(whole);
    }
  });

  it.each([
    ["\n", "LF"],
    ["\r\n", "CRLF"],
    ["\r", "CR"],
  ])("numbers each record by the file line it starts on, counting skipped and spanned lines (%j)", async (eol) => {
    const text = ["h1,h2", "", `1,"a${eol}b"`, "2,x", "", `3,"c${eol}d${eol}e"`, "4,y"].join(eol);
    expect((await read(text)).map((r) => r.line)).toEqual([1, 3, 5, 7, 10]);
    expect((await read(`\uFEFF${text}${eol}`)).map((r) => r.line)).toEqual([1, 3, 5, 7, 10]);
  });

  it("counts a quoted bare \\n as a line in a CRLF file, and \\r\\n as one line in an LF file", async () => {
    expect((await read('h1,h2\r\n"a\nb",1\r\n2,3\r\n')).map((r) => r.line)).toEqual([1, 2, 4]);
    expect((await read('h1,h2\n"a\r\nb",1\n2,3\n')).map((r) => r.line)).toEqual([1, 2, 4]);
  });

  it("keys records by their cells, whether or not they were quoted", async () => {
    for (const eol of ["\n", "\r\n"]) {
      const [, a, b, c, d, e] = await read(["h1,h2", "x,y", '"x","y"', '"x,y",z', '"x","y,z"', '"x,y",z'].join(eol));
      expect(a!.key, JSON.stringify(eol)).toBe(b!.key);
      expect(c!.key).not.toBe(d!.key);
      // The last line, with no line end after it, keys as the same cells earlier in the file.
      expect(e!.key).toBe(c!.key);
      expect(new Set([a!.key, c!.key, d!.key]).size).toBe(3);
    }
  });

  it("refuses a wrong field count and a malformed or unclosed quote, naming the line, as csv-parse refuses them", async () => {
    const cases: [string, RegExp][] = [
      ["a,b\n1,2\n3,4,5\n", /^line 3 has 3 fields, the header has 2$/],
      ['a,b\n"1\n2",3\n4,5,6\n', /^line 4 has 3 fields, the header has 2$/],
      ['a,b\n"x"y,2\n', /^line 2: a quoted field holds a quote that is neither doubled nor followed by a delimiter or line end$/],
      ['a,b\n"say "hi"",2\n', /^line 2: a quoted field holds a quote/],
      ['a,b\n1,2\n"open,3\n', /^a quoted field opened on line 3 is never closed$/],
    ];
    for (const [text, message] of cases) {
      expect(() => reference(text)).toThrow();
      await expect(read(text)).rejects.toThrow(CsvSyntaxError);
      await expect(read(text)).rejects.toThrow(message);
      const first = firstLineEnd(text);
      await expect(read(Readable.from([text.slice(0, first), text.slice(first)]))).rejects.toThrow(message);
    }
  });

  it("stops reading a stream at the first bad record", async () => {
    const endless = new Readable({ read() {} });
    endless.push("a,b\n1,2,3\n");
    await expect(read(endless)).rejects.toThrow(/^line 2 has 3 fields/);
    expect(endless.destroyed).toBe(true);
  });

  it("reads a quote inside an unquoted cell as a plain character, where csv-parse would refuse it", async () => {
    expect((await read('a,b\n1,x"y\n')).map((r) => r.fields)).toEqual([
      ["a", "b"],
      ["1", 'x"y'],
    ]);
  });

  it("passes on a stream's own error and reads an empty stream as no records", async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error("disk gone"));
      },
    });
    await expect(read(failing)).rejects.toThrow("disk gone");
    expect(await read(Readable.from([]))).toEqual([]);
    expect(await read("")).toEqual([]);
  });
});

describe("loadCsv reading a file", () => {
  const writeCsv = (text: string): string => {
    const path = join(mkdtempSync(join(tmpdir(), "read-csv-records-")), "data.csv");
    writeFileSync(path, text);
    return path;
  };

  it("reads a CRLF file of several reads as it reads the same text, quoted line breaks and multi-byte cells included", async () => {
    // ~1 MB: the reads cut through quotes, CRLFs and two-byte UTF-8 characters.
    const rows = Array.from({ length: 40_000 }, (_, i) => `${i % 90},${i % 7}.5,"pl\u00e4n ${i % 3}${i % 5 ? "" : "\r\nsecond line"}",${i % 2}`);
    const text = `\uFEFFage,income,plan,churned\r\n${rows.join("\r\n")}\r\n`;
    const fromFile = await loadCsv({ path: writeCsv(text) }, testConfig());
    const fromText = await loadCsv({ text }, testConfig());
    expect(fromFile.categorical.plan).toEqual(fromText.categorical.plan);
    expect(fromFile.categorical.plan!.slice(0, 2)).toEqual(["pl\u00e4n 0\r\nsecond line", "pl\u00e4n 1"]);
    expect(Array.from(fromFile.rowNumbers)).toEqual(Array.from(fromText.rowNumbers));
    expect(fromFile.rowNumbers.slice(0, 3)).toEqual(Int32Array.from([2, 4, 5]));
    expect(fromFile.report).toEqual({ ...fromText.report, source: fromFile.report.source });
  });

  it("turns a malformed record in a file into a DataError naming the file and the line", async () => {
    const path = writeCsv("age,income,plan,churned\n1,2,a,0\n3,4,\"b\"c,1\n");
    await expect(loadCsv({ path }, testConfig())).rejects.toThrow(DataError);
    await expect(loadCsv({ path }, testConfig())).rejects.toThrow(`${path}: line 3: a quoted field holds a quote`);
  });
});
