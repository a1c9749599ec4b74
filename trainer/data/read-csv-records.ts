/**
 * CSV records for the training-data loader, read with papaparse, plus what the loader needs and
 * papaparse leaves to its caller: the file line each record starts on (for row numbers in the data
 * report), a duplicate key, one field count for every record, and a stop at the first bad quote.
 */
import type { Readable } from "node:stream";
import Papa from "papaparse";

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

/**
 * Reads CSV records with papaparse and adds what the loader needs and papaparse leaves to its
 * caller: the file line each record starts on, a duplicate key, one field count for every record,
 * and a stop at the first malformed or unclosed quote (papaparse reports it and reads on).
 *
 * papaparse picks the line end ("\n", "\r\n" or "\r") by a vote over the first chunk, so a stream's
 * first chunk must hold at least a whole line, better a few (the loader's holds 256 KiB).
 */
export function readCsvRecords(input: string | Readable, onRecord: CsvRecordHandler): Promise<void> {
  return new Promise((resolve, reject) => {
    let line = 1;
    let width = -1;
    // Where the previous record ended, in characters from the start of the input.
    let end = 0;
    const step = ({ data: fields, errors, meta }: Papa.ParseStepResult<string[]>): void => {
      const start = line;
      const length = meta.cursor - end;
      end = meta.cursor;
      if (errors[0]) throw new CsvSyntaxError(describeQuoteError(errors[0], start));
      const eol = meta.linebreak;
      // Empty lines are read as one empty cell; skipEmptyLines would drop them without a trace
      // and the line count with them. A lone "" also gives one empty cell but spans two quotes more.
      if (length <= eol.length && fields.length === 1 && fields[0] === "") {
        line++;
        return;
      }
      const joined = fields.join(",");
      // Text beyond the cells and commas: the line end (none on the last line) and two quotes per
      // quoted cell. Under two characters, nothing was quoted: no cell holds a "," or a line break.
      // A "\r\n" line end is two characters too, so those files take the scan on every record.
      let key = joined;
      if (length - joined.length < 2) line++;
      else {
        const scan = scanCells(joined, fields.length, eol);
        line += 1 + scan.lineBreaks;
        // Joined cells that hold commas are ambiguous: `"x,y",z` and `x,"y,z"`. JSON is not, and
        // has more commas than any joined key of the same width, so the two kinds never meet.
        if (scan.cellCommas) key = JSON.stringify(fields);
      }
      if (width === -1) width = fields.length;
      else if (fields.length !== width) throw new CsvSyntaxError(`line ${start} has ${fields.length} fields, the header has ${width}`);
      onRecord(fields, start, key);
    };
    const config = {
      delimiter: ",",
      step,
      // Papa.parse drops a string's BOM itself, not a stream's.
      beforeFirstChunk: (chunk: string) => (chunk.charCodeAt(0) === 0xfeff ? chunk.slice(1) : undefined),
      complete: () => resolve(),
      error: (err: Error) => {
        if (typeof input !== "string") input.destroy();
        reject(err);
      },
    };
    // A string is parsed synchronously, so what step throws rejects through this executor; a
    // stream's errors, step's included, arrive through config.error.
    if (typeof input === "string") Papa.parse(input, config);
    else Papa.parse(input, config);
  });
}

function describeQuoteError(error: Papa.ParseError, line: number): string {
  if (error.code === "MissingQuotes") return `a quoted field opened on line ${line} is never closed`;
  if (error.code === "InvalidQuotes")
    return `line ${line}: a quoted field holds a quote that is neither doubled nor followed by a delimiter or line end`;
  return `line ${line}: ${error.message}`;
}

/**
 * What a possibly quoted record holds inside its cells, read off the joined cells in one pass: line
 * breaks ("\n" in "\n" and "\r\n" files, "\r" in "\r" files), and commas beyond the separators.
 */
function scanCells(joined: string, fieldCount: number, eol: string): { lineBreaks: number; cellCommas: boolean } {
  const breakCode = eol.endsWith("\n") ? 10 : 13;
  let lineBreaks = 0;
  let commas = 0;
  for (let i = 0; i < joined.length; i++) {
    const c = joined.charCodeAt(i);
    if (c === 44) commas++;
    else if (c === breakCode) lineBreaks++;
  }
  return { lineBreaks, cellCommas: commas >= fieldCount };
}
