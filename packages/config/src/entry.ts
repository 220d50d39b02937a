import { ConfigError, type ConfigIssue } from "@leadflow/core";
import type { z } from "zod";

/** A file of config as read. */
export interface ConfigText {
  /** Where it sits inside a config directory, with `/`: `scoring.yaml`, `sequences/welcome.yaml`. */
  path: string;
  /** Where it was read from, as its issues name it: `config/scoring.yaml`, `my-config/sequences/welcome.yaml`. */
  file: string;
  text: string;
}

/** A file of a folder entry and what it holds: its schema's output, or its text when the entry has no schema. */
export interface ConfigFolderFile<Item> extends ConfigText {
  /** Its name in the folder: `welcome.yaml`. */
  name: string;
  config: Item;
}

/** One YAML file of config/: parsed with `parseYamlConfig` against `schema`, then compiled. */
export interface ConfigFileEntry<Compiled = unknown, Schema extends z.ZodType = z.ZodType> {
  readonly kind: "file";
  /** The file's name in the config directory: `scoring.yaml`. */
  readonly name: string;
  readonly schema: Schema;
  /** Builds what handlers use; a `ConfigError` it throws is reported like a schema mistake. */
  compile(config: z.output<Schema>, source: ConfigText): Compiled;
}

/** A folder of config/: every file matching `pattern`, each checked on its own, then compiled together. */
export interface ConfigFolderEntry<Compiled = unknown, Item = unknown> {
  readonly kind: "folder";
  /** The folder's name in the config directory: `sequences`. */
  readonly name: string;
  /** Which of its files belong to it: `*.yaml` (`*` and `?`; names starting with a dot never match). */
  readonly pattern: string;
  /** Each file's schema (the files are then YAML); without one, each file is handed over as text. */
  readonly schema: z.ZodType | undefined;
  /** Builds what handlers use from the folder's files, in name order (none when the folder is absent). */
  compile(files: ConfigFolderFile<Item>[]): Compiled;
}

export type ConfigEntry = ConfigFileEntry | ConfigFolderEntry;

/** Config entries by the name handlers know them by (`config().scoring`). */
export type ConfigRegistry = Readonly<Record<string, ConfigEntry>>;

/** What handlers get: each entry's compiled value, under the entry's key. */
export type CompiledConfig<Registry extends ConfigRegistry> = {
  readonly [Key in keyof Registry]: ReturnType<Registry[Key]["compile"]>;
};

/** A YAML file entry: `configFile("routing.yaml", RoutingConfigSchema, compileRouting)`. */
export function configFile<Schema extends z.ZodType, Compiled>(
  name: string,
  schema: Schema,
  compile: (config: z.output<Schema>, source: ConfigText) => Compiled,
): ConfigFileEntry<Compiled, Schema> {
  return { kind: "file", name, schema, compile };
}

/**
 * A folder entry: `configFolder("sequences", { pattern: "*.yaml", schema: SequenceSchema, compile })`
 * checks each file against the schema (file:line:column), or, without a schema, hands `compile`
 * each file's text (`configFolder("templates", { pattern: "*.liquid", compile })`).
 */
export function configFolder<Schema extends z.ZodType, Compiled>(
  name: string,
  options: { pattern: string; schema: Schema; compile: (files: ConfigFolderFile<z.output<Schema>>[]) => Compiled },
): ConfigFolderEntry<Compiled, z.output<Schema>>;
export function configFolder<Compiled>(
  name: string,
  options: { pattern: string; compile: (files: ConfigFolderFile<string>[]) => Compiled },
): ConfigFolderEntry<Compiled, string>;
export function configFolder(
  name: string,
  options: { pattern: string; schema?: z.ZodType; compile: (files: ConfigFolderFile<never>[]) => unknown },
): ConfigFolderEntry {
  return { kind: "folder", name, pattern: options.pattern, schema: options.schema, compile: options.compile };
}

/**
 * Compiles each file of a folder on its own, for a folder entry's `compile`: one file's mistakes
 * never hide another's, and each issue names its file (a plain error counts as its line 1).
 */
export function compileEachFile<Item, Compiled>(
  files: ConfigFolderFile<Item>[],
  compile: (file: ConfigFolderFile<Item>) => Compiled,
): Compiled[] {
  const issues: ConfigIssue[] = [];
  const compiled = files.flatMap((file) => {
    try {
      return [compile(file)];
    } catch (error) {
      issues.push(...issuesOf(error, file.file));
      return [];
    }
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return compiled;
}

/** A thrown error as config issues: a `ConfigError`'s own, or one issue at the start of `file`. */
export function issuesOf(error: unknown, file: string): ConfigIssue[] {
  if (error instanceof ConfigError) return error.issues;
  return [issueAt(file, error instanceof Error ? error.message : String(error))];
}

export function issueAt(file: string, message: string): ConfigIssue {
  return { file, line: 1, column: 1, path: "", message };
}
