import { Liquid, type Template } from "liquidjs";
import { ConfigError, type ConfigIssue } from "../config/yaml.ts";
import { profileFields } from "../leads/fields.ts";
import type { Lead } from "../leads/lead.ts";
import type { CompiledSequence } from "./sequence.ts";

/**
 * config/templates/*.liquid and the Liquid in sequences (subjects, SMS text): one set of LiquidJS
 * options, checked once when config is read (parsed and rendered against a sample lead), then
 * parsed once per sequence version and step and rendered many times.
 *
 * - An unknown filter is a mistake (`strictFilters`); a missing variable renders empty.
 * - `include`, `render` and `layout` are refused: a template is one file, all in the sequence's
 *   compiled version.
 * - A template containing an HTML tag is HTML: every `{{ }}` output is HTML-escaped there (`| raw`
 *   opts out), and the email gets a plain-text part made from it. Any other template, subjects
 *   and SMS text are plain text, not escaped.
 */

const limits = { parseLimit: 200_000, memoryLimit: 10_000_000 };
const options = { strictFilters: true, strictVariables: false, ownPropertyOnly: true, jsTruthy: false, ...limits };

/** The Liquid for plain text: subjects, SMS, text templates. */
export const nurtureLiquid = refuseFiles(new Liquid({ ...options }));
/** The Liquid for HTML templates: outputs are escaped. */
const htmlLiquid = refuseFiles(new Liquid({ ...options, outputEscape: "escape" }));

function refuseFiles(liquid: Liquid): Liquid {
  for (const tag of ["include", "render", "layout"]) {
    liquid.registerTag(tag, {
      parse() {
        throw new Error(`{% ${tag} %} is not available: a template is one file`);
      },
      render() {},
    });
  }
  return liquid;
}

/** A file of config/templates. */
export interface TemplateSource {
  /** Its file name, as sequences name it: `reactivate-1.liquid`. */
  name: string;
  text: string;
}

/** config/templates, checked: what handlers read as `config().templates`. */
export interface TemplateLibrary {
  all: TemplateSource[];
  byName(name: string): TemplateSource | undefined;
}

export type TemplateFormat = "html" | "text";

/** What is wrong with a template, at a line and column of its text (1-based). */
export interface TemplateProblem {
  line: number;
  column: number;
  message: string;
}

/** The lead, owner and link a template is checked against when config is read. */
export const sampleTemplateContext: TemplateContext = {
  lead: {
    id: "sample-lead",
    firstName: "Ada",
    lastName: "Lovelace",
    company: "Analytical Engines",
    jobTitle: "Head of Engineering",
    country: "GB",
    region: "London",
    city: "London",
    postalCode: "SW1A 1AA",
    timezone: "Europe/London",
    email: "ada@example.com",
    phone: "+442079460958",
    emails: ["ada@example.com"],
    phones: ["+442079460958"],
    custom: { budget: "10k" },
    consent: {},
    sources: [],
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    version: 1,
  },
  owner: { id: "sample-rep", name: "Ana Ruiz", email: "ana@example.com", phone: "+14155550101" },
  unsubscribeUrl: "https://example.com/unsubscribe/sample",
};

/** HTML when the template has an HTML tag (`<p>`, `<br/>`, `<a href=...>`); else plain text. */
export function templateFormat(text: string): TemplateFormat {
  return /<\/?[a-z][a-z0-9-]*(?:\s[^<>]*)?\/?>/i.test(text) ? "html" : "text";
}

/** Parses and renders `text` once against the sample context; what is wrong with it, if anything. */
export function templateProblem(
  text: string,
  format: TemplateFormat = templateFormat(text),
): TemplateProblem | undefined {
  const liquid = format === "html" ? htmlLiquid : nurtureLiquid;
  try {
    liquid.renderSync(liquid.parse(text), templateScope(sampleTemplateContext));
    return undefined;
  } catch (error) {
    return problemOf(error);
  }
}

/**
 * Checks each file of config/templates (parsed and rendered against a sample lead) and returns
 * them by name; a `ConfigError` names the file, line and column of each mistake in every file.
 */
export function compileTemplates(files: readonly { name: string; file: string; text: string }[]): TemplateLibrary {
  const issues: ConfigIssue[] = [];
  for (const { file, text } of files) {
    const problem = templateProblem(text);
    if (problem) issues.push({ file, line: problem.line, column: problem.column, path: "", message: problem.message });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return templateLibrary(files.map(({ name, text }) => ({ name, text })));
}

export function templateLibrary(all: TemplateSource[]): TemplateLibrary {
  const byName = new Map(all.map((template) => [template.name, template]));
  return { all, byName: (name) => byName.get(name) };
}

/** Who and what a message is rendered for. */
export interface TemplateContext {
  lead: Lead;
  /** The lead's owner, when it has one: `owner.name` renders empty otherwise. */
  owner?: { id: string; name: string; email: string; phone?: string };
  unsubscribeUrl: string;
}

export type RenderedEmail = { subject: string; text: string; html?: string };
export type RenderedMessage = RenderedEmail | { text: string };

type ParsedStep =
  | { kind: "email"; subject: Template[]; body: Template[]; format: TemplateFormat }
  | { kind: "sms"; text: Template[] };

/** Parsed steps by sequence digest and step id; a digest is a version, so entries never go stale. */
const parsedSteps = new Map<string, ParsedStep>();
const parsedStepsKept = 2_000;

/**
 * Renders a sending step of a (compiled) sequence for a lead: `{ subject, text, html? }` for an
 * email (`html` when its template is HTML, `text` then its plain-text part), `{ text }` for an SMS.
 */
export function renderStep(sequence: CompiledSequence, stepId: string, context: TemplateContext): RenderedMessage {
  const parsed = parsedStep(sequence, stepId);
  const scope = templateScope(context);
  if (parsed.kind === "sms") return { text: nurtureLiquid.renderSync(parsed.text, scope) as string };
  const subject = singleLine(nurtureLiquid.renderSync(parsed.subject, scope) as string);
  if (parsed.format === "text")
    return { subject, text: (nurtureLiquid.renderSync(parsed.body, scope) as string).trim() };
  const html = htmlLiquid.renderSync(parsed.body, scope) as string;
  return { subject, text: htmlToText(html), html };
}

function parsedStep(sequence: CompiledSequence, stepId: string): ParsedStep {
  const key = `${sequence.digest}\u0000${stepId}`;
  const cached = parsedSteps.get(key);
  if (cached) return cached;
  const step = sequence.steps.find(({ id }) => id === stepId);
  if (!step) throw new Error(`sequence ${sequence.id} has no step "${stepId}"`);
  let parsed: ParsedStep;
  if (step.kind === "email") {
    const format = templateFormat(step.body);
    const liquid = format === "html" ? htmlLiquid : nurtureLiquid;
    parsed = { kind: "email", subject: nurtureLiquid.parse(step.subject), body: liquid.parse(step.body), format };
  } else if (step.kind === "sms") {
    parsed = { kind: "sms", text: nurtureLiquid.parse(step.text) };
  } else {
    throw new Error(`step "${stepId}" of sequence ${sequence.id} sends nothing (${step.kind})`);
  }
  if (parsedSteps.size >= parsedStepsKept) parsedSteps.delete(parsedSteps.keys().next().value as string);
  parsedSteps.set(key, parsed);
  return parsed;
}

/**
 * What templates see: `lead` (its profile fields, timezone included, id, email, phone, custom.<name>, temperature,
 * stage, score), `owner` (id, name, email, phone; absent when the lead has no owner) and
 * `unsubscribe_url`.
 */
function templateScope({ lead, owner, unsubscribeUrl }: TemplateContext): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: lead.id,
    email: lead.email,
    phone: lead.phone,
    custom: lead.custom,
    temperature: lead.qualification?.temperature,
    stage: lead.qualification?.stage,
    score: lead.qualification?.score.total,
  };
  for (const field of profileFields) view[field] = lead[field];
  return { lead: view, owner, unsubscribe_url: unsubscribeUrl };
}

function problemOf(error: unknown): TemplateProblem {
  const token = (error as { token?: { getPosition?: () => [number, number] } }).token;
  const [line, column] = token?.getPosition?.() ?? [1, 1];
  const original = (error as { originalError?: unknown }).originalError;
  const raw = original instanceof Error ? original.message : error instanceof Error ? error.message : String(error);
  const message = raw.replace(/, (?:file:.*, )?line:\d+, col:\d+$/, "");
  return { line, column, message: `Liquid: ${message}` };
}

function singleLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

const entities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

/** The plain-text part of an HTML email: block ends as line breaks, links as `text (url)`, no tags. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, "")
    .replace(/<a\b[^>]*?href\s*=\s*(["'])(.*?)\1[^>]*>([\s\S]*?)<\/a\s*>/gi, (_link, _quote, href: string, label) => {
      const text = label.replace(/<[^>]*>/g, "").trim();
      return text && text !== href ? `${text} (${href})` : href;
    })
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/(p|div|h[1-6]|li|tr|table|ul|ol|blockquote)\s*>/gi, "\n\n")
    .replace(/<li\b[^>]*>/gi, "- ")
    .replace(/<[^>]*>/g, "")
    .replace(/&(#\d+|#x[\da-f]+|[a-z]+);/gi, (entity, name: string) => {
      if (!name.startsWith("#")) return entities[name.toLowerCase()] ?? entity;
      const code = /^#x/i.test(name) ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    })
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n[ \t]+/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
