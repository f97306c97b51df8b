/** Username and email rules, shared by the API schemas (and so by the OpenAPI document). */
import { z } from "zod";
import { USAGE_LIMIT_ACTIONS } from "../../../schema";
import { USAGE_LIMIT_MAX_HOURS } from "../usage";

export const USERNAME_PATTERN = /^[a-z][a-z0-9_-]{1,30}[a-z0-9]$/;

const RESERVED_USERNAMES = new Set(["admin", "administrator", "root", "ozekai", "support", "privacy", "billing", "security", "system", "api", "www", "help"]);

export const normalizeEmail = (email: string) => email.trim().normalize("NFKC").toLowerCase();

export const normalizeUsername = (username: string) => username.trim().normalize("NFKC").toLowerCase();

/** Field rules shared by the API schemas (and so by the OpenAPI document). */
export const usernameField = z
  .string()
  .max(64)
  .transform(normalizeUsername)
  .refine((u) => USERNAME_PATTERN.test(u), "3–32 characters: letters, digits, '-' or '_', starting with a letter")
  .refine((u) => !RESERVED_USERNAMES.has(u), "This username is reserved");

export const emailField = z.string().max(254).transform(normalizeEmail).pipe(z.email("Enter a valid email address"));

export const usageLimitField = z.number().int().min(1).max(USAGE_LIMIT_MAX_HOURS).nullable();

export const usageLimitActionField = z.enum(USAGE_LIMIT_ACTIONS);
