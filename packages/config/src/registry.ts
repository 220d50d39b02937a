import { compileSources, SourcesConfigSchema } from "@leadflow/channels";
import {
  compileRouting,
  compileScoring,
  configVersion,
  RoutingConfigSchema,
  ScoringConfigSchema,
} from "@leadflow/core";
import { type CompiledConfig, type ConfigRegistry, configFile } from "./entry.ts";
import { type ConfigRead, loadConfigOf, readConfigOf } from "./read.ts";

/**
 * Every file and folder of marketer config, with its schema and how it is compiled. This list is
 * the only one: `npm run config:check` and `config:schema`, `npm start`'s watcher and checked
 * copy, and the handlers (`config()` in @leadflow/lambda) all read it. A new file or folder is one
 * entry here, under the key handlers read it by:
 *
 *   sequences: configFolder("sequences", { pattern: "*.yaml", schema: SequenceSchema, compile: compileSequences }),
 *   templates: configFolder("templates", { pattern: "*.liquid", compile: compileTemplates }),
 */
export const configRegistry = {
  sources: configFile("sources.yaml", SourcesConfigSchema, compileSources),
  scoring: configFile("scoring.yaml", ScoringConfigSchema, (config, { text }) =>
    compileScoring(config, configVersion(text)),
  ),
  routing: configFile("routing.yaml", RoutingConfigSchema, (config, { text }) =>
    compileRouting(config, configVersion(text)),
  ),
} satisfies ConfigRegistry;

export type LeadflowRegistry = typeof configRegistry;

/** What handlers get from `config()`: `{ sources, scoring, ... }`, one key per entry. */
export type LeadflowConfig = CompiledConfig<LeadflowRegistry>;

/** Reads and checks all of config/ (see `readConfigOf`). */
export function readConfig(dir: string, fallbackDir?: string): ConfigRead<LeadflowRegistry> {
  return readConfigOf(configRegistry, dir, fallbackDir);
}

/** The config handlers use, each entry compiled on first use (see `loadConfigOf`). */
export function loadConfig(dir: string, fallbackDir?: string): LeadflowConfig {
  return loadConfigOf(configRegistry, dir, fallbackDir);
}
