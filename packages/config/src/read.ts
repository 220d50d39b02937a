import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError, type ConfigIssue, parseYamlConfig } from "@leadflow/core";
import {
  type CompiledConfig,
  type ConfigEntry,
  type ConfigFolderEntry,
  type ConfigFolderFile,
  type ConfigRegistry,
  type ConfigText,
  issueAt,
  issuesOf,
} from "./entry.ts";

/** One entry as found: where it was read from (none: a folder found nowhere), its files and its mistakes. */
export interface ConfigEntryRead {
  key: string;
  entry: ConfigEntry;
  location: string | undefined;
  files: ConfigText[];
  issues: ConfigIssue[];
}

/** The whole config, read once and checked: what passed is exactly what gets used. */
export interface ConfigRead<Registry extends ConfigRegistry> {
  entries: ConfigEntryRead[];
  /** Every file read, once: npm start's checked copy is made of these. */
  files: ConfigText[];
  /** Every mistake in every file and folder, each with its file, line and column. */
  issues: ConfigIssue[];
  /** Each entry compiled; present only when there is no mistake at all. */
  config: CompiledConfig<Registry> | undefined;
}

/**
 * Reads, checks and compiles every entry of `registry` from `dir`, each file or folder `dir` lacks
 * from `fallbackDir` (npm start and config:check: the project's config/). Never throws: mistakes,
 * unreadable or missing files included, are returned as issues.
 */
export function readConfigOf<Registry extends ConfigRegistry>(
  registry: Registry,
  dir: string,
  fallbackDir?: string,
): ConfigRead<Registry> {
  if (!isDirectory(dir)) {
    return { entries: [], files: [], issues: [issueAt(dir, "no such directory")], config: undefined };
  }
  const compiled: Record<string, unknown> = {};
  const reads = new Map<ConfigEntry, EntryRead>();
  const reading = new Set<ConfigEntry>();
  // Each entry read once, an entry's needs before it: a failed need leaves it uncompiled, no more.
  const readOnce = (entry: ConfigEntry): EntryRead | undefined => {
    let read = reads.get(entry);
    if (!read) {
      if (reading.has(entry)) return undefined;
      reading.add(entry);
      const needs = neededValues(entry, (needed) => {
        const neededRead = readOnce(needed);
        return !neededRead || neededRead.issues.length > 0 ? undefined : { value: neededRead.compiled };
      });
      read = readEntry(keyOf(registry, entry), entry, dir, fallbackDir, needs);
      reads.set(entry, read);
    }
    return read;
  };
  const entries = Object.entries(registry).map(([key, entry]) => {
    const { compiled: value, ...read } = readOnce(entry) as EntryRead;
    compiled[key] = value;
    return { ...read, key };
  });
  const issues = entries.flatMap((entry) => entry.issues);
  return {
    entries,
    files: entries.flatMap((entry) => entry.files),
    issues,
    config: issues.length === 0 ? (compiled as CompiledConfig<Registry>) : undefined,
  };
}

/**
 * The config handlers use: each entry read from `dir` and compiled on first use, then kept. An
 * entry with mistakes throws its `ConfigError` when used, so it never stops a handler that does
 * not use it (a broken routing.yaml does not stop webhooks), and no handler compiles what it
 * does not need.
 */
export function loadConfigOf<Registry extends ConfigRegistry>(
  registry: Registry,
  dir: string,
  fallbackDir?: string,
): CompiledConfig<Registry> {
  const config = {};
  for (const [key, entry] of Object.entries(registry)) {
    let loaded: { value: unknown } | undefined;
    Object.defineProperty(config, key, {
      enumerable: true,
      get() {
        if (!loaded) {
          // A need is the handler config's own value: compiled once, its mistakes thrown as its own.
          const needs = neededValues(entry, (needed) => ({
            value: (config as Record<string, unknown>)[keyOf(registry, needed)],
          }));
          const read = readEntry(key, entry, dir, fallbackDir, needs);
          if (read.issues.length > 0) throw new ConfigError(read.issues);
          loaded = { value: read.compiled };
        }
        return loaded.value;
      },
    });
  }
  return config as CompiledConfig<Registry>;
}

/** The names of the files in `folder` matching `pattern`, in order; none when the folder is absent. */
export function folderFileNames(folder: string, pattern: string): string[] {
  if (!isDirectory(folder)) return [];
  const matches = patternExpression(pattern);
  return readdirSync(folder)
    .filter((name) => matches.test(name) && isFile(join(folder, name)))
    .sort();
}

/** Where an entry is read from: `dir`, else `fallbackDir`; undefined when neither has it. */
export function locate(entry: ConfigEntry, dir: string, fallbackDir?: string): string | undefined {
  const candidates = [dir, ...(fallbackDir && resolve(fallbackDir) !== resolve(dir) ? [fallbackDir] : [])];
  return candidates.map((candidate) => join(candidate, entry.name)).find((path) => existsSync(path));
}

type EntryRead = ConfigEntryRead & { compiled?: unknown };

/** An entry's needs compiled, by the name its compile step reads them by; undefined when one has mistakes. */
type NeededValues = () => Record<string, unknown> | undefined;

function neededValues(
  entry: ConfigEntry,
  compiledOf: (needed: ConfigEntry) => { value: unknown } | undefined,
): NeededValues {
  return () => {
    const values: Record<string, unknown> = {};
    for (const [name, needed] of Object.entries(entry.kind === "folder" ? (entry.needs ?? {}) : {})) {
      const found = compiledOf(needed);
      if (!found) return undefined;
      values[name] = found.value;
    }
    return values;
  };
}

/** An entry's key in the registry; a needed entry left out of it is known by its name. */
function keyOf(registry: ConfigRegistry, entry: ConfigEntry): string {
  return Object.entries(registry).find(([, candidate]) => candidate === entry)?.[0] ?? entry.name;
}

function readEntry(
  key: string,
  entry: ConfigEntry,
  dir: string,
  fallbackDir: string | undefined,
  needs: NeededValues,
): EntryRead {
  const location = locate(entry, dir, fallbackDir);
  if (entry.kind === "folder") return readFolder(key, entry, location, needs);
  if (location === undefined) {
    const elsewhere = fallbackDir && resolve(fallbackDir) !== resolve(dir) ? ` (nor in ${fallbackDir})` : "";
    return { key, entry, location, files: [], issues: [issueAt(join(dir, entry.name), `not found${elsewhere}`)] };
  }
  const read = { key, entry, location };
  let source: ConfigText;
  try {
    source = { path: entry.name, file: location, text: readFileSync(location, "utf8") };
  } catch (error) {
    return { ...read, files: [], issues: issuesOf(error, location) };
  }
  try {
    const config = parseYamlConfig(source.text, source.file, entry.schema);
    return { ...read, files: [source], issues: [], compiled: entry.compile(config, source) };
  } catch (error) {
    return { ...read, files: [source], issues: issuesOf(error, location) };
  }
}

function readFolder(
  key: string,
  entry: ConfigFolderEntry,
  location: string | undefined,
  needs: NeededValues,
): EntryRead {
  const read = { key, entry, location };
  if (location !== undefined && !isDirectory(location)) {
    return { ...read, files: [], issues: [issueAt(location, "is a file; expected a folder")] };
  }
  const issues: ConfigIssue[] = [];
  const files = (location === undefined ? [] : folderFileNames(location, entry.pattern)).flatMap((name) => {
    const file = join(location as string, name);
    try {
      return [{ name, path: `${entry.name}/${name}`, file, text: readFileSync(file, "utf8") }];
    } catch (error) {
      issues.push(...issuesOf(error, file));
      return [];
    }
  });
  const checked = files.flatMap((file): ConfigFolderFile<unknown>[] => {
    try {
      const config = entry.schema ? parseYamlConfig(file.text, file.file, entry.schema) : file.text;
      return [{ ...file, config }];
    } catch (error) {
      issues.push(...issuesOf(error, file.file));
      return [];
    }
  });
  const texts = files.map(({ path, file, text }) => ({ path, file, text }));
  if (issues.length > 0) return { ...read, files: texts, issues };
  try {
    const needed = needs();
    if (needed === undefined) return { ...read, files: texts, issues };
    return { ...read, files: texts, issues, compiled: entry.compile(checked, needed as never) };
  } catch (error) {
    return { ...read, files: texts, issues: issuesOf(error, location ?? entry.name) };
  }
}

/** `*.yaml` as a regular expression: `*` any run of characters, `?` one; a leading dot never matches. */
function patternExpression(pattern: string): RegExp {
  const body = [...pattern]
    .map((character) => {
      if (character === "*") return ".*";
      if (character === "?") return ".";
      return character.replace(/[\\^$.|+()[\]{}]/g, "\\$&");
    })
    .join("");
  return new RegExp(`^(?!\\.)${body}$`, "s");
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}
