/** The trainer CLI: `npm run train`, `npm run data`, `npm run data:fetch`, `npm run import:xgboost`, and the release commands (publish, gate, promote, traffic, rollout, ...). */
import { defineCommand, runMain } from "citty";
import { archiveCommand } from "./commands/archive";
import { fetchDataCommand } from "./commands/fetch-data";
import { gateCommand } from "./commands/gate";
import { generateDataCommand } from "./commands/generate-data";
import { importXgboostCommand } from "./commands/import-xgboost";
import { promoteCommand } from "./commands/promote";
import { publishCommand } from "./commands/publish";
import { rollbackCommand } from "./commands/rollback";
import { rolloutCommand } from "./commands/rollout";
import { trafficCommand } from "./commands/traffic";
import { trainCommand } from "./commands/train";
import { reportingUserErrors } from "./user-errors";
import { versionsCommand } from "./commands/versions";
import { TRAINER_VERSION } from "./pipeline/train-run";

const main = defineCommand({
  meta: { name: "trainer", version: TRAINER_VERSION, description: "Train tabular models and export them to ONNX for the edge" },
  subCommands: {
    train: reportingUserErrors(trainCommand),
    "generate-data": reportingUserErrors(generateDataCommand),
    "fetch-data": reportingUserErrors(fetchDataCommand),
    publish: reportingUserErrors(publishCommand),
    gate: reportingUserErrors(gateCommand),
    promote: reportingUserErrors(promoteCommand),
    rollback: reportingUserErrors(rollbackCommand),
    archive: reportingUserErrors(archiveCommand),
    versions: reportingUserErrors(versionsCommand),
    traffic: reportingUserErrors(trafficCommand),
    rollout: reportingUserErrors(rolloutCommand),
    "import-xgboost": reportingUserErrors(importXgboostCommand),
  },
});

runMain(main);
