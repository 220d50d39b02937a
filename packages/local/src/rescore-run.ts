import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { rescoreLeads, type ScoringDependencies } from "@leadflow/core";

/** Where a rescore stands: saved after each page, so a crashed run resumes there. */
export interface RescoreCheckpoint {
  table: string;
  configVersion: string;
  cursor: string | null;
  total: number;
  done: number;
  changed: number;
}

export interface LeadPages {
  scanLeadIds(cursor: string | null, pageSize?: number): Promise<{ leadIds: string[]; cursor: string | null }>;
}

export interface RescoreOptions {
  store: LeadPages;
  dependencies: ScoringDependencies;
  table: string;
  checkpointFile: string;
  /** Ignore a saved position. */
  restart?: boolean;
  /** Leads per page, and so between two saved positions. */
  pageSize?: number;
  onStart?: (checkpoint: RescoreCheckpoint, resumed: boolean) => void;
  onProgress?: (checkpoint: RescoreCheckpoint) => void;
}

/** Scores every lead again with the current config, page by page, saving its position as it goes. */
export async function rescoreAll(options: RescoreOptions): Promise<RescoreCheckpoint> {
  const { store, dependencies, table, checkpointFile } = options;
  const configVersion = dependencies.model.version;
  const saved = options.restart ? undefined : readCheckpoint(checkpointFile);
  const resumed = saved?.table === table && saved.configVersion === configVersion;
  const checkpoint: RescoreCheckpoint = resumed
    ? saved
    : { table, configVersion, cursor: null, total: await countLeads(store), done: 0, changed: 0 };
  options.onStart?.(checkpoint, resumed);
  do {
    const page = await store.scanLeadIds(checkpoint.cursor, options.pageSize);
    checkpoint.changed += await rescoreLeads(dependencies, page.leadIds);
    checkpoint.done += page.leadIds.length;
    checkpoint.cursor = page.cursor;
    checkpoint.total = Math.max(checkpoint.total, checkpoint.done);
    writeCheckpoint(checkpointFile, checkpoint);
    options.onProgress?.(checkpoint);
  } while (checkpoint.cursor);
  rmSync(checkpointFile, { force: true });
  return checkpoint;
}

async function countLeads(store: LeadPages): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page: { leadIds: string[]; cursor: string | null } = await store.scanLeadIds(cursor, 1000);
    count += page.leadIds.length;
    cursor = page.cursor;
  } while (cursor);
  return count;
}

function readCheckpoint(file: string): RescoreCheckpoint | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as RescoreCheckpoint;
  } catch {
    return undefined;
  }
}

function writeCheckpoint(file: string, checkpoint: RescoreCheckpoint): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(checkpoint));
}
