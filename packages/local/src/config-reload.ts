import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, configVersion } from "@leadflow/core";
import { environmentNames } from "@leadflow/manifest";
import { type CheckedConfig, readConfigFiles } from "./config-files.ts";
import { type WatchTiming, watchConfigFiles } from "./config-watch.ts";

/** After an edit to config/: the copy handlers now read and its scoring version, or the mistakes. */
export type ConfigReload = { configDir: string; scoringVersion: string } | { mistakes: ConfigError };

/**
 * The config `npm start`'s handlers read. They never read config/ itself: each version of it that
 * passes the checks is copied, exactly as checked, to a directory of its own, and
 * LEADFLOW_CONFIG_DIR (in this process; `reloaded` tells the others) points at the newest copy.
 * A save with mistakes right after a good one thus never reaches a handler, even one that had not
 * read the good one yet, and earlier copies stay whole until `close`.
 *
 * Throws a ConfigError, leaving nothing behind, when config/ has mistakes to begin with.
 */
export function useCheckedConfig(configDir: string, reloaded: (reload: ConfigReload) => void, timing?: WatchTiming) {
  const variable = environmentNames.configDir;
  const before = process.env[variable];
  const root = mkdtempSync(join(tmpdir(), "leadflow-config-"));
  let copies = 0;
  let inUse = "";
  let refused = false;

  function use({ texts }: CheckedConfig): string {
    const dir = join(root, String(++copies));
    mkdirSync(dir);
    for (const [name, text] of Object.entries(texts)) writeFileSync(join(dir, name), text);
    inUse = JSON.stringify(texts);
    process.env[variable] = dir;
    return dir;
  }

  function reload() {
    const checked = readConfigFiles(configDir);
    if (checked.issues.length > 0) {
      refused = true;
      return reloaded({ mistakes: new ConfigError(checked.issues) });
    }
    const unchanged = JSON.stringify(checked.texts) === inUse;
    // A touch or a same-content checkout is no edit; the fix of a refused one is reported.
    if (unchanged && !refused) return;
    refused = false;
    const dir = unchanged ? (process.env[variable] as string) : use(checked);
    reloaded({ configDir: dir, scoringVersion: configVersion(checked.texts["scoring.yaml"]) });
  }

  function close() {
    watcher.close();
    rmSync(root, { recursive: true, force: true });
    if (before === undefined) delete process.env[variable];
    else process.env[variable] = before;
  }

  // Watching starts before the first read, so an edit saved while the stack starts is not missed.
  const watcher = watchConfigFiles(configDir, reload, timing);
  const first = readConfigFiles(configDir);
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
