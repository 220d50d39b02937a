import { isAbsolute, join, relative, resolve } from "node:path";
import { type ConfigRead, type ConfigRegistry, readConfigOf } from "@leadflow/config";
import { formatIssue } from "@leadflow/core";
import { projectRoot } from "./lambda-runtime.ts";

/** The project's own config/: where `npm start` and `config:check` take what `--config DIR` lacks. */
export const projectConfigDir = join(projectRoot, "config");

/**
 * The config directory a command reads: `--config DIR` (relative to where npm was run), else
 * LEADFLOW_CONFIG_DIR, else undefined (the project's config/).
 */
export function configDirOption(option: string | undefined): string | undefined {
  if (option === undefined) return process.env.LEADFLOW_CONFIG_DIR || undefined;
  if (isAbsolute(option)) return option;
  // npm runs scripts in the project's root; INIT_CWD is where the user typed the command.
  const cwd = process.cwd();
  return relative(cwd, resolve(process.env.INIT_CWD ?? cwd, option)) || ".";
}

/** What `npm run config:check` prints: every mistake (stderr, exit 1), or each file and folder read. */
export function configCheckReport(
  configDir: string,
  options: { fallbackDir?: string; registry: ConfigRegistry },
): { ok: boolean; stdout: string; stderr: string } {
  const read = readConfigOf(options.registry, configDir, options.fallbackDir);
  if (read.issues.length > 0) {
    const mistakes = read.issues.map(formatIssue).join("\n");
    return { ok: false, stdout: "", stderr: `${mistakes}\n\n${read.issues.length} mistake(s) in ${configDir}/\n` };
  }
  return { ok: true, stdout: `${read.entries.map(describeRead).join(", ")}: OK\n`, stderr: "" };
}

function describeRead({ entry, location, files }: ConfigRead<ConfigRegistry>["entries"][number]): string {
  if (entry.kind === "file") return location as string;
  return `${location ?? entry.name}/${entry.pattern} (${files.length} file${files.length === 1 ? "" : "s"})`;
}
