/**
 * Booster features -> the config's features. A booster column is, in this order of precedence:
 * what the --mapping file says; a numeric feature of the same name; or the one-hot column
 * `<feature>_<category>` of a categorical feature (pandas get_dummies' default naming; the longest
 * matching feature name wins). A booster column that maps to nothing, a config feature no booster
 * column feeds, and a mapping entry naming either side wrongly are errors naming them.
 *
 * The design matrix the trees read (trainer/onnx/export.ts, missing: tree_default): numeric feature
 * i at columns i (missing -> -FLT_MAX) and n + i (missing -> +FLT_MAX), then each categorical
 * feature's one-hot block, its categories in booster column order.
 */
import { z } from "zod";
import { normalizeCategory } from "../../worker/contract/category-value";
import { UsageError } from "../user-errors";

export type BoosterColumn =
  | { kind: "numeric"; feature: string; /** Position among the numeric features. */ index: number }
  | { kind: "onehot"; feature: string; category: string; /** Design column. */ column: number };

export interface BoosterLayout {
  numeric: string[];
  categorical: { name: string; categories: string[] }[];
  /** One per booster feature, in booster order. */
  columns: BoosterColumn[];
  /** Design matrix width: 2 per numeric feature plus every category. */
  width: number;
}

export const mappingSchema = z.record(
  z.string(),
  z.union([z.string().min(1), z.object({ feature: z.string().min(1), category: z.string() }).strict()]),
);
/** --mapping: booster column -> numeric feature name, or { feature, category } for a one-hot column. */
export type FeatureMapping = z.infer<typeof mappingSchema>;

export interface MapFeaturesInput {
  boosterFeatures: readonly string[];
  numeric: readonly string[];
  categorical: readonly string[];
  mapping?: FeatureMapping;
  /** How messages name the config and the mapping file. */
  configName: string;
  mappingName?: string;
}

type Target = { kind: "numeric"; feature: string } | { kind: "onehot"; feature: string; category: string };

export function mapBoosterFeatures(input: MapFeaturesInput): BoosterLayout {
  const { boosterFeatures, numeric, categorical, mapping = {}, configName } = input;
  const mappingName = input.mappingName ?? "the mapping";
  const numericSet = new Set(numeric);
  const categoricalSet = new Set(categorical);
  const boosterSet = new Set(boosterFeatures);
  for (const column of Object.keys(mapping))
    if (!boosterSet.has(column)) throw new UsageError(`${mappingName} maps ${JSON.stringify(column)}, which is not a booster feature (the booster has ${list(boosterFeatures)})`);

  const targets = boosterFeatures.map((column): Target => {
    const mapped = mapping[column];
    if (typeof mapped === "string") {
      if (!numericSet.has(mapped))
        throw new UsageError(`${mappingName} maps booster feature ${column} to ${mapped}, which is not a numeric feature of ${configName} (numeric: ${list(numeric)})`);
      return { kind: "numeric", feature: mapped };
    }
    if (mapped) {
      if (!categoricalSet.has(mapped.feature))
        throw new UsageError(`${mappingName} maps booster feature ${column} to ${mapped.feature}, which is not a categorical feature of ${configName} (categorical: ${list(categorical)})`);
      return { kind: "onehot", feature: mapped.feature, category: category(mapped.category, column, mapped.feature) };
    }
    if (numericSet.has(column)) return { kind: "numeric", feature: column };
    if (categoricalSet.has(column))
      throw new UsageError(`booster feature ${column} is one number column, but ${configName} declares ${column} categorical: the importer expects one-hot columns ${column}_<category> (pandas get_dummies), or a --mapping`);
    const owner = categorical.filter((name) => column.startsWith(`${name}_`)).sort((a, b) => b.length - a.length)[0];
    if (owner === undefined)
      throw new UsageError(
        `booster feature ${column} maps to no feature of ${configName}: it is not a numeric feature (${list(numeric)}) nor a one-hot column <feature>_<category> of a categorical one (${list(categorical)}); declare it in the config or map it with --mapping`,
      );
    return { kind: "onehot", feature: owner, category: category(column.slice(owner.length + 1), column, owner) };
  });

  const fedBy = new Map<string, string>();
  for (const [i, target] of targets.entries()) {
    const key = target.kind === "numeric" ? target.feature : `${target.feature}\u0000${target.category}`;
    const previous = fedBy.get(key);
    const what = target.kind === "numeric" ? `numeric feature ${target.feature}` : `${target.feature} = ${JSON.stringify(target.category)}`;
    if (previous !== undefined) throw new UsageError(`booster features ${previous} and ${boosterFeatures[i]} both map to ${what}`);
    fedBy.set(key, boosterFeatures[i]!);
  }
  for (const name of numeric)
    if (!fedBy.has(name)) throw new UsageError(`numeric feature ${name} of ${configName} is not a booster feature (the booster has ${list(boosterFeatures)}); remove it from the config or map a booster column to it`);
  const categoriesOf = new Map(categorical.map((name) => [name, [] as string[]]));
  for (const target of targets) if (target.kind === "onehot") categoriesOf.get(target.feature)!.push(target.category);
  for (const [name, categories] of categoriesOf)
    if (categories.length === 0)
      throw new UsageError(`categorical feature ${name} of ${configName} has no one-hot column ${name}_<category> in the booster (the booster has ${list(boosterFeatures)}); remove it from the config or map booster columns to it`);

  const n = numeric.length;
  const offsets = new Map<string, number>();
  let offset = 2 * n;
  for (const name of categorical) {
    offsets.set(name, offset);
    offset += categoriesOf.get(name)!.length;
  }
  const columns = targets.map((target): BoosterColumn =>
    target.kind === "numeric"
      ? { kind: "numeric", feature: target.feature, index: numeric.indexOf(target.feature) }
      : { ...target, column: offsets.get(target.feature)! + categoriesOf.get(target.feature)!.indexOf(target.category) },
  );
  return { numeric: [...numeric], categorical: categorical.map((name) => ({ name, categories: categoriesOf.get(name)! })), columns, width: offset };
}

function category(value: string, column: string, feature: string): string {
  const normalized = normalizeCategory(value);
  if (normalized === "") throw new UsageError(`booster feature ${column} is a one-hot column of ${feature} with an empty category; a blank value means missing here and encodes as all zeros`);
  return normalized;
}

function list(names: readonly string[]): string {
  const shown = names.slice(0, 12).join(", ");
  return names.length > 12 ? `[${shown}, … ${names.length - 12} more]` : `[${shown}]`;
}
