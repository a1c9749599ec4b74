/**
 * Prometheus text exposition format 0.0.4: label sets in canonical form, escaping, and numbers.
 * https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 *
 * A series is stored (metric_buckets.labels) and buffered under its canonical label text: pairs
 * sorted by label name, `name="value"` joined by commas, values escaped. The same text is printed
 * between the braces on a scrape, so storage, buffer keys and output agree byte for byte.
 */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = Readonly<Record<string, string>>;

/** Label values escape backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  if (!/[\\"\n]/.test(value)) return value;
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text escapes backslash and line feed (not quotes). */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export function canonicalLabels(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((name) => `${name}="${escapeLabelValue(labels[name]!)}"`)
    .join(",");
}

const PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/y;

/** The inverse of canonicalLabels; throws on text it did not write. */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let at = 0;
  while (at < text.length) {
    PAIR.lastIndex = at;
    const match = PAIR.exec(text);
    if (!match) throw new Error(`not a canonical label set at ${at}: ${JSON.stringify(text)}`);
    labels[match[1]!] = match[2]!.replace(/\\(.)/g, (_, ch: string) => (ch === "n" ? "\n" : ch));
    at = PAIR.lastIndex;
    if (at < text.length) {
      if (text[at] !== ",") throw new Error(`not a canonical label set at ${at}: ${JSON.stringify(text)}`);
      at++;
    }
  }
  return labels;
}

/** Go's strconv.FormatFloat(v, 'g', -1, 64) conventions the format expects for special values. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

export function sampleLine(name: string, labels: string, value: number): string {
  return `${name}${labels ? `{${labels}}` : ""} ${formatValue(value)}`;
}
