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
export interface ConfigFolderEntry<Compiled = unknown, Item = unknown, Needs extends ConfigNeeds = ConfigNeeds> {
  readonly kind: "folder";
  /** The folder's name in the config directory: `sequences`. */
  readonly name: string;
  /** Which of its files belong to it: `*.yaml` (`*` and `?`; names starting with a dot never match). */
  readonly pattern: string;
  /** Each file's schema (the files are then YAML); without one, each file is handed over as text. */
  readonly schema: z.ZodType | undefined;
  /** The name of the JSON Schema it writes to config/schema/, when not `<name>.schema.json`. */
  readonly schemaFile?: string;
  /**
   * Other entries of the same registry its compile step reads (`{ templates }`): each is read and
   * compiled first and handed over compiled; while one of them has mistakes, this one is not
   * compiled (their mistakes are theirs, reported once).
   */
  readonly needs?: Needs;
  /** Builds what handlers use from the folder's files, in name order (none when the folder is absent). */
  compile(files: ConfigFolderFile<Item>[], needs: CompiledNeeds<Needs>): Compiled;
}

/** Entries another entry's compile step reads, by the name it reads them by. */
export type ConfigNeeds = Readonly<Record<string, ConfigEntry>>;

/** Each needed entry's compiled value. */
export type CompiledNeeds<Needs extends ConfigNeeds> = { readonly [Key in keyof Needs]: CompiledOf<Needs[Key]> };

/** What an entry compiles to. */
export type CompiledOf<Entry extends ConfigEntry> = ReturnType<Entry["compile"]>;

export type ConfigEntry = ConfigFileEntry | ConfigFolderEntry;

/** Config entries by the name handlers know them by (`config().scoring`). */
export type ConfigRegistry = Readonly<Record<string, ConfigEntry>>;

/** What handlers get: each entry's compiled value, under the entry's key. */
export type CompiledConfig<Registry extends ConfigRegistry> = {
  readonly [Key in keyof Registry]: CompiledOf<Registry[Key]>;
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
 * each file's text (`configFolder("templates", { pattern: "*.liquid", compile })`). With `needs:
 * { templates }`, `compile` also gets the templates entry compiled: `compile(files, { templates })`.
 */
export function configFolder<Schema extends z.ZodType, Compiled, Needs extends ConfigNeeds = Record<never, never>>(
  name: string,
  options: {
    pattern: string;
    schema: Schema;
    schemaFile?: string;
    needs?: Needs;
    compile: (files: ConfigFolderFile<z.output<Schema>>[], needs: CompiledNeeds<Needs>) => Compiled;
  },
): ConfigFolderEntry<Compiled, z.output<Schema>, Needs> & { readonly schema: Schema };
export function configFolder<Compiled, Needs extends ConfigNeeds = Record<never, never>>(
  name: string,
  options: {
    pattern: string;
    needs?: Needs;
    compile: (files: ConfigFolderFile<string>[], needs: CompiledNeeds<Needs>) => Compiled;
  },
): ConfigFolderEntry<Compiled, string, Needs>;
export function configFolder(
  name: string,
  options: {
    pattern: string;
    schema?: z.ZodType;
    schemaFile?: string;
    needs?: ConfigNeeds;
    compile: (files: ConfigFolderFile<never>[], needs: never) => unknown;
  },
): ConfigFolderEntry {
  const { pattern, schema, schemaFile, needs, compile } = options;
  return {
    kind: "folder",
    name,
    pattern,
    schema,
    ...(schemaFile === undefined ? {} : { schemaFile }),
    ...(needs === undefined ? {} : { needs }),
    compile,
  } as ConfigFolderEntry;
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
