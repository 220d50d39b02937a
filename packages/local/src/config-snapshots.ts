import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConfigIssue } from "@leadflow/core";
import { readConfigFiles } from "./config-files.ts";

export type ConfigSnapshot = { dir: string } | { issues: ConfigIssue[] };

/**
 * Checked copies of config/, the ones `npm start`'s handlers read: each edit that passes the
 * checks is copied, as checked, to a directory of its own. A save that follows too fast for the
 * handlers to have read the previous one can then never reach them unchecked, and handlers that
 * have not rebuilt yet keep reading a complete earlier copy.
 */
export function configSnapshots(configDir: string) {
  const root = mkdtempSync(join(tmpdir(), "leadflow-config-"));
  let taken = 0;
  return {
    /** Checks config/ and copies it when it has no mistakes. */
    take(): ConfigSnapshot {
      const { texts, issues } = readConfigFiles(configDir);
      if (issues.length > 0) return { issues };
      const dir = join(root, String(++taken));
      mkdirSync(dir);
      for (const [name, text] of Object.entries(texts)) writeFileSync(join(dir, name), text);
      return { dir };
    },
    remove() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
