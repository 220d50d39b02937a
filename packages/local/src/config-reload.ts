import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type ConfigRead, configRegistry, type LeadflowRegistry, readConfigOf } from "@leadflow/config";
import { ConfigError } from "@leadflow/core";
import { environmentNames } from "@leadflow/manifest";
import { projectConfigDir } from "./config-files.ts";
import { type WatchTiming, watchConfigFiles } from "./config-watch.ts";

/** After an edit to config/: the copy handlers now read and its scoring version, or the mistakes. */
export type ConfigReload = { configDir: string; scoringVersion: string } | { mistakes: ConfigError };

export interface CheckedConfigOptions {
  timing?: WatchTiming;
  /** Where each file or folder `configDir` lacks is taken from. Default: the project's config/. */
  fallbackDir?: string;
  /** Default: the registry of @leadflow/config (tests add entries to it). */
  registry?: LeadflowRegistry;
}

/**
 * The config `npm start`'s handlers read. They never read config/ itself: each version of it that
 * passes the checks is copied, exactly as checked, to a directory of its own (each file and folder
 * of the registry, those `configDir` lacks taken from `fallbackDir`), and LEADFLOW_CONFIG_DIR (in
 * this process; `reloaded` tells the others) points at the newest copy. A save with mistakes right
 * after a good one thus never reaches a handler, even one that had not read the good one yet, and
 * earlier copies stay whole until `close`.
 *
 * Throws a ConfigError, leaving nothing behind, when the config has mistakes to begin with.
 */
export function useCheckedConfig(
  configDir: string,
  reloaded: (reload: ConfigReload) => void,
  { timing, fallbackDir = projectConfigDir, registry = configRegistry }: CheckedConfigOptions = {},
) {
  const variable = environmentNames.configDir;
  const before = process.env[variable];
  const root = mkdtempSync(join(tmpdir(), "leadflow-config-"));
  let copies = 0;
  let inUse = "";
  let refused = false;

  const read = () => readConfigOf(registry, configDir, fallbackDir);
  const contentOf = ({ files }: ConfigRead<LeadflowRegistry>) =>
    JSON.stringify(files.map(({ path, text }) => [path, text]));

  function use(checked: ConfigRead<LeadflowRegistry>): string {
    const dir = join(root, String(++copies));
    mkdirSync(dir);
    // A folder found nowhere is copied empty: handlers read it as it was checked, with no files.
    for (const { entry } of checked.entries) if (entry.kind === "folder") mkdirSync(join(dir, entry.name));
    for (const { path, text } of checked.files) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    inUse = contentOf(checked);
    process.env[variable] = dir;
    return dir;
  }

  function reload() {
    const checked = read();
    if (!checked.config) {
      refused = true;
      return reloaded({ mistakes: new ConfigError(checked.issues) });
    }
    const unchanged = contentOf(checked) === inUse;
    // A touch or a same-content checkout is no edit; the fix of a refused one is reported.
    if (unchanged && !refused) return;
    refused = false;
    const dir = unchanged ? (process.env[variable] as string) : use(checked);
    reloaded({ configDir: dir, scoringVersion: checked.config.scoring.version });
  }

  function close() {
    watcher.close();
    rmSync(root, { recursive: true, force: true });
    if (before === undefined) delete process.env[variable];
    else process.env[variable] = before;
  }

  // Watching starts before the first read, so an edit saved while the stack starts is not missed.
  const watcher = watchConfigFiles(configDir, reload, { timing, fallbackDir, registry });
  const first = read();
  if (first.issues.length > 0) {
    close();
    throw new ConfigError(first.issues);
  }
  use(first);
  return {
    /** The copy handlers read now. */
    current: () => process.env[variable] as string,
    /** Stops watching, removes the copies and restores LEADFLOW_CONFIG_DIR. */
    close,
  };
}

export type CheckedConfigInUse = ReturnType<typeof useCheckedConfig>;
