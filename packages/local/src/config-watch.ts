import { watch } from "node:fs";
import type { ConfigIssue } from "@leadflow/core";
import { checkConfigFiles, configFiles } from "./config-files.ts";

/**
 * Watches the config files in `configDir` and, once an edit has settled (editors write a file in
 * several steps), checks them all and calls `changed` with the mistakes found, if any.
 */
export function watchConfigFiles(configDir: string, changed: (issues: ConfigIssue[]) => void, settleMs = 200) {
  let settling: NodeJS.Timeout | undefined;
  const watcher = watch(configDir, (_event, file) => {
    if (file && !Object.hasOwn(configFiles, file)) return;
    clearTimeout(settling);
    settling = setTimeout(() => changed(checkConfigFiles(configDir)), settleMs);
  });
  return {
    close() {
      clearTimeout(settling);
      watcher.close();
    },
  };
}
