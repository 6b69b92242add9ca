import { describe, expect, it } from 'vitest';

import { pathAfterLogin } from './redirect';

describe('pathAfterLogin', () => {
  it.each([
    ['no state', null, '/'],
    ['state without from', { other: 1 }, '/'],
    ['non-string from', { from: 42 }, '/'],
    ['relative path', { from: 'boards' }, '/'],
    ['protocol-relative URL', { from: '//evil.example/' }, '/'],
    ['absolute URL', { from: 'https://evil.example/' }, '/'],
    ['login page itself', { from: '/login' }, '/'],
    ['app path with query', { from: '/boards/3?tab=tasks#t1' }, '/boards/3?tab=tasks#t1'],
    ['root path', { from: '/' }, '/'],
  ])('handles %s', (_case, state, expected) => {
    expect(pathAfterLogin(state)).toBe(expected);
  });
});
