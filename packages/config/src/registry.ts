import { compileSources, SourcesConfigSchema } from "@leadflow/channels";
import {
  compileRouting,
  compileScoring,
  compileSequences,
  compileTemplates,
  configVersion,
  RoutingConfigSchema,
  ScoringConfigSchema,
  SequenceSchema,
} from "@leadflow/core";
import { type CompiledConfig, type ConfigRegistry, configFile, configFolder } from "./entry.ts";
import { type ConfigRead, loadConfigOf, readConfigOf } from "./read.ts";

/**
 * Every file and folder of marketer config, with its schema and how it is compiled. This list is
 * the only one: `npm run config:check` and `config:schema`, `npm start`'s watcher and checked
 * copy, and the handlers (`config()` in @leadflow/lambda) all read it. A new file or folder is one
 * entry here, under the key handlers read it by. An entry whose compile step reads another names
 * it in `needs` (sequences need the templates they send).
 */

/** config/templates/*.liquid: each parsed and rendered against a sample lead; `byName(name)`. */
const templates = configFolder("templates", { pattern: "*.liquid", compile: compileTemplates });

/** config/sequences/*.yaml: each checked against its schema, then against the templates; `byId(id)`. */
const sequences = configFolder("sequences", {
  pattern: "*.yaml",
  schema: SequenceSchema,
  schemaFile: "sequence.schema.json",
  needs: { templates },
  compile: (files, needs) => compileSequences(files, needs.templates),
});

export const configRegistry = {
  sources: configFile("sources.yaml", SourcesConfigSchema, compileSources),
  scoring: configFile("scoring.yaml", ScoringConfigSchema, (config, { text }) =>
    compileScoring(config, configVersion(text)),
  ),
  routing: configFile("routing.yaml", RoutingConfigSchema, (config, { text }) =>
    compileRouting(config, configVersion(text)),
  ),
  templates,
  sequences,
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
