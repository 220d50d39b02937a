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

/** On AWS a process runs one function, whose singletons are the process's. */
const processOwner = {};
let ownerOf: () => object | undefined = () => undefined;

/**
 * Keeps the values `once` and `perConfig` build per owner: `npm start` runs several handlers in
 * one process, each with its own environment, and passes the handler running, so no handler uses
 * a client or a config built from another one's environment.
 */
export function keepSingletonsPer(owner: () => object | undefined): void {
  ownerOf = owner;
}

/** Builds a value on first call, and again whenever `key` gives something else. */
function builtPer<T>(key: () => unknown, build: () => T): () => T {
  const built = new WeakMap<object, { key: unknown; value: T }>();
  return () => {
    const owner = ownerOf() ?? processOwner;
    const current = key();
    let entry = built.get(owner);
    if (!entry || entry.key !== current) {
      entry = { key: current, value: build() };
      built.set(owner, entry);
    }
    return entry.value;
  };
}
