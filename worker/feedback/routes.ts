/** POST /feedback: ground-truth labels joined to the predictions they judge. */
import { Hono } from "hono";
import type { AppEnv } from "../http/context";

export const feedbackRoutes = new Hono<AppEnv>();
