/**
 * The trainer's CSV record reader against csv-parse (the reference RFC 4180 implementation the
 * loader used before): same records for the same text, however the text is cut into chunks, plus
 * the start line of each record and the errors csv-parse also refuses.
 */
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { CsvRecordReader, CsvSyntaxError } from "../../../trainer/data/csv-records";

interface Read {
  fields: string[];
  line: number;
  key: string;
}

function read(text: string, cuts: number[] = []): Read[] {
  const out: Read[] = [];
  const reader = new CsvRecordReader((fields, line, key) => out.push({ fields, line, key }));
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    reader.push(text.slice(from, cut));
    from = cut;
  }
  reader.end();
  return out;
}

const reference = (text: string): string[][] => parse(text, { bom: true, skip_empty_lines: true });

const TRICKY = [
  "a,b,c\n1,2,3\n4,5,6\n",
  "a,b,c\r\n1,2,3\r\n4,5,6",
  "a,b,c\r1,2,3\r4,5,6\r",
  "\uFEFFa,b\n1,2\n",
  'a,b\n"x, y",2\n"say ""hi""",3\n',
  'a,b\n"multi\nline",2\n3,"two\r\nbreaks\nhere"\n4,5\n',
  'a,b\n"",""\n,\n"a""",""""\n',
  "a,b\n\n\n1,2\n\n3,4\n\n",
  "a,b\n1, 2 \n x ,y\n",
  'a,b\n"quoted at end","of file"',
  "a,b\nno,final newline",
  "a,b\n1,\u00e9t\u00e9 \u{1F600}\n",
];

describe("CsvRecordReader", () => {
  it.each(TRICKY.map((t) => [JSON.stringify(t), t]))("reads %s as csv-parse does", (_, text) => {
    expect(read(text!).map((r) => r.fields)).toEqual(reference(text!));
  });

  it("gives the same records wherever the chunks are cut, even inside a quote or a CRLF", () => {
    for (const text of TRICKY) {
      const whole = read(text);
      for (let cut = 0; cut <= text.length; cut++) expect(read(text, [cut]), `${JSON.stringify(text)} cut at ${cut}`).toEqual(whole);
      expect(read(text, Array.from({ length: text.length }, (_, i) => i))).toEqual(whole);
    }
  });

  it("numbers each record by the file line it starts on, counting skipped and spanned lines", () => {
    const text = 'h1,h2\n\n1,"a\nb"\n2,x\r\n\r\n3,"c\r\nd\r\ne"\n4,y';
    expect(read(text).map((r) => r.line)).toEqual([1, 3, 5, 7, 10]);
  });

  it("keys records by their cells, whether or not they were quoted", () => {
    const [, a, b, c, d] = read('h1,h2\nx,y\n"x","y"\n"x,y",z\n"x","y,z"\n');
    expect(a!.key).toBe(b!.key);
    expect(c!.key).not.toBe(d!.key);
    expect(new Set([a!.key, c!.key, d!.key]).size).toBe(3);
  });

  it("refuses what csv-parse refuses, naming the line", () => {
    const cases: [string, RegExp][] = [
      ["a,b\n1,2\n3,4,5\n", /^line 3 has 3 fields, the header has 2$/],
      ['a,b\n1,x"y\n', /^line 2: a quote inside unquoted field 2; quote the whole field$/],
      ['a,b\n"x"y,2\n', /^line 2: "y" after a closing quote/],
      ['a,b\n1,2\n"open,3\n', /^a quoted field opened on line 3 is never closed$/],
    ];
    for (const [text, message] of cases) {
      expect(() => read(text)).toThrow(CsvSyntaxError);
      expect(() => read(text)).toThrow(message);
      expect(() => reference(text)).toThrow();
    }
  });
});
