/**
 * An RFC 4180 record reader for training files, fed text chunk by chunk. It exists for speed:
 * csv-parse tops out near 22 MB/s here even with no work per record, most of it spent decoding each
 * field separately and building an info object per record. This reader finds line ends with
 * indexOf and splits a line without quotes with one native split(","); only records that contain a
 * quote go through the character-level path. It reports the file line each record starts on, so
 * the loader needs no per-record info object either.
 *
 * Accepted: "\n", "\r\n" or "\r" line ends (the first one seen decides), a leading BOM, empty lines
 * (skipped, still counted), quoted fields with "" escapes, delimiters and line breaks. Refused, as
 * csv-parse refuses them by default: a quote inside an unquoted field, anything but a delimiter or
 * line end after a closing quote, a quote left open at the end of the file, and a record whose field
 * count differs from the header's.
 */

export class CsvSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CsvSyntaxError";
  }
}

/**
 * fields: the record's cells, unquoted; line: the 1-based file line the record starts on;
 * key: a string equal for two records exactly when their cells are equal (duplicate detection).
 */
export type CsvRecordHandler = (fields: string[], line: number, key: string) => void;

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

export class CsvRecordReader {
  private carry = "";
  private line = 1;
  private started = false;
  /** The character that ends a line: "\n" (a "\r" before it is dropped) or "\r" alone. */
  private eol: "\n" | "\r" | undefined;
  private width = -1;

  constructor(private readonly onRecord: CsvRecordHandler) {}

  /** Reads every complete record in the text so far; a partial one waits for the next chunk. */
  push(chunk: string): void {
    let text = this.carry + chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.carry = text.slice(this.read(text, false));
  }

  /** Reads the last record (a final line need not end with a line break). */
  end(): void {
    const text = this.carry;
    this.carry = "";
    const pos = this.read(text, true);
    if (pos < text.length) throw new CsvSyntaxError(`a quoted field opened on line ${this.line} is never closed`);
  }

  /** Reads records from text; returns where the unread rest starts. */
  private read(text: string, final: boolean): number {
    this.eol ??= detectEol(text, final);
    const eol = this.eol;
    if (eol === undefined) return 0;
    let pos = 0;
    // Where the next quote is, found once and reused until passed: searching from every line
    // would rescan the same stretch of a quote-free file over and over.
    let quote = text.indexOf('"');
    while (pos < text.length) {
      let next = text.indexOf(eol, pos);
      if (next === -1) {
        if (!final) break;
        next = text.length;
      }
      if (quote !== -1 && quote < pos) quote = text.indexOf('"', pos);
      if (quote === -1 || quote >= next) {
        const end = eol === "\n" && next > pos && text.charCodeAt(next - 1) === CR ? next - 1 : next;
        if (end > pos) {
          const line = text.slice(pos, end);
          this.emit(line.split(","), line);
        }
        this.line++;
        pos = next + 1;
        continue;
      }
      const parsed = this.readQuoted(text, pos, final);
      if (parsed === undefined) break;
      this.emit(parsed.fields, undefined);
      this.line += parsed.lines;
      pos = parsed.end;
    }
    return Math.min(pos, text.length);
  }

  private emit(fields: string[], plainLine: string | undefined): void {
    if (this.width === -1) this.width = fields.length;
    else if (fields.length !== this.width)
      throw new CsvSyntaxError(`line ${this.line} has ${fields.length} fields, the header has ${this.width}`);
    this.onRecord(fields, this.line, plainLine ?? quotedKey(fields));
  }

  /**
   * One record that contains a quote, from its first character. Returns undefined when the text
   * ends inside it (more chunks needed), else the fields, the line breaks it spans and where the
   * next record starts.
   */
  private readQuoted(text: string, start: number, final: boolean): { fields: string[]; lines: number; end: number } | undefined {
    const eolCode = this.eol === "\n" ? LF : CR;
    const fields: string[] = [];
    let lines = 0;
    let i = start;
    for (;;) {
      let field: string;
      if (text.charCodeAt(i) === QUOTE) {
        field = "";
        let from = i + 1;
        for (;;) {
          const q = text.indexOf('"', from);
          if (q === -1 || (q + 1 === text.length && !final)) return undefined;
          if (text.charCodeAt(q + 1) === QUOTE) {
            field += text.slice(from, q + 1);
            from = q + 2;
            continue;
          }
          field += text.slice(from, q);
          i = q + 1;
          break;
        }
        lines += countCode(field, eolCode);
        const after = text.charCodeAt(i);
        if (i < text.length && after !== COMMA && after !== eolCode && !(after === CR && this.eol === "\n"))
          throw new CsvSyntaxError(`line ${this.line + lines}: ${JSON.stringify(text[i])} after a closing quote, where a delimiter or line end belongs`);
      } else {
        let j = i;
        for (; j < text.length; j++) {
          const c = text.charCodeAt(j);
          if (c === COMMA || c === eolCode || c === CR) break;
          if (c === QUOTE)
            throw new CsvSyntaxError(`line ${this.line + lines}: a quote inside unquoted field ${fields.length + 1}; quote the whole field`);
        }
        field = text.slice(i, j);
        i = j;
      }
      fields.push(field);
      if (i >= text.length) {
        if (!final) return undefined;
        return { fields, lines: lines + 1, end: i };
      }
      const c = text.charCodeAt(i);
      if (c === COMMA) {
        i++;
        continue;
      }
      // A line end: "\r\n" in "\n" files, else the single eol character.
      if (c === CR && this.eol === "\n") {
        if (i + 1 >= text.length && !final) return undefined;
        if (text.charCodeAt(i + 1) !== LF) throw new CsvSyntaxError(`line ${this.line + lines}: a stray carriage return`);
        i++;
      }
      return { fields, lines: lines + 1, end: i + 1 };
    }
  }
}

/**
 * A line without quotes is its own key: its cells joined by ",". A quoted record whose cells hold
 * no "," (or NUL) gets the same spelling, so `"x","y"` and `x,y` match; otherwise the key is NUL +
 * JSON, which no plain line (it would contain a quote) and no joined key (it has no NUL) can spell.
 */
function quotedKey(fields: string[]): string {
  for (const field of fields) if (field.includes(",") || field.includes("\u0000")) return `\u0000${JSON.stringify(fields)}`;
  return fields.join(",");
}

/** The line end the file uses, once a line break has been seen (or the text is all there is). */
function detectEol(text: string, final: boolean): "\n" | "\r" | undefined {
  const lf = text.indexOf("\n");
  const cr = text.indexOf("\r");
  if (cr !== -1 && (lf === -1 || cr < lf - 1)) {
    if (cr + 1 === text.length && !final) return undefined;
    return text.charCodeAt(cr + 1) === LF ? "\n" : "\r";
  }
  if (lf !== -1) return "\n";
  return final ? "\n" : undefined;
}

function countCode(text: string, code: number): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === code) n++;
  return n;
}
