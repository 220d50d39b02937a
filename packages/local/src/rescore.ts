/**
 * `npm run rescore [-- --restart]`: scores every lead again with the current config/scoring.yaml,
 * replaying its events. Resumable: the position is saved after each page, and a crashed or
 * interrupted run picks up where it stopped. An admin tool: it scans the table, page by page.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { SingleBar } from "cli-progress";
import { useStackEnvironment } from "./tool-environment.ts";

interface Checkpoint {
  table: string;
  configVersion: string;
  cursor: string | null;
  total: number;
  done: number;
  changed: number;
}

const { values } = parseArgs({
  options: { restart: { type: "boolean", default: false }, checkpoint: { type: "string" } },
});
const checkpointFile = resolve(values.checkpoint ?? ".leadflow/rescore-checkpoint.json");

const target = await useStackEnvironment().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
const { leadStore, scoringDependencies } = await import("@leadflow/lambda");
const { rescoreLeads } = await import("@leadflow/core");
const store = leadStore();
const dependencies = scoringDependencies();
const table = process.env.TABLE_NAME ?? "";

const saved = values.restart ? undefined : readCheckpoint();
const resuming = saved?.table === table && saved.configVersion === dependencies.model.version;
const checkpoint: Checkpoint = resuming
  ? saved
  : { table, configVersion: dependencies.model.version, cursor: null, total: await countLeads(), done: 0, changed: 0 };

console.log(
  `Re-scoring ${checkpoint.total} leads on ${target} with config ${checkpoint.configVersion}` +
    (resuming ? `, resuming after ${checkpoint.done}` : ""),
);
const bar = new SingleBar({
  format: "{bar} {percentage}% | {value}/{total} leads | {changed} changed",
  noTTYOutput: true,
  notTTYSchedule: 2000,
});
bar.start(checkpoint.total, checkpoint.done, { changed: checkpoint.changed });
do {
  const page = await store.scanLeadIds(checkpoint.cursor);
  checkpoint.changed += await rescoreLeads(dependencies, page.leadIds);
  checkpoint.done += page.leadIds.length;
  checkpoint.cursor = page.cursor;
  checkpoint.total = Math.max(checkpoint.total, checkpoint.done);
  writeCheckpoint(checkpoint);
  bar.setTotal(checkpoint.total);
  bar.update(checkpoint.done, { changed: checkpoint.changed });
} while (checkpoint.cursor);
bar.stop();
rmSync(checkpointFile, { force: true });
console.log(`Done: ${checkpoint.done} leads re-scored, ${checkpoint.changed} changed.`);

async function countLeads(): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page: { leadIds: string[]; cursor: string | null } = await store.scanLeadIds(cursor, 1000);
    count += page.leadIds.length;
    cursor = page.cursor;
  } while (cursor);
  return count;
}

function readCheckpoint(): Checkpoint | undefined {
  try {
    return JSON.parse(readFileSync(checkpointFile, "utf8")) as Checkpoint;
  } catch {
    return undefined;
  }
}

function writeCheckpoint(value: Checkpoint): void {
  mkdirSync(dirname(checkpointFile), { recursive: true });
  writeFileSync(checkpointFile, JSON.stringify(value));
}
