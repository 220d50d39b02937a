import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { type ConfigRegistry, configRegistry, folderFileNames } from "@leadflow/config";

export interface WatchTiming {
  /** How often the files' stats are read. */
  intervalMs: number;
  /** How long no further change must be seen before an edit counts as saved; above `intervalMs`. */
  settleMs: number;
}

export interface WatchOptions {
  timing?: WatchTiming;
  /** Also watched: where each file or folder `configDir` lacks is read from. */
  fallbackDir?: string;
  registry?: ConfigRegistry;
}

/**
 * Calls `changed` once an edit to the config in `configDir` (or `fallbackDir`) has settled
 * (editors write a file in several steps). An edit is any change to a registry file, or to a
 * matching file of a registry folder, including one added or removed, and a folder appearing or
 * going. It polls stats rather than watching directories, so it keeps working when an editor
 * replaces a file or the whole directory is swapped for another.
 */
export function watchConfigFiles(
  configDir: string,
  changed: () => void,
  { timing = { intervalMs: 250, settleMs: 600 }, fallbackDir, registry = configRegistry }: WatchOptions = {},
) {
  const dirs = fallbackDir && resolve(fallbackDir) !== resolve(configDir) ? [configDir, fallbackDir] : [configDir];
  const snapshot = () =>
    dirs
      .flatMap((dir) =>
        Object.values(registry).flatMap((entry) => {
          const path = join(dir, entry.name);
          if (entry.kind === "file") return [stats(path)];
          return [stats(path), ...folderFileNames(path, entry.pattern).map((name) => stats(join(path, name)))];
        }),
      )
      .join("\n");
  let seen = snapshot();
  let settling: NodeJS.Timeout | undefined;
  const polling = setInterval(() => {
    const now = snapshot();
    if (now === seen) return;
    seen = now;
    clearTimeout(settling);
    settling = setTimeout(changed, timing.settleMs);
  }, timing.intervalMs);
  return {
    close() {
      clearInterval(polling);
      clearTimeout(settling);
    },
  };
}

/** What tells an edit: size, times but for access (reads don't count), inode and mode. */
function stats(path: string): string {
  const found = statSync(path, { throwIfNoEntry: false });
  if (!found) return `${path} absent`;
  if (found.isDirectory()) return `${path} folder`;
  return `${path} ${found.ino} ${found.size} ${found.mtimeMs} ${found.ctimeMs} ${found.mode}`;
}
