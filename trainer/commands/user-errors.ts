/**
 * Errors that are the user's to fix (a bad config key, bad data, a model that does not survive
 * export) print as their message alone and exit 2; anything else keeps its stack (exit 1).
 */
import { ConfigError } from "../config";
import { DataError } from "../data/data-error";
import { ParityError } from "../onnx/parity";

export class UsageError extends Error {
  override name = "UsageError";
}

export function reportingUserErrors<A extends unknown[]>(run: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await run(...args);
    } catch (error) {
      if (error instanceof ConfigError || error instanceof DataError || error instanceof ParityError || error instanceof UsageError) {
        console.error(`error: ${error.message}`);
        process.exit(2);
      }
      throw error;
    }
  };
}
