/**
 * Errors that are the user's to fix (a bad config key, bad data, a model that does not survive
 * export) print as their message alone and exit 2; anything else keeps its stack (exit 1).
 */
import type { ArgsDef, CommandDef } from "citty";
import { ConfigError } from "./config";
import { DataError } from "./data/data-error";
import { ParityError } from "./onnx/parity";

export class UsageError extends Error {
  override name = "UsageError";
}

/** The command with its run wrapped; commands themselves just throw, so tests can catch. */
export function reportingUserErrors<T extends ArgsDef>(command: CommandDef<T>): CommandDef<T> {
  const run = command.run;
  if (!run) return command;
  return {
    ...command,
    async run(context) {
      try {
        await run(context);
      } catch (error) {
        if (error instanceof ConfigError || error instanceof DataError || error instanceof ParityError || error instanceof UsageError) {
          console.error(`error: ${error.message}`);
          process.exit(2);
        }
        throw error;
      }
    },
  };
}
