import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfig } from "../../trainer/config";

const base = () => parseYaml(readFileSync("config.yaml", "utf8")) as Record<string, Record<string, unknown>>;

function issuesOf(doc: unknown): { path: string; message: string }[] {
  try {
    parseConfig(doc);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error("config was accepted");
}

describe("config.yaml", () => {
  it("the shipped config is valid, with the documented keys and defaults", () => {
    const { config } = loadConfig("config.yaml");
    expect(config.mlflow.model_name).toBe("churn-classifier");
    expect(config.features.numeric).toEqual(["tenure", "monthly_charges", "total_charges", "num_products"]);
    expect(config.training).toMatchObject({ val_size: 0.2, random_state: 42, stratify: true });
    expect(config.model).toMatchObject({ type: "random_forest", n_estimators: 200, max_depth: 8, max_features: "sqrt", bootstrap: true });
    expect(config.output.risk_tiers).toEqual({ HIGH: 0.75, MEDIUM: 0.45, LOW: 0 });
  });

  it("defaults data.na_values to pandas' read_csv default markers", () => {
    const { config } = loadConfig("config.yaml");
    expect([...config.data.na_values].sort()).toEqual(
      ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"].sort(),
    );
  });

  it("names a misspelt key, wherever it is", () => {
    const doc = base();
    doc.training = { ...doc.training, val_sise: 0.2 };
    doc.model = { ...doc.model, n_estimator: 10 };
    expect(issuesOf(doc).map((i) => i.path).sort()).toEqual(["model.n_estimator", "training.val_sise"]);
  });

  it("accepts and drops the retired mlflow.experiment_name; a misspelling of it is still an unknown key", () => {
    const doc = base();
    expect(doc.mlflow).not.toHaveProperty("experiment_name");
    doc.mlflow = { ...doc.mlflow, experiment_name: "churn-prediction" };
    const config = parseConfig(doc);
    expect(config.mlflow).toEqual({ model_name: "churn-classifier", description: expect.any(String) });
    expect(config.mlflow).not.toHaveProperty("experiment_name");
    doc.mlflow = { ...doc.mlflow, experiment_nmae: "churn-prediction" };
    expect(issuesOf(doc)).toEqual([{ path: "mlflow.experiment_nmae", message: "unknown key" }]);
  });

  it("names a bad value and explains it", () => {
    const doc = base();
    doc.training = { ...doc.training, val_size: 1.5 };
    doc.model = { ...doc.model, type: "svm" };
    const paths = issuesOf(doc).map((i) => i.path);
    expect(paths).toContain("training.val_size");
    expect(paths).toContain("model.type");
  });

  it("rejects constraints on unlisted features, the target as a feature, and tiers without a floor", () => {
    const doc = base();
    doc.features = { ...doc.features, columns: { ...(doc.features!.columns as object), tenur: { min: 0 } }, numeric: ["tenure", "churned"] };
    doc.output = { ...doc.output, risk_tiers: { HIGH: 0.7 } };
    const messages = issuesOf(doc).map((i) => `${i.path}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        "features.columns.tenur: tenur is not a listed feature",
        "features: the target churned cannot be a feature",
        "output.risk_tiers: one tier must start at 0",
      ]),
    );
  });

  it("refuses a feature named after an Object.prototype member, naming the column", () => {
    const doc = base();
    doc.features = { ...doc.features, numeric: ["tenure", "constructor", "valueOf"], categorical: ["toString", "__proto__", "hasOwnProperty"], columns: {} };
    const reason = "the name is a property of every JavaScript object (Object.prototype), which request validation would read; rename the column";
    expect(issuesOf(doc)).toEqual([
      { path: "features.numeric.1", message: `column "constructor" cannot be a feature: ${reason}` },
      { path: "features.numeric.2", message: `column "valueOf" cannot be a feature: ${reason}` },
      { path: "features.categorical.0", message: `column "toString" cannot be a feature: ${reason}` },
      { path: "features.categorical.1", message: `column "__proto__" cannot be a feature: ${reason}` },
      { path: "features.categorical.2", message: `column "hasOwnProperty" cannot be a feature: ${reason}` },
    ]);
  });

  it("matches wrangler.toml: /predict serves the model config.yaml trains", () => {
    const wrangler = readFileSync("wrangler.toml", "utf8");
    const defaultModel = /^DEFAULT_MODEL\s*=\s*"([^"]+)"/m.exec(wrangler)?.[1];
    expect(defaultModel).toBe(loadConfig("config.yaml").config.mlflow.model_name);
  });
});
