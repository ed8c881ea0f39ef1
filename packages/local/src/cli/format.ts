/**
 * A count as the CLI prints it: `12,345`.
 *
 * @param n - the count (a stage's output field, so possibly missing)
 */
export const count = (n: unknown): string => Number(n).toLocaleString('en-US');

/**
 * A byte count in the unit that reads best: `512 KB`, `16.0 MB`, `1.0 GB`.
 *
 * @param bytes - the count
 */
export const formatBytes = (bytes: number): string =>
  bytes >= 1024 ** 3
    ? `${(bytes / 1024 ** 3).toFixed(1)} GB`
    : bytes >= 1024 ** 2
      ? `${(bytes / 1024 ** 2).toFixed(1)} MB`
      : `${Math.round(bytes / 1024)} KB`;

/**
 * `64MB`, `1GB`, `500KB` or plain bytes, as `--size` takes them; undefined when it is none of these.
 *
 * @param text - the option's value
 */
export const parseSize = (text: string): number | undefined => {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[
    (match[2] ?? 'B').toUpperCase() as 'B'
  ];
  return Math.round(Number(match[1]) * unit);
};

/**
 * The failure's own message, unwrapped from the Lambda error envelope when there is one.
 *
 * @param cause - an execution's `Cause`
 */
export const failureReason = (cause: string): string => {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    return parsed.errorMessage ?? cause;
  } catch {
    return cause;
  }
};
