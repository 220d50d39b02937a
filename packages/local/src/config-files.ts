import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SourcesConfigSchema } from "@leadflow/channels";
import { ConfigError, type ConfigIssue, parseYamlConfig, ScoringConfigSchema } from "@leadflow/core";
import { z } from "zod";

/** The marketer-owned files in config/, each with the schema it is checked against. */
export const configFiles = {
  "sources.yaml": SourcesConfigSchema,
  "scoring.yaml": ScoringConfigSchema,
} as const satisfies Record<string, z.ZodType>;

export type ConfigFileName = keyof typeof configFiles;

export const configFileNames = Object.keys(configFiles) as ConfigFileName[];

/** The config files as read once, and every mistake in them, each with its file, line and column. */
export interface CheckedConfig {
  texts: Record<ConfigFileName, string>;
  issues: ConfigIssue[];
}

/** Reads each config file once and checks what was read, so what passed is what gets used. */
export function readConfigFiles(configDir: string): CheckedConfig {
  const texts = {} as Record<ConfigFileName, string>;
  const issues = configFileNames.flatMap((name) => {
    const file = join(configDir, name);
    try {
      texts[name] = readFileSync(file, "utf8");
      parseYamlConfig(texts[name], file, configFiles[name]);
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return error.issues;
      return [{ file, line: 1, column: 1, path: "", message: (error as Error).message }];
    }
  });
  return { texts, issues };
}

/** Every mistake in every config file, each with its file, line and column. */
export function checkConfigFiles(configDir: string): ConfigIssue[] {
  return readConfigFiles(configDir).issues;
}

/** The JSON Schema editors use for a config file (`# yaml-language-server: $schema=...`). */
export function jsonSchemaOf(name: ConfigFileName): string {
  const schema = z.toJSONSchema(configFiles[name], { io: "input", unrepresentable: "any" });
  return `${JSON.stringify({ ...schema, title: `leadflow config/${name}` }, null, 2)}\n`;
}

export function schemaFileName(name: ConfigFileName): string {
  return `${name.replace(/\.yaml$/, "")}.schema.json`;
}
