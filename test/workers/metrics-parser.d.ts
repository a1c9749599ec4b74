/** Types for parse-prometheus-text-format 1.1.1 (a dev dependency without its own), as its parser returns them. */
declare module "parse-prometheus-text-format" {
  export interface ParsedMetric {
    labels?: Record<string, string>;
    value?: string;
    /** Histogram: le → cumulative count. The parser folds every labelled series of a histogram into one and drops their labels. */
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  export interface ParsedFamily {
    name: string;
    help: string;
    type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
    metrics: ParsedMetric[];
  }
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
