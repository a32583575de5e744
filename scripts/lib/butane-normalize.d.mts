export function normalizeIgnition(value: unknown): unknown;
