/**
 * The one rule for category values, applied by the trainer when it reads a CSV cell and by the
 * Worker when it validates a request: surrounding whitespace is not part of the value, so
 * "One year " trains and serves as "One year".
 */
export function normalizeCategory(value: string): string {
  return value.trim();
}
