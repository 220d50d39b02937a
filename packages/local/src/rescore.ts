/**
 * `npm run rescore [-- --restart]`: scores every lead again with the current scoring config (the
 * one the running `npm start` uses, or config/ against a deployed table), replaying its events,
 * with a progress bar. Resumable: the position is saved after each page, and an interrupted run
 * picks up where it stopped. An admin tool: it scans the table.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, type ScoringDependencies } from "@leadflow/core";
import { SingleBar } from "cli-progress";
import { rescoreAll } from "./rescore-run.ts";
import { useStackEnvironment } from "./tool-environment.ts";

const { values } = parseArgs({
  options: { restart: { type: "boolean", default: false }, checkpoint: { type: "string" } },
});
const target = await useStackEnvironment().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
const { leadStore, scoringDependencies } = await import("@leadflow/lambda");
let dependencies: ScoringDependencies;
try {
  dependencies = scoringDependencies();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`The config has mistakes:\n${error.message}`);
  process.exit(1);
}

const bar = new SingleBar({
  format: "{bar} {percentage}% | {value}/{total} leads | {changed} changed",
  noTTYOutput: true,
  notTTYSchedule: 2000,
});
const result = await rescoreAll({
  store: leadStore(),
  dependencies,
  table: process.env.TABLE_NAME ?? "",
  checkpointFile: resolve(values.checkpoint ?? ".leadflow/rescore-checkpoint.json"),
  restart: values.restart,
  onStart(checkpoint, resumed) {
    const from = resumed ? `, resuming after ${checkpoint.done}` : "";
    console.log(`Re-scoring ${checkpoint.total} lead(s) on ${target} with config ${checkpoint.configVersion}${from}`);
    bar.start(checkpoint.total, checkpoint.done, { changed: checkpoint.changed });
  },
  onProgress(checkpoint) {
    bar.setTotal(checkpoint.total);
    bar.update(checkpoint.done, { changed: checkpoint.changed });
  },
});
bar.stop();
console.log(`Done: ${result.done} lead(s) re-scored, ${result.changed} changed.`);
