/** The trainer CLI: `npm run train`, `npm run data`. */
import { defineCommand, runMain } from "citty";
import { generateDataCommand } from "./commands/generate-data";
import { trainCommand } from "./commands/train";
import { reportingUserErrors } from "./commands/user-errors";
import { TRAINER_VERSION } from "./pipeline/train-run";

const main = defineCommand({
  meta: { name: "trainer", version: TRAINER_VERSION, description: "Train tabular models and export them to ONNX for the edge" },
  subCommands: { train: reportingUserErrors(trainCommand), "generate-data": reportingUserErrors(generateDataCommand) },
});

runMain(main);
