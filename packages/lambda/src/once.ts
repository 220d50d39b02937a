import { environmentNames } from "@leadflow/manifest";

/** Builds a value on first call and returns the same one afterwards. */
export function once<T>(build: () => T): () => T {
  return builtPer(() => undefined, build);
}

/**
 * Like `once`, but built again when the config directory changes: `npm start` points it at a
 * checked copy of config/ after each edit. On AWS it never changes, so this is `once`.
 */
export function perConfig<T>(build: () => T): () => T {
  return builtPer(() => process.env[environmentNames.configDir], build);
}

/** Builds a value on first call, and again whenever `key` gives something else. */
function builtPer<T>(key: () => unknown, build: () => T): () => T {
  let built: { key: unknown; value: T } | undefined;
  return () => {
    const current = key();
    if (!built || built.key !== current) built = { key: current, value: build() };
    return built.value;
  };
}
