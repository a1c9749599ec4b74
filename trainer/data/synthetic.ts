/**
 * A seeded, realistic customer-churn dataset with the seven features of the default churn model, for demos, tests
 * and monitoring drills. Shapes follow the public telco churn data: month-to-month contracts are
 * common and churn most, churn falls with tenure, fiber and electronic-check customers churn more,
 * total charges are tenure times monthly charges, and new customers have a blank total. Labels are
 * Bernoulli draws from a known logistic model, so a good model reaches ROC AUC in the mid 0.80s,
 * not 0.99. Each purpose draws from its own Rng fork, so messy cells or drift never shift the
 * other columns.
 */
import { Rng } from "../random";

export const CHURN_COLUMNS = [
  "tenure",
  "monthly_charges",
  "total_charges",
  "num_products",
  "contract_type",
  "payment_method",
  "internet_service",
  "churned",
] as const;

export const CONTRACT_TYPES = ["Month-to-month", "One year", "Two year"] as const;
export const PAYMENT_METHODS = ["Electronic check", "Mailed check", "Bank transfer (automatic)", "Credit card (automatic)"] as const;
export const INTERNET_SERVICES = ["DSL", "Fiber optic", "No"] as const;

export interface ChurnCustomer {
  tenure: number;
  monthly_charges: number;
  total_charges: number;
  num_products: number;
  contract_type: string;
  payment_method: string;
  internet_service: string;
}

/** A CSV row: charges may be messy strings (" ", "n/a") when asked for. */
export interface ChurnRow extends Omit<ChurnCustomer, "monthly_charges" | "total_charges"> {
  monthly_charges: number | string;
  total_charges: number | string;
  churned: 0 | 1;
}

/** Numeric: value * scale + shift. Categorical: the named categories' base weights are multiplied. */
export interface FeatureDrift {
  shift?: number;
  scale?: number;
  reweight?: Record<string, number>;
}
export type DriftSpec = Partial<Record<keyof ChurnCustomer, FeatureDrift>>;

export interface GenerateChurnOptions {
  rows: number;
  seed: number | string;
  /** Blank total_charges for tenure-0 customers and an occasional non-numeric one. */
  messy?: boolean;
  drift?: DriftSpec;
}

const CONTRACT_WEIGHTS = [0.55, 0.21, 0.24];
const INTERNET_WEIGHTS = [0.34, 0.44, 0.22];
const PRODUCT_WEIGHTS = [0.28, 0.3, 0.2, 0.12, 0.05, 0.02, 0.01, 0.01, 0.005, 0.005];
/** Payment method by contract: month-to-month customers pay by electronic check far more often. */
const PAYMENT_WEIGHTS: Record<string, number[]> = {
  "Month-to-month": [0.48, 0.22, 0.15, 0.15],
  "One year": [0.18, 0.22, 0.3, 0.3],
  "Two year": [0.1, 0.22, 0.34, 0.34],
};
const NEW_CUSTOMER_RATE = 0.01;
const NON_NUMERIC_RATE = 0.003;

/** Ground truth P(churn | customer) of the generator. */
export function churnProbability(c: ChurnCustomer): number {
  const contract = c.contract_type === "Month-to-month" ? 1.0 : c.contract_type === "One year" ? -0.4 : -1.5;
  const internet = c.internet_service === "Fiber optic" ? 0.6 : c.internet_service === "No" ? -0.5 : 0;
  const z =
    -0.1 +
    contract -
    0.65 * Math.log1p(c.tenure) +
    0.018 * (c.monthly_charges - 65) +
    internet +
    (c.payment_method === "Electronic check" ? 0.5 : 0) -
    0.12 * (c.num_products - 2);
  return 1 / (1 + Math.exp(-z));
}

export function generateChurnRows({ rows, seed, messy = false, drift = {} }: GenerateChurnOptions): ChurnRow[] {
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`rows must be a whole number >= 0, got ${rows}`);
  checkDrift(drift);
  const root = new Rng(seed);
  const rng = {
    contract: root.fork("contract"),
    tenure: root.fork("tenure"),
    internet: root.fork("internet"),
    products: root.fork("products"),
    charges: root.fork("charges"),
    payment: root.fork("payment"),
    churn: root.fork("churn"),
    messy: root.fork("messy"),
  };
  const contractWeights = reweight(CONTRACT_TYPES, CONTRACT_WEIGHTS, drift.contract_type);
  const internetWeights = reweight(INTERNET_SERVICES, INTERNET_WEIGHTS, drift.internet_service);
  const paymentWeights = Object.fromEntries(
    Object.entries(PAYMENT_WEIGHTS).map(([k, w]) => [k, reweight(PAYMENT_METHODS, w, drift.payment_method)]),
  );
  const out: ChurnRow[] = [];
  for (let i = 0; i < rows; i++) {
    const contract_type = CONTRACT_TYPES[rng.contract.choice(contractWeights)]!;
    const tenure = Math.max(0, Math.round(applyShift(drawTenure(rng.tenure, contract_type), drift.tenure)));
    const internet_service = INTERNET_SERVICES[rng.internet.choice(internetWeights)]!;
    const products = 1 + rng.products.choice(PRODUCT_WEIGHTS);
    const num_products = Math.min(10, Math.max(1, Math.round(applyShift(products, drift.num_products))));
    const monthly_charges = cents(applyShift(drawMonthly(rng.charges, internet_service, num_products), drift.monthly_charges));
    const total = tenure * monthly_charges * (1 + rng.charges.normal(0, 0.04));
    const total_charges = cents(Math.max(0, applyShift(total, drift.total_charges)));
    const payment_method = PAYMENT_METHODS[rng.payment.choice(paymentWeights[contract_type]!)]!;
    const customer = { tenure, monthly_charges, total_charges, num_products, contract_type, payment_method, internet_service };
    const churned = rng.churn.next() < churnProbability(customer) ? 1 : 0;
    const row: ChurnRow = { ...customer, churned };
    // Drawn on every row, messy or not, so the clean and messy files differ only in these cells.
    const garble = rng.messy.next() < NON_NUMERIC_RATE;
    if (messy && tenure === 0) row.total_charges = " ";
    else if (messy && garble) row.total_charges = "n/a";
    out.push(row);
  }
  return out;
}

/** RFC 4180 CSV with a header, "\n" line ends and a final newline; column order from the first row. */
export function toCsv(rows: readonly object[], columns?: readonly string[]): string {
  const header = columns ?? (rows[0] ? Object.keys(rows[0]) : [...CHURN_COLUMNS]);
  const lines = [header.map(csvField).join(",")];
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    lines.push(header.map((name) => csvField(record[name] ?? "")).join(","));
  }
  return `${lines.join("\n")}\n`;
}

function csvField(value: unknown): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Month-to-month customers are mostly recent; long contracts skew to long tenure. */
function drawTenure(rng: Rng, contract: string): number {
  if (rng.next() < NEW_CUSTOMER_RATE) return 0;
  const months =
    contract === "Month-to-month"
      ? 1 - Math.log(1 - rng.next()) * 16
      : contract === "One year"
        ? rng.normal(40, 16)
        : rng.normal(56, 14);
  return Math.min(72, Math.max(1, Math.round(months)));
}

function drawMonthly(rng: Rng, internet: string, products: number): number {
  const base = internet === "No" ? rng.normal(20, 1.5) : internet === "DSL" ? rng.normal(48, 8) : rng.normal(78, 10);
  return Math.min(120, Math.max(18, base + 6 * (products - 1)));
}

function applyShift(value: number, drift: FeatureDrift | undefined): number {
  return drift ? value * (drift.scale ?? 1) + (drift.shift ?? 0) : value;
}

function reweight(categories: readonly string[], weights: readonly number[], drift: FeatureDrift | undefined): number[] {
  return categories.map((c, i) => weights[i]! * (drift?.reweight?.[c] ?? 1));
}

function cents(value: number): number {
  return Math.round(value * 100) / 100;
}

function checkDrift(drift: DriftSpec): void {
  const categories: Record<string, readonly string[]> = {
    contract_type: CONTRACT_TYPES,
    payment_method: PAYMENT_METHODS,
    internet_service: INTERNET_SERVICES,
  };
  const numeric = ["tenure", "monthly_charges", "total_charges", "num_products"];
  for (const [name, spec] of Object.entries(drift)) {
    if (!spec) continue;
    const known = categories[name];
    if (!known && !numeric.includes(name)) throw new Error(`drift: unknown feature ${name}`);
    if (known && (spec.shift !== undefined || spec.scale !== undefined))
      throw new Error(`drift: ${name} is categorical; use reweight, not shift or scale`);
    if (!known && spec.reweight) throw new Error(`drift: ${name} is numeric; use shift or scale, not reweight`);
    for (const [category, weight] of Object.entries(spec.reweight ?? {})) {
      if (!known?.includes(category)) throw new Error(`drift: ${name} has no category ${JSON.stringify(category)}`);
      if (!(weight >= 0)) throw new Error(`drift: ${name}.${category} weight must be >= 0, got ${weight}`);
    }
  }
}
