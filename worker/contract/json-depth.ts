/**
 * A bound on how deeply JSON text may nest, checked on the text before it is parsed. V8's
 * JSON.parse itself copes with any depth, but what walks the value recursively afterwards does not:
 * JSON.stringify (a manifest is stored in D1 and R2 as text) and structured clone overflow the
 * stack at about 3,000-4,000 levels, and a 400 KB document can nest 200,000 deep, so an uploaded
 * manifest.json like that was a 500. Used where a document is kept and re-serialised (the upload);
 * prediction bodies are only read field by field, and the OIP code that could recurse into them
 * refuses nested values without walking them.
 *
 * MAX_JSON_DEPTH is far above what a manifest needs (5 levels) and far below where recursion fails.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether `text` opens more than `limit` arrays or objects inside one another. One linear pass over
 * the characters, skipping string contents (brackets there do not nest), so it costs about what
 * reading the body did. Exact for valid JSON; for invalid JSON the answer does not matter, since
 * JSON.parse refuses it next (and JSON.parse does not overflow).
 */
export function nestsDeeperThan(text: string, limit: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b /* [ */ || ch === 0x7b /* { */) {
      if (++depth > limit) return true;
    } else if (ch === 0x5d /* ] */ || ch === 0x7d /* } */) depth--;
  }
  return false;
}
