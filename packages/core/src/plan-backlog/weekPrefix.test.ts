import { describe, expect, it } from 'vitest';
import { isoWeekOf, previousWeekPrefix, weekPrefix } from './weekPrefix.js';

describe('Function: isoWeekOf', () => {
  // Checked against Python's date.isocalendar().
  it.each([
    ['2026-12-31T23:59:59Z', { year: 2026, week: 53 }],
    ['2027-01-03T12:00:00Z', { year: 2026, week: 53 }],
    ['2027-01-04T00:00:00Z', { year: 2027, week: 1 }],
    ['2024-12-30T08:00:00Z', { year: 2025, week: 1 }],
    ['2023-01-01T00:00:00Z', { year: 2022, week: 52 }],
    ['2023-01-28T10:00:00Z', { year: 2023, week: 4 }],
  ])('puts %s in ISO week %o', (instant, expected) => {
    // Act
    const week = isoWeekOf(new Date(instant));

    // Assess
    expect(week).toEqual(expected);
  });
});

describe('Function: weekPrefix', () => {
  it('names the weekly folder with a two-digit week number', () => {
    // Act
    const prefix = weekPrefix('clicks', new Date('2026-01-07T00:00:00Z'));

    // Assess
    expect(prefix).toBe('raw/clicks/2026/week02/');
  });
});

describe('Function: previousWeekPrefix', () => {
  it.each([
    // 2026 starts on a Thursday, so it has 53 ISO weeks.
    ['2027-01-04T02:00:00Z', 'raw/clicks/2026/week53/'],
    // 2020 is a leap year starting on a Wednesday: 53 weeks too.
    ['2021-01-04T02:00:00Z', 'raw/clicks/2020/week53/'],
    // The week of 2025-12-29 holds 2026's first Thursday, so it is 2026-W01.
    ['2026-01-05T02:00:00Z', 'raw/clicks/2026/week01/'],
    // A Sunday run still belongs to its own week: the previous one is W52.
    ['2027-01-03T23:59:59Z', 'raw/clicks/2026/week52/'],
    ['2023-01-30T02:00:00Z', 'raw/clicks/2023/week04/'],
  ])('syncs the week before %s: %s', (scheduledTime, expected) => {
    // Act
    const prefix = previousWeekPrefix('clicks', new Date(scheduledTime));

    // Assess
    expect(prefix).toBe(expected);
  });
});
