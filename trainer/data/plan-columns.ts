/**
 * Matches a CSV header against the config: where each feature and the target sit, and how each
 * feature's missing cells are handled. Everything wrong with the header is reported at once, and a
 * policy that cannot apply to its column (a median of strings) is a config error naming its key.
 */
import { normalizeCategory } from "../../worker/contract/category-value";
import { ConfigError, type ColumnSpec, type Config, type MissingPolicy } from "../config";
import { DataError } from "./data-error";

export type DatasetSchema = Pick<Config, "data" | "features">;

export interface PlannedColumn {
  name: string;
  kind: "numeric" | "categorical";
  /** Position in the CSV record. */
  index: number;
  policy: MissingPolicy;
  /** The value a missing cell becomes under a constant policy. */
  constant?: number | string;
  spec: ColumnSpec;
}

export interface ColumnPlan {
  columns: PlannedColumn[];
  targetIndex: number;
  ignored: string[];
}

export function planColumns(header: string[], schema: DatasetSchema, source: string): ColumnPlan {
  const { features, data } = schema;
  const names = header.map((h) => h.trim());
  const required = [...features.numeric, ...features.categorical, data.target_column];

  const problems: string[] = [];
  const missing = required.filter((name) => !names.includes(name));
  if (missing.length) {
    const hints = missing.map((name) => {
      const near = names.find((h) => h.toLowerCase() === name.toLowerCase());
      return near === undefined ? name : `${name} (the file has ${JSON.stringify(near)})`;
    });
    problems.push(`missing column${missing.length === 1 ? "" : "s"}: ${hints.join(", ")}`);
  }
  for (const name of required)
    if (names.indexOf(name) !== names.lastIndexOf(name)) problems.push(`column ${name} appears more than once in the header`);
  if (problems.length) throw DataError.fromIssues(source, problems);

  const configIssues: { path: string; message: string }[] = [];
  const plan = (name: string, kind: PlannedColumn["kind"]): PlannedColumn => {
    const spec = features.columns[name] ?? {};
    const policy: MissingPolicy = spec.missing ?? (kind === "numeric" ? "median" : "drop");
    const path = `features.columns.${name}.missing`;
    let constant: number | string | undefined;
    if (typeof policy === "object") {
      constant = kind === "numeric" ? policy.constant : normalizeCategory(String(policy.constant));
      if (kind === "numeric" && typeof policy.constant !== "number")
        configIssues.push({ path, message: `numeric column ${name} needs a numeric constant, got ${JSON.stringify(policy.constant)}` });
    } else if (policy === "median" && kind === "categorical") {
      configIssues.push({ path, message: `categorical column ${name} cannot be imputed with a median; use drop, error or { constant }` });
    }
    return { name, kind, index: names.indexOf(name), policy, constant, spec };
  };
  const columns = [
    ...features.numeric.map((name) => plan(name, "numeric")),
    ...features.categorical.map((name) => plan(name, "categorical")),
  ];
  if (configIssues.length)
    throw new ConfigError(`config is invalid:\n${configIssues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`, configIssues);

  const used = new Set(required);
  return { columns, targetIndex: names.indexOf(data.target_column), ignored: names.filter((n) => !used.has(n)) };
}
