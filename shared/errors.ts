/**
 * The one error shape (`{"error": {"code", "message", "field"?}}`) and how zod issues become it.
 * Shared so that the edge and the node name the offending field the same way.
 */
import type { z } from 'zod';

export interface ApiErrorBody {
  error: { code: string; message: string; field?: string };
}

export function errorBody(code: string, message: string, field?: string): ApiErrorBody {
  return { error: field ? { code, message, field } : { code, message } };
}

/** The first zod issue as `field: message`, e.g. `top_k: Too big: expected number to be <=100`. */
export function describeZodError(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0];
  if (!issue) return { field: '', message: 'invalid body' };
  const field = issue.path.map(String).join('.');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
  return { field, message: field ? `${field}: ${message}` : message };
}
