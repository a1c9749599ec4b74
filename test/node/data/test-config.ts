/**
 * A small valid config for data-layer tests: two numeric features, one categorical, target `churned`.
 * Tests patch only the parts they exercise.
 */
import { parseConfig, type Config } from "../../../trainer/config";

export interface ConfigPatch {
  data?: Record<string, unknown>;
  features?: Record<string, unknown>;
  training?: Record<string, unknown>;
}

export function testConfig(patch: ConfigPatch = {}): Config {
  return parseConfig({
    mlflow: { model_name: "test-model" },
    data: { train_path: "data.csv", target_column: "churned", ...patch.data },
    features: { numeric: ["age", "income"], categorical: ["plan"], ...patch.features },
    training: { val_size: 0.2, random_state: 7, ...patch.training },
    model: { type: "logistic_regression" },
    output: { label: "churn" },
  });
}
