const DAY_MS = 86_400_000;

/** An ISO 8601 week: the week-numbering year and the week number in it (1 to 53). */
export interface IsoWeek {
  year: number;
  week: number;
}

/**
 * The ISO 8601 week a UTC instant falls in. Weeks start on Monday and belong to the year that
 * holds their Thursday, so 2026-12-31 is in 2026-W53 and 2024-12-30 in 2025-W01.
 *
 * @param instant - any time; only its UTC date counts
 */
export const isoWeekOf = (instant: Date): IsoWeek => {
  const day = Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate());
  const weekday = new Date(day).getUTCDay() || 7;
  const thursday = new Date(day + (4 - weekday) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS / 7) + 1;
  return { year, week };
};

/**
 * The folder a feed's weekly drop lands in: `raw/<feed>/<ISO year>/week<NN>/`.
 *
 * @param feed - the feed's name
 * @param instant - any time in the week
 */
export const weekPrefix = (feed: string, instant: Date): string => {
  const { year, week } = isoWeekOf(instant);
  return `raw/${feed}/${year}/week${String(week).padStart(2, '0')}/`;
};

/**
 * The weekly folder a scheduled sync works on: the last complete ISO week before the scheduled
 * time (a Monday run syncs the week that ended the day before).
 *
 * @param feed - the feed's name
 * @param scheduledTime - when the schedule fired
 */
export const previousWeekPrefix = (feed: string, scheduledTime: Date): string =>
  weekPrefix(feed, new Date(scheduledTime.getTime() - 7 * DAY_MS));
