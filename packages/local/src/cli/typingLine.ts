import type { TypingReport } from '@strata/core/flatten';
import { count } from './format.js';

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

/**
 * How typed a feed's backfill landed, in one line for the summary: the share of its leaves in
 * typed columns (the feed's own and its child tables'), in JSON text and in `_variant`, and its
 * widest sampled record shape. Where leaves in JSON text were extrapolated, the total is `about`.
 *
 * @example
 * ```text
 * webhooks: 99.8% of 604,246 leaves typed (95.8% in its columns, 4.0% in child tables), 0.2% JSON text, 0.0% _variant; widest shape: 9 top-level keys (action, comment, …), 812 leaf paths
 * ```
 *
 * @param typing - the run's `typing.json`
 */
export const typingLine = (typing: TypingReport): string => {
  const { leaves, shares } = typing;
  const [widest] = typing.widestShapes;
  const shape = widest
    ? `; widest shape: ${count(widest.keyCount)} top-level key(s) (${widest.keys.slice(0, 3).join(', ')}${widest.keyCount > 3 ? ', …' : ''}), ${count(widest.leafPaths)} leaf paths`
    : '';
  const about = typing.estimated ? 'about ' : '';
  return `${typing.feed}: ${percent(shares.typedOrChild)} of ${about}${count(leaves.total)} leaves typed (${percent(shares.typed)} in its columns, ${percent(shares.child)} in child tables), ${percent(shares.json)} JSON text, ${percent(shares.variant)} _variant${shape}`;
};
