import { createHash } from "node:crypto";
import { isNode, isScalar, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { ConfigError, type ConfigIssue } from "../config/yaml.ts";
import { type Stage, stages } from "../leads/stages.ts";
import { type Temperature, temperatures } from "../scoring/qualify.ts";
import { durationSchema, parseClock, parseDays } from "../time.ts";
import { type TemplateLibrary, type TemplateProblem, templateProblem } from "./templates.ts";

/**
 * config/sequences/*.yaml: nurture sequences marketers write, one per file, checked against
 * config/templates/*.liquid and compiled into a plain JSON value. A lead enrolled in a sequence
 * keeps the compiled version it started (stored with its enrolment), so everything a step needs,
 * its template's text included, is in it. See docs/config-reference.md#sequences-and-templates.
 */

const exitReasons = ["replied", "converted", "hot", "unsubscribed", "bounced"] as const;
export type SequenceExitReason = (typeof exitReasons)[number];
/** Exits every sequence has, written or not: nobody is written to after unsubscribing or bouncing. */
export const alwaysExitOn: readonly SequenceExitReason[] = ["unsubscribed", "bounced"];

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lower-case letters, digits and dashes");
const phone = z.string().regex(/^\+[1-9]\d{6,14}$/, "a phone number in E.164 form, e.g. +14155550101");
const oneOrMany = <Item extends z.ZodType>(item: Item) =>
  z.union([item, z.array(item).min(1)]).transform((value) => (Array.isArray(value) ? value : [value]));

const EntrySchema = z
  .strictObject({
    temperature: oneOrMany(z.enum(temperatures))
      .optional()
      .describe("cold (the default): sequences enrol leads as they turn cold"),
    coldForDays: z
      .number()
      .int()
      .min(0)
      .max(3650)
      .default(0)
      .describe("cold for at least this many days (default 0: as soon as it turns cold)"),
    stage: oneOrMany(z.enum(stages))
      .optional()
      .describe("the lead's stage, or a list; any stage but customer and disqualified when absent"),
  })
  .describe("which leads are enrolled: all of these must hold");

const ReentrySchema = z
  .union([
    z.literal("never"),
    z.strictObject({ after: durationSchema.describe("a lead may be enrolled again this long after it left") }),
  ])
  .default("never")
  .describe('"never" (the default), or { after: 90d }: when a lead that left may be enrolled again');

const clockText = z.string().describe('a time of day, "09:00"; `to` may be "24:00"');
const WindowSchema = z
  .strictObject({
    days: z.string().default("mon-fri").describe("days such as mon-fri, daily, mon,wed,fri (default mon-fri)"),
    from: clockText.default("09:00"),
    to: clockText.default("17:00"),
  })
  .describe("when messages may be sent, in the lead's time zone; outside it a send waits for the next opening");

const capCount = z.union([z.number().int().min(1).max(100), z.literal("none")]);
const CapsSchema = z
  .strictObject({
    perDay: capCount.default(1).describe("nurture messages a lead gets per day, across all sequences (default 1)"),
    perWeek: capCount.default(3).describe("nurture messages a lead gets per 7 days, across all sequences (default 3)"),
  })
  .describe("over a cap, a send is deferred, not dropped");

const FromSchema = z
  .strictObject({
    email: z.string().min(3).optional().describe('the sender of emails, "Acme <hello@acme.example>" (an SES identity)'),
    sms: phone.optional().describe("the number SMS come from (an origination number)"),
  })
  .describe("who messages come from; each channel a step uses must be given");

const EmailStepSchema = z.strictObject({
  subject: z.string().min(1).max(998).describe("the subject line, a Liquid template"),
  template: z
    .string()
    .min(1)
    .describe("a file of config/templates (reactivate-1.liquid; the extension may be left out)"),
});
const SmsStepSchema = z.strictObject({
  text: z.string().min(1).max(1600).describe("the message, a Liquid template; say how to opt out (STOP)"),
});
const WaitStepSchema = z
  .union([
    durationSchema,
    z.strictObject({ until: z.string().describe('a day and time in the lead\'s zone: "tue 10:00"') }),
  ])
  .describe('a duration (3d, 12h) or { until: "tue 10:00" }: the next such moment in the lead\'s zone');
const stepReference = z.string().describe('"previous" (the nearest email step before) or an email step\'s id');
const BranchStepSchema = z.strictObject({
  if: z
    .union([
      z.strictObject({ clicked: stepReference }),
      z.strictObject({ opened: stepReference }),
      z.strictObject({ replied: z.literal(true) }),
    ])
    .describe("{ clicked: previous }, { opened: <step id> } or { replied: true }"),
  // biome-ignore lint/suspicious/noThenProperty: the key marketers write (if / then / else); a string is never awaited as a thenable
  then: z.string().describe('where to go when it holds: a later step\'s id, "next" or "exit"'),
  else: z.string().default("next").describe('where to go otherwise (default "next")'),
});

const stepKinds = ["email", "sms", "wait", "branch"] as const;
const StepSchema = z
  .strictObject({
    id: slug.optional().describe("a name for branches to jump to; step-<n> (1-based) when absent"),
    email: EmailStepSchema.optional().describe("send an email"),
    sms: SmsStepSchema.optional().describe("send an SMS (only to leads who consented)"),
    wait: WaitStepSchema.optional(),
    branch: BranchStepSchema.optional().describe("jump on what the lead did"),
  })
  .superRefine((step, context) => {
    const given = stepKinds.filter((kind) => step[kind] !== undefined);
    if (given.length !== 1)
      context.addIssue({
        code: "custom",
        message: `a step is exactly one of ${stepKinds.join(", ")}${given.length > 1 ? ` (this one is ${given.join(" and ")})` : ""}`,
      });
  });

export const SequenceSchema = z
  .strictObject({
    id: slug.describe("the sequence's id, unique across config/sequences"),
    version: z
      .union([z.string().min(1).max(64), z.number()])
      .optional()
      .describe("a label shown in reports; the compiled digest tells versions apart either way"),
    entry: EntrySchema.default({ coldForDays: 0 }),
    reentry: ReentrySchema,
    window: WindowSchema.default({ days: "mon-fri", from: "09:00", to: "17:00" }),
    caps: CapsSchema.default({ perDay: 1, perWeek: 3 }),
    from: FromSchema.default({}),
    exit: z
      .array(z.enum(exitReasons))
      .default([...exitReasons])
      .describe(
        "what ends a lead's run: replied, converted, hot (unsubscribed and bounced always do); all when absent",
      ),
    steps: z.array(StepSchema).min(1).describe("run in order; a lead's run ends after the last"),
  })
  .describe("a nurture sequence (config/sequences/<id>.yaml)");
export type SequenceConfig = z.output<typeof SequenceSchema>;

export type CompiledStep = { id: string } & (
  | { kind: "email"; subject: string; template: string; body: string }
  | { kind: "sms"; text: string }
  | { kind: "wait"; seconds: number }
  | { kind: "wait-until"; weekday: number; minute: number }
  | {
      kind: "branch";
      if: { clicked: "previous" | string } | { opened: "previous" | string } | { replied: true };
      then: string;
      else: string;
    }
);

/** A sequence as stored with each enrolment: plain JSON, the same after a round trip. */
export interface CompiledSequence {
  id: string;
  /** The optional `version` of the file, as text. */
  label?: string;
  /** sha256 (hex) of the canonical JSON of everything else: a template or step edit is a new digest. */
  digest: string;
  entry: { temperatures: Temperature[]; coldForDays: number; stages: Stage[] };
  reentry: { afterSeconds: number } | "never";
  /** ISO weekdays (1 = Monday); minutes after midnight, `from` < `to` (≤ 1440), in the lead's zone. */
  window: { days: number[]; from: number; to: number };
  caps: { perDay?: number; perWeek?: number };
  from: { email?: string; sms?: string };
  exit: SequenceExitReason[];
  steps: CompiledStep[];
}

/** config/sequences, compiled: what handlers read as `config().sequences`. */
export interface SequenceLibrary {
  all: CompiledSequence[];
  byId(id: string): CompiledSequence | undefined;
}

/** Where a sequence was read from: its issues name `file`, and positions are found in `text`. */
export interface SequenceSource {
  file: string;
  text: string;
}

/** A branch target that is not a step. */
const branchTargets = ["next", "exit"];
const defaultStages = stages.filter((stage) => stage !== "customer" && stage !== "disqualified");

/** Compiles every file of config/sequences; every mistake of every file at once, ids unique across files. */
export function compileSequences(
  files: readonly (SequenceSource & { config: SequenceConfig })[],
  templates: TemplateLibrary,
): SequenceLibrary {
  const issues: ConfigIssue[] = [];
  const byId = new Map<string, CompiledSequence>();
  const firstFile = new Map<string, string>();
  for (const { config, ...source } of files) {
    const earlier = firstFile.get(config.id);
    if (earlier !== undefined) {
      issues.push({
        ...locate(source).at(["id"]),
        path: "id",
        message: `sequence "${config.id}" is also in ${earlier}`,
      });
      continue;
    }
    firstFile.set(config.id, source.file);
    try {
      byId.set(config.id, compileSequence(config, source, templates));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return sequenceLibrary([...byId.values()]);
}

/** A library over compiled sequences (those of the config, or those read back from the table). */
export function sequenceLibrary(all: CompiledSequence[]): SequenceLibrary {
  const byId = new Map(all.map((sequence) => [sequence.id, sequence]));
  return { all, byId: (id) => byId.get(id) };
}

/**
 * Checks one sequence against the templates and compiles it. Throws a `ConfigError` naming the
 * file, line and column of each mistake: a template that does not exist or does not render, a
 * branch to no step, a channel without a sender, a sequence that sends nothing.
 */
export function compileSequence(
  config: SequenceConfig,
  source: SequenceSource,
  templates: TemplateLibrary,
): CompiledSequence {
  const where = locate(source);
  const issues: ConfigIssue[] = [];
  const problem = (path: (string | number)[], message: string) =>
    issues.push({ ...where.at(path), path: path.join("."), message });

  // Enrolment reads leads as they turn cold (the cold index): a sequence re-engages cold leads.
  const entryTemperatures = config.entry.temperature ?? ["cold"];
  if (entryTemperatures.some((level) => level !== "cold"))
    problem(["entry", "temperature"], "sequences enrol leads gone cold: temperature is cold (or left out)");

  const window = compileWindow(config.window, problem);
  const ids = config.steps.map((step, index) => step.id ?? `step-${index + 1}`);
  ids.forEach((id, index) => {
    if (ids.indexOf(id) !== index) problem(["steps", index, "id"], `step id "${id}" is used twice`);
  });

  const steps = config.steps.flatMap((step, index): CompiledStep[] => {
    const id = ids[index] as string;
    const path = ["steps", index];
    if (step.email) {
      if (!config.from.email) problem([...path, "email"], "an email step needs from.email");
      const subjectProblem = templateProblem(step.email.subject, "text");
      if (subjectProblem) issues.push(where.inString([...path, "email", "subject"], subjectProblem));
      const template = templates.byName(step.email.template) ?? templates.byName(`${step.email.template}.liquid`);
      if (!template) {
        const known = templates.all.map(({ name }) => name).join(", ") || "none";
        problem([...path, "email", "template"], `no template "${step.email.template}" in templates/ (${known})`);
        return [];
      }
      return [{ id, kind: "email", subject: step.email.subject, template: template.name, body: template.text }];
    }
    if (step.sms) {
      if (!config.from.sms) problem([...path, "sms"], "an SMS step needs from.sms");
      const textProblem = templateProblem(step.sms.text, "text");
      if (textProblem) issues.push(where.inString([...path, "sms", "text"], textProblem));
      return [{ id, kind: "sms", text: step.sms.text }];
    }
    if (step.wait !== undefined) {
      if (typeof step.wait === "number") return [{ id, kind: "wait", seconds: step.wait }];
      const until = parseWeekdayClock(step.wait.until);
      if (!until) {
        problem([...path, "wait", "until"], 'a day and a time, such as "tue 10:00"');
        return [];
      }
      return [{ id, kind: "wait-until", ...until }];
    }
    if (step.branch) {
      const branch = step.branch;
      const emailsBefore = config.steps.slice(0, index).flatMap((earlier, at) => (earlier.email ? [ids[at]] : []));
      let condition = branch.if;
      if ("clicked" in condition || "opened" in condition) {
        const [event, reference] =
          "clicked" in condition ? ["clicked", condition.clicked] : ["opened", condition.opened];
        const resolved = reference === "previous" ? emailsBefore.at(-1) : reference;
        if (resolved === undefined) problem([...path, "branch", "if", event], "no email step comes before this branch");
        else if (!emailsBefore.includes(resolved))
          problem([...path, "branch", "if", event], `no email step "${reference}" before this branch`);
        else condition = event === "clicked" ? { clicked: resolved } : { opened: resolved };
      }
      for (const target of ["then", "else"] as const) {
        const name = branch[target];
        if (branchTargets.includes(name)) continue;
        const at = ids.indexOf(name);
        if (at < 0) problem([...path, "branch", target], `no step "${name}" (a step id, "next" or "exit")`);
        else if (at <= index)
          problem([...path, "branch", target], `a branch only jumps forward; "${name}" comes before`);
      }
      // biome-ignore lint/suspicious/noThenProperty: a string, not a function: the step is never a thenable
      return [{ id, kind: "branch", if: condition, then: branch.then, else: branch.else }];
    }
    return [];
  });

  if (!config.steps.some((step) => step.email || step.sms))
    problem(["steps"], "the sequence sends nothing: add an email or sms step");
  if (issues.length > 0) throw new ConfigError(issues);

  const compiled: Omit<CompiledSequence, "digest"> = {
    id: config.id,
    ...(config.version === undefined ? {} : { label: String(config.version) }),
    entry: {
      temperatures: entryTemperatures,
      coldForDays: config.entry.coldForDays,
      stages: config.entry.stage ?? [...defaultStages],
    },
    reentry: config.reentry === "never" ? "never" : { afterSeconds: config.reentry.after },
    window,
    caps: {
      ...(config.caps.perDay === "none" ? {} : { perDay: config.caps.perDay }),
      ...(config.caps.perWeek === "none" ? {} : { perWeek: config.caps.perWeek }),
    },
    from: {
      ...(config.from.email === undefined ? {} : { email: config.from.email }),
      ...(config.from.sms === undefined ? {} : { sms: config.from.sms }),
    },
    exit: exitReasons.filter((reason) => config.exit.includes(reason) || alwaysExitOn.includes(reason)),
    steps,
  };
  return { ...compiled, digest: sequenceDigest(compiled) };
}

/** sha256 (hex) of a sequence's canonical JSON, its `digest` left out: the same for the same content. */
export function sequenceDigest(sequence: Omit<CompiledSequence, "digest"> & { digest?: string }): string {
  const { digest: _digest, ...content } = sequence;
  return createHash("sha256").update(canonicalJson(content)).digest("hex");
}

/** JSON with every object's keys sorted, so equal values give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const fields = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`);
    return `{${fields.join(",")}}`;
  }
  return JSON.stringify(value);
}

/** `tue 10:00` → ISO weekday and minutes after midnight. */
export function parseWeekdayClock(text: string): { weekday: number; minute: number } | undefined {
  const [dayText = "", clockText = "", ...rest] = text.trim().split(/\s+/);
  const days = parseDays(dayText);
  const minute = parseClock(clockText);
  if (rest.length > 0 || !days || days.size !== 1 || minute === undefined) return undefined;
  return { weekday: [...days][0] as number, minute };
}

function compileWindow(
  window: SequenceConfig["window"],
  problem: (path: (string | number)[], message: string) => void,
): CompiledSequence["window"] {
  const days = parseDays(window.days);
  const from = parseClock(window.from);
  const to = window.to.trim() === "24:00" ? 1440 : parseClock(window.to);
  if (!days) problem(["window", "days"], "days such as mon-fri, daily or mon,wed,fri");
  if (from === undefined) problem(["window", "from"], 'a time of day such as "09:00"');
  if (to === undefined) problem(["window", "to"], 'a time of day such as "17:00" (or "24:00")');
  else if (from !== undefined && to <= from) problem(["window", "to"], "must come after `from`");
  return { days: [...(days ?? [])].sort((a, b) => a - b), from: from ?? 0, to: to ?? 0 };
}

/** Positions in a sequence's YAML text, for mistakes found after its schema passed. */
function locate(source: SequenceSource) {
  const lineCounter = new LineCounter();
  const document = parseDocument(source.text, { lineCounter, prettyErrors: false });
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { file: source.file, line, column: col };
  };
  const nodeAt = (path: (string | number)[]) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = depth === 0 ? document.contents : document.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) return node;
    }
    return undefined;
  };
  return {
    at: (path: (string | number)[]) => position(nodeAt(path)?.range?.[0] ?? 0),
    /**
     * A Liquid mistake at a line and column of a string value: the file's own position when the
     * string is written on one line without escapes, else the string's start.
     */
    inString(path: (string | number)[], problem: TemplateProblem): ConfigIssue {
      const node = nodeAt(path);
      const start = node?.range?.[0] ?? 0;
      const base = { ...position(start), path: path.join("."), message: problem.message };
      if (!isScalar(node) || typeof node.value !== "string" || problem.line !== 1) return base;
      const written = source.text.slice(start, node.range?.[1] ?? start);
      const quote = node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE" ? 1 : 0;
      if (!written.startsWith(node.value, quote) || node.value.includes("\n")) return base;
      return { ...position(start + quote + problem.column - 1), path: base.path, message: base.message };
    },
  };
}
