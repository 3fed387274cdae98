// Reads the dashboard and the rules as data, for the tests that check them offline (promtool,
// metric names) and against a real Prometheus (every panel returns data).
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";

export const dashboardFile = path.join(import.meta.dirname, "grafana-dashboard.json");
export const rulesFile = path.join(import.meta.dirname, "prometheus-rules.yaml");
export const rulesTestFile = path.join(import.meta.dirname, "prometheus-rules.test.yaml");

interface Panel {
  id?: number;
  title?: string;
  type?: string;
  datasource?: { type?: string; uid?: string };
  targets?: { refId?: string; expr?: string; datasource?: { type?: string; uid?: string } }[];
  /** A collapsed row keeps its panels here. */
  panels?: Panel[];
}

export interface TemplateVariable {
  name: string;
  type: string;
  query?: unknown;
  includeAll?: boolean;
  allValue?: string;
  current?: { value?: string | string[] };
}

export interface Dashboard {
  title: string;
  uid: string;
  panels: Panel[];
  templating: { list: TemplateVariable[] };
}

export interface PanelQuery {
  /** "<panel title> / <refId>", for messages. */
  where: string;
  panel: Panel;
  expr: string;
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(dashboardFile, "utf8")) as Dashboard;
}

/** Every panel, rows' children included (a collapsed row nests them). */
export function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

export function dashboardQueries(dashboard: Dashboard): PanelQuery[] {
  return allPanels(dashboard.panels).flatMap((panel) =>
    (panel.targets ?? []).map((t) => ({
      where: `${panel.title ?? `panel ${panel.id}`} / ${t.refId ?? "?"}`,
      panel,
      expr: t.expr ?? "",
    })),
  );
}

/**
 * Values for Grafana's own range variables when a query runs outside Grafana, against a
 * Prometheus that scrapes every second or so.
 */
export const grafanaBuiltins: Readonly<Record<string, string>> = {
  __rate_interval: "1m",
  __interval: "15s",
  __range: "1h",
};

/** PromQL's `$1` in label_replace is not a variable: names start with a letter or underscore. */
const variablePattern = /\$\{([A-Za-z_]\w*)(?::\w+)?\}|\$([A-Za-z_]\w*)/g;

export function variablesIn(expr: string): string[] {
  return [...expr.matchAll(variablePattern)].map((m) => m[1] ?? m[2]!);
}

/**
 * What Grafana would put in for a variable with its default selection: "All" becomes the
 * variable's allValue, otherwise its current value.
 */
export function defaultValue(v: TemplateVariable): string {
  if (v.includeAll && v.allValue) {
    const current = v.current?.value;
    const all =
      current === undefined || current === "$__all" || (Array.isArray(current) && current.includes("$__all"));
    if (all) return v.allValue;
  }
  const current = v.current?.value;
  const value = Array.isArray(current) ? current[0] : current;
  if (!value) throw new Error(`template variable $${v.name} has no default value`);
  return value;
}

export function substituteVariables(expr: string, variables: readonly TemplateVariable[]): string {
  return expr.replace(variablePattern, (_, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare!;
    if (name in grafanaBuiltins) return grafanaBuiltins[name]!;
    const v = variables.find((x) => x.name === name);
    if (!v) throw new Error(`unknown template variable $${name} in ${expr}`);
    return defaultValue(v);
  });
}

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: Rule[];
}

export function loadRules(): RuleGroup[] {
  return (parse(readFileSync(rulesFile, "utf8")) as { groups: RuleGroup[] }).groups;
}

const notMetrics = new Set([
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "inf",
  "nan",
  "atan2",
]);

/**
 * The metric names a PromQL expression selects. Not a parser: it drops strings, label matchers,
 * ranges and grouping lists, then keeps the identifiers that are not calls or keywords.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w:.])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()/g)) {
    if (!notMetrics.has(m[1]!.toLowerCase())) names.add(m[1]!);
  }
  return [...names].sort();
}
