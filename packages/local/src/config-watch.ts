import { unwatchFile, watchFile } from "node:fs";
import { join } from "node:path";
import { configFileNames } from "./config-files.ts";

export interface WatchTiming {
  /** How often each file's stats are read. */
  intervalMs: number;
  /** How long no further change must be seen before an edit counts as saved; above `intervalMs`. */
  settleMs: number;
}

/**
 * Calls `changed` once an edit to a config file in `configDir` has settled (editors write a file
 * in several steps). It polls each file's stats rather than watching the directory, so it keeps
 * working when an editor replaces a file or the whole directory is swapped for another.
 */
export function watchConfigFiles(
  configDir: string,
  changed: () => void,
  { intervalMs, settleMs }: WatchTiming = { intervalMs: 250, settleMs: 600 },
) {
  let settling: NodeJS.Timeout | undefined;
  const files = configFileNames.map((name) => join(configDir, name));
  // Called when a file's size, times (but for access), inode or mode change: reads don't count.
  const listener = () => {
    clearTimeout(settling);
    settling = setTimeout(changed, settleMs);
  };
  for (const file of files) watchFile(file, { interval: intervalMs }, listener);
  return {
    close() {
      clearTimeout(settling);
      for (const file of files) unwatchFile(file, listener);
    },
  };
}
